using System.Data.Common;
using System.Threading.Channels;
using Livechat.Api;
using Microsoft.Data.Sqlite;

namespace Livechat.Data;

/// <summary>
/// Group commit for SQLite. SQLite has one writer, and with <c>synchronous=FULL</c> every commit waits for the
/// disk, so one transaction per request caps the service at the disk's sync rate however fast the rest is.
/// Here writes queue up and one loop runs them in batches: one <c>BEGIN IMMEDIATE</c>, each write in its own
/// savepoint (a write that fails rolls back alone, and its caller gets the exception), one <c>COMMIT</c>, one
/// sync for the whole batch. A write's task completes only after the batch committed, so a 201 still means
/// "on disk"; after-commit hooks run in batch order, which is commit order, so pushes keep the session order.
/// Under light load a batch is one write and nothing waits for company.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxBatch = 128;
    private readonly Channel<Write> queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<CancellationToken, Task<SqliteConnection>> open;
    private readonly TimeProvider time;
    private readonly Task loop;
    private SqliteConnection? connection;

    public SqliteWriter(Func<CancellationToken, Task<SqliteConnection>> open, TimeProvider time)
    {
        this.open = open;
        this.time = time;
        loop = Task.Run(RunAsync);
    }

    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, IdempotencyClaim? claim, Action<T>? afterCommit, CancellationToken cancellationToken)
    {
        var write = new Write<T>(work, claim, afterCommit, cancellationToken);
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(write), this);
        try
        {
            // A request that is cancelled (a timeout answers 503 on time) stops waiting while its write is
            // still queued, and the writer skips it...
            return await write.Completion.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (!write.TryAbandon())
        {
            // ...but a write the writer already started runs to its end, and its caller gets the outcome, late
            // rather than never: a committed write must not be answered as if it had not happened.
            return await write.Completion.Task;
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<Write>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var next)) batch.Add(next);
            await RunBatchAsync(batch);
        }
    }

    private async Task RunBatchAsync(List<Write> batch)
    {
        var done = new List<Write>(batch.Count);
        try
        {
            connection ??= await open(CancellationToken.None);
            // IMMEDIATE takes the write lock up front, so a read-then-write never fails half-way.
            await using var transaction = connection.BeginTransaction(deferred: false);
            for (var i = 0; i < batch.Count; i++)
            {
                var write = batch[i];
                if (!write.TryStart()) continue; // its caller gave up while it was queued
                var savepoint = "w" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await transaction.SaveAsync(savepoint);
                IdempotencyClaim.Current = write.Claim;
                try
                {
                    if (write.Claim is not null) await write.Claim.ClaimAsync(connection, transaction, time.Now(), write.Cancellation);
                    await write.RunAsync(connection, transaction);
                    await transaction.ReleaseAsync(savepoint);
                    done.Add(write);
                }
                catch (Exception e)
                {
                    // This write alone is undone; the batch goes on.
                    await transaction.RollbackAsync(savepoint);
                    await transaction.ReleaseAsync(savepoint);
                    write.Fail(e);
                }
                finally
                {
                    IdempotencyClaim.Current = null;
                }
            }
            await transaction.CommitAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            // The batch as a whole failed (no connection, no lock, a savepoint or the commit): none of it is
            // stored, every caller hears so (completing an already failed write again changes nothing), and the
            // next batch starts on a fresh connection.
            await ResetConnectionAsync();
            foreach (var write in batch) write.Fail(e);
            return;
        }
        foreach (var write in done) write.Succeed();
    }

    private async Task ResetConnectionAsync()
    {
        try
        {
            if (connection is not null) await connection.DisposeAsync();
        }
        catch (SqliteException)
        {
            // A connection that broke may fail to close too; it is dropped either way.
        }
        connection = null;
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await loop;
        await ResetConnectionAsync();
    }

    private abstract class Write(IdempotencyClaim? claim, CancellationToken cancellation)
    {
        private const int Queued = 0, Started = 1, Abandoned = 2;
        private int state;

        public IdempotencyClaim? Claim { get; } = claim;
        public CancellationToken Cancellation { get; } = cancellation;

        /// <summary>The writer takes the write; false when its caller abandoned it first.</summary>
        public bool TryStart() => Interlocked.CompareExchange(ref state, Started, Queued) == Queued;

        /// <summary>The caller gives up; false when the writer already started it.</summary>
        public bool TryAbandon() => Interlocked.CompareExchange(ref state, Abandoned, Queued) == Queued;

        public abstract Task RunAsync(DbConnection connection, DbTransaction transaction);

        /// <summary>After the commit: marks the claim, runs the after-commit hook, completes the caller.</summary>
        public abstract void Succeed();

        public abstract void Fail(Exception exception);
    }

    private sealed class Write<T>(Func<DbConnection, DbTransaction, Task<T>> work, IdempotencyClaim? claim, Action<T>? afterCommit, CancellationToken cancellation)
        : Write(claim, cancellation)
    {
        private T result = default!;

        // The caller continues on the thread pool, never inline on the writer loop.
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task RunAsync(DbConnection connection, DbTransaction transaction) => result = await work(connection, transaction);

        public override void Succeed()
        {
            if (Claim is not null) Claim.Committed = true;
            try
            {
                afterCommit?.Invoke(result);
            }
            finally
            {
                Completion.TrySetResult(result);
            }
        }

        public override void Fail(Exception exception)
        {
            if (exception is OperationCanceledException canceled) Completion.TrySetCanceled(canceled.CancellationToken);
            else Completion.TrySetException(exception);
        }
    }
}
