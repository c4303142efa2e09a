using System.Data.Common;
using Microsoft.Extensions.Options;

namespace Livechat.Data;

/// <summary>
/// The one door to storage, and the only choice of provider: <see cref="Create"/> picks an engine once at
/// start-up, <see cref="SqliteDatabase"/> or <see cref="PostgresDatabase"/>, each whole. Feature code writes SQL
/// that both providers understand (named <c>@</c> parameters, <c>ON CONFLICT</c>, <c>RETURNING</c>) and never
/// asks which one it runs on.
/// <para>
/// Both engines commit in groups (docs/decisions/0005-one-write-path.md): concurrent writes queue up, a writer
/// loop runs a batch of them in one transaction and commits once, and a write's task completes only after
/// that commit, so a 2xx still means "on disk". After-commit hooks run on the writer loop in commit order
/// before the next batch starts, which is what keeps pushes in each session's order.
/// </para>
/// </summary>
public abstract class Database : IAsyncDisposable
{
    protected Database(TimeSpan startupRetry) => StartupRetry = startupRetry;

    /// <summary>The engine the options name; a configuration mistake stops the service with a clear message.</summary>
    public static Database Create(IOptions<DatabaseOptions> options)
    {
        var o = options.Value;
        if (!o.IsPostgres) return new SqliteDatabase(o);
        if (string.IsNullOrWhiteSpace(o.ConnectionString))
            throw new OptionsValidationException(DatabaseOptions.Section, typeof(DatabaseOptions),
                ["Livechat:Database:ConnectionString is required when the provider is postgres."]);
        return new PostgresDatabase(o);
    }

    /// <summary><c>sqlite</c> or <c>postgres</c>.</summary>
    public abstract string Describe { get; }

    /// <summary>Which database, for messages: the provider and where it is, never a password.</summary>
    public abstract string Where { get; }

    /// <summary>How long start-up (and <c>migrate</c>) waits for a database that does not answer yet.</summary>
    public TimeSpan StartupRetry { get; }

