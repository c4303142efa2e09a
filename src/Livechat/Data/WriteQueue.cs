using System.Data.Common;
using System.Diagnostics;
using System.Threading.Channels;

namespace Livechat.Data;

/// <summary>
/// One writer loop of group commit: writes queue up here and the loop hands them to its engine in batches of
/// up to <see cref="MaxBatch"/>. Under light load a batch is one write and nothing waits for company; under
/// load a batch is whatever queued while the previous one committed, so the commit's sync is shared.
/// </summary>
internal sealed class WriteQueue : IAsyncDisposable
{
    public const int MaxBatch = 128;
    private readonly Channel<PendingWrite> queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<List<PendingWrite>, Task> runBatch;
    private readonly Func<Task>? whenIdle;
    private readonly Task loop;
    private long queued;

    /// <summary>
    /// How many writes were ever queued here: the signal a test waits for to know its write is in the queue (and so
    /// behind the ones queued before it) instead of sleeping.
    /// </summary>
    public long Queued => Interlocked.Read(ref queued);

    /// <param name="whenIdle">Runs after a batch when no write is queued: upkeep the engine wants done between writes, not during them.</param>
    public WriteQueue(Func<List<PendingWrite>, Task> runBatch, Func<Task>? whenIdle = null)
    {
        this.runBatch = runBatch;
        this.whenIdle = whenIdle;
        loop = Task.Run(RunAsync);
    }

    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, Action<T>? afterCommit, Guid? orderKey, CancellationToken cancellationToken,
        Func<PlanRun, Task<PlannedWrite<T>>>? plan = null)
    {
        var write = new PendingWrite<T>(work, plan, afterCommit, orderKey) { Caller = Activity.Current?.Context ?? default };
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(write), this);
        Interlocked.Increment(ref queued);
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
        var batch = new List<PendingWrite>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            // The engine starts each write just before running it (PendingWrite.TryStart), so a caller may still
            // give up while the batch waits for a connection or a lock.
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var next)) batch.Add(next);
            // A batch serves many requests: its span is the first traced one's child and links the others.
            using var span = Tracing.Source.HasListeners() ? StartBatchSpan(batch) : null;
            try
            {
                await runBatch(batch);
            }
            catch (Exception e)
            {
                // The engine answers every write itself; this is the last guard that keeps the loop alive.
                foreach (var write in batch) write.Fail(e);
            }
            if (whenIdle is not null && !queue.Reader.TryPeek(out _)) await whenIdle();
        }
    }

    private static Activity? StartBatchSpan(List<PendingWrite> batch)
    {
        // The parent is the first write that has a caller: a background writer's write (retention, a backfill) has
        // none, and taking it first would leave the batch a root and the request's tree without its write.
        var traced = batch.Where(w => w.Caller != default).Select(w => w.Caller).ToList();
        var links = traced.Skip(1).Select(caller => new ActivityLink(caller)).ToList();
        var span = Tracing.Source.StartActivity("write batch", ActivityKind.Internal, traced.FirstOrDefault(), links: links);
        span?.SetTag("livechat.batch.writes", batch.Count);
        return span;
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await loop;
    }
}

/// <summary>A queued write: its work, its after-commit hook, and the caller waiting for the outcome.</summary>
internal abstract class PendingWrite(Guid? orderKey)
{
    private const int Queued = 0, Started = 1, Abandoned = 2;
    private int state;

    public Guid? OrderKey { get; } = orderKey;

    /// <summary>The span of the request that queued it, if it is traced: the batch's span is its child or links it.</summary>
    public ActivityContext Caller { get; init; }

    /// <summary>The writer takes the write; false when its caller abandoned it first.</summary>
    public bool TryStart() => Interlocked.CompareExchange(ref state, Started, Queued) == Queued;

    /// <summary>The caller gives up; false when the writer already started it.</summary>
    public bool TryAbandon() => Interlocked.CompareExchange(ref state, Abandoned, Queued) == Queued;

    /// <summary>Runs the work in <paramref name="transaction"/> and keeps its result for <see cref="Succeed"/>.</summary>
    public abstract Task RunAsync(DbConnection connection, DbTransaction transaction);

    /// <summary>Whether the write also comes as a plan (statements only) that an engine may pipeline.</summary>
    public abstract bool Planned { get; }

    /// <summary>Makes the plan (no statement runs) and returns its statements; <see cref="TakePlannedOutcome"/> follows once they ran.</summary>
    public abstract Task<IReadOnlyList<DeferredStatement>> PlanAsync(PlanRun run);

    /// <summary>
    /// After the plan's statements ran: the follow-ups its readers deferred meanwhile (none, mostly), which the
    /// engine runs next; once this is empty, the plan is settled.
    /// </summary>
    public abstract IReadOnlyList<DeferredStatement> FollowUps();

    /// <summary>After the plan's statements and readers ran: keeps the plan's outcome for <see cref="Succeed"/>.</summary>
    public abstract void TakePlannedOutcome();

    /// <summary>After the commit: runs the after-commit hook, then completes the caller. Never throws.</summary>
    public abstract void Succeed();

    public abstract void Fail(Exception exception);
}

internal sealed class PendingWrite<T>(Func<DbConnection, DbTransaction, Task<T>> work, Func<PlanRun, Task<PlannedWrite<T>>>? plan,
    Action<T>? afterCommit, Guid? orderKey)
    : PendingWrite(orderKey)
{
    private T result = default!;
    private PlannedWrite<T>? planned;
    private int handedOut;

    // The caller continues on the thread pool, never inline on the writer loop.
    public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task RunAsync(DbConnection connection, DbTransaction transaction) => result = await work(connection, transaction);

    public override bool Planned => plan is not null;

    public override async Task<IReadOnlyList<DeferredStatement>> PlanAsync(PlanRun run)
    {
        planned = await plan!(run);
        handedOut = planned.Statements.Count;
        return planned.Statements;
    }

    public override IReadOnlyList<DeferredStatement> FollowUps()
    {
        var statements = planned!.Statements;
        if (statements.Count == handedOut) return [];
        var followUps = statements.Skip(handedOut).ToList();
        handedOut = statements.Count;
        return followUps;
    }

    public override void TakePlannedOutcome() => result = planned!.Outcome();

    public override void Succeed()
    {
        try
        {
            afterCommit?.Invoke(result);
        }
        catch (Exception e)
        {
            // Committed, but what had to follow the commit failed: the caller hears of it (its request fails,
            // and an idempotency record keeps that answer), and the writer loop goes on.
            Completion.TrySetException(e);
            return;
        }
        Completion.TrySetResult(result);
    }

    public override void Fail(Exception exception)
    {
        if (exception is OperationCanceledException canceled) Completion.TrySetCanceled(canceled.CancellationToken);
        else Completion.TrySetException(exception);
    }
}