    /// <summary>A connection for reading (on SQLite a pooled one; WAL readers never wait for the writer).</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await work(connection);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction and commits it; the result is durable when this returns.
    /// The work may share its transaction with other writes (group commit), so it must not commit or roll back
    /// itself, and it may run more than once if its batch fails (a retry alone): it must not act outside the
    /// database. <paramref name="afterCommit"/> runs once the commit succeeded, on the writer loop, in commit
    /// order with every other write of the same <paramref name="orderKey"/> (a session id); it must be quick.
    /// If it throws, the caller gets the exception, but the write stays committed.
    /// </summary>
    /// <remarks>
    /// <paramref name="plan"/>, when given, is the same write as statements that need no answer to be chosen:
    /// an engine that can pipeline them (PostgreSQL) sends the plans of a batch's writes together, in one round
    /// trip, and answers each write with its plan's outcome once they ran. A plan's outcome is whatever its
    /// readers found, an expected failure included (a session that was not open): it never sends its batch back.
    /// Engines without pipelining run <paramref name="work"/> or the plan, one write after the other. The plans
    /// sent in one round trip share a <see cref="PlanRun"/>, so their changes can share a statement too.
    /// </remarks>
    public abstract Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken,
        Action<T>? afterCommit = null, Guid? orderKey = null, Func<PlanRun, Task<PlannedWrite<T>>>? plan = null);

    /// <summary>
    /// Runs <paramref name="work"/> in a short transaction of its own, outside the API's writer batches, for
    /// background bookkeeping that must neither join nor wait in them (webhook delivery claims and outcomes).
    /// SQLite has one writer, so there it queues with every other write.
    /// </summary>
    public virtual Task<T> WriteApartAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(work, cancellationToken);

    /// <summary>
    /// Runs <paramref name="statements"/> (made on one connection, in <paramref name="transaction"/>) in order,
    /// hands each reading statement's rows to its reader, and disposes them. One round trip where the provider
    /// can batch (PostgreSQL); one after the other otherwise. A statement without a reader returns no rows.
    /// One after the other, a statement marked <see cref="DeferredStatement.OnlyIfPreviousWrote"/> is skipped
    /// when the one before it changed no row (in a batch it runs, and its SQL makes it write nothing).
    /// It runs the statements the list holds when called: a reader may add follow-ups to it, which the caller
    /// runs next (one more round trip), still before the commit.
    /// </summary>
    public virtual async Task ExecuteAllAsync(IReadOnlyList<DeferredStatement> statements, DbTransaction transaction, CancellationToken cancellationToken)
    {
        var previousWrote = true;
        var count = statements.Count;
        for (var i = 0; i < count; i++)
        {
            var (command, read, onlyIfPreviousWrote) = statements[i];
            await using (command)
            {
                if (onlyIfPreviousWrote && !previousWrote) continue;
                if (read is null)
                {
                    previousWrote = await command.ExecuteNonQueryAsync(cancellationToken) > 0;
                    continue;
                }
                previousWrote = true;
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                await read(reader, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Adds the row (<paramref name="tenantId"/>, <paramref name="id"/>) to what <paramref name="statement"/> handles once for
    /// the whole batch of the write that is running (<see cref="BatchEndStatement"/>). SQLite only: its writer runs batches
    /// write by write, each in a savepoint; PostgreSQL has no use for it.
    /// </summary>
    public virtual void AtBatchEnd(BatchEndStatement statement, long tenantId, Guid id) =>
        throw new NotSupportedException($"{Describe} runs no statements at the end of a batch.");

    /// <summary>Applies this provider's numbered migrations once (see <see cref="Migrations"/> for the retry around it).</summary>
    internal abstract Task MigrateOnceAsync(ILogger logger, CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// A statement that runs with others just before a commit; <paramref name="Read"/>, if any, gets its rows.
/// <paramref name="OnlyIfPreviousWrote"/> says its SQL writes nothing unless the statement before it wrote
/// (the outbox's deliveries need its event), so an engine that runs them one by one may skip it then.
/// </summary>
public sealed record DeferredStatement(DbCommand Command, Func<DbDataReader, CancellationToken, Task>? Read = null, bool OnlyIfPreviousWrote = false);

/// <summary>
/// A statement that runs once per write batch, after every write of the batch and just before its commit, in the same
/// transaction, over the rows the batch's writes gave it (<see cref="Database.AtBatchEnd"/>): its SQL reads them from
/// <c>@rows</c>, a JSON array of <c>[tenant_id, id]</c> pairs (<c>json_each(@rows)</c>). It runs outside every write's
/// savepoint, and only when some write gave it a row; a row whose write was undone is simply not found. For work that
/// costs per statement more than per row: SQLite's FTS5 writes what it holds as a new index segment at every savepoint
/// (one per write of a batch), so one insert per message cost a segment, and its merges, per message (ADR 0046).
/// If it fails, the whole batch fails, as when its commit does.
/// </summary>
public sealed record BatchEndStatement(string Sql);

/// <summary>
/// A write as statements to send, in order, with the readers that take their rows; <paramref name="Outcome"/>
/// answers the write once they all ran. Making it runs no statement. A reader may add follow-up statements to
/// <paramref name="Statements"/>: the engine sends them after the ones it sent, before the commit.
/// </summary>
public sealed record PlannedWrite<T>(IReadOnlyList<DeferredStatement> Statements, Func<T> Outcome);

/// <summary>
/// The planned writes whose statements travel together, in one round trip, in one transaction: an engine makes
/// one for each such run. <see cref="Shared"/> holds what their changes share, so that a statement every
/// one of them would send (a check of the tenant's state) is sent once, by the first, and its rows serve all.
/// Nothing else runs between their statements, so what the shared statement reads holds for each of them.
/// </summary>
public sealed class PlanRun(DbConnection connection, DbTransaction transaction)
{
    public DbConnection Connection { get; } = connection;
    public DbTransaction Transaction { get; } = transaction;

    /// <summary>Keyed by whoever shares (a handler's own key type); only the writer loop touches it.</summary>
    public Dictionary<object, object> Shared { get; } = [];
}
