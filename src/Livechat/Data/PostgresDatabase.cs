using System.Data;
using System.Data.Common;
using DbUp;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Livechat.Data;

/// <summary>
/// PostgreSQL, for several instances. Writes go through <see cref="DatabaseOptions.Writers"/> writer loops,
/// each with its own connection; a write goes to the loop its order key (a session id) hashes to, so one
/// session's writes commit, and are published, in order on one loop. A loop runs a batch optimistically in one
/// transaction with one commit, which PostgreSQL makes durable with one WAL flush: the round trips of a write
/// are its own statements and nothing else (no connect, no <c>BEGIN</c>, no <c>COMMIT</c> of its own). A
/// statement that fails aborts a PostgreSQL transaction, so then the batch is rolled back and every write of it
/// runs again alone, and only the one at fault fails. An expected outcome (a send to a closed session) is no
/// failure: its statements write nothing, its readers say so, and its batch commits. Writes are run in order-key order (stable), so batches on
/// several instances lock the same sessions in the same order and do not deadlock each other.
/// <para>
/// A write that comes with a plan (<see cref="PlannedWrite{T}"/>: a plain message) costs no round trip of its
/// own: the plans of a batch's writes are sent together, one round trip for all of them and one for the commit,
/// where each write would otherwise wait for its statements in turn. On a machine where the service and the
/// database share the CPU, the round trips (system calls and wake-ups on both sides) cost more than the SQL.
/// </para>
/// </summary>
public sealed class PostgresDatabase : Database
{
    private const long MigrationLockKey = 0x4C69766563686174; // "Livechat"

    private static readonly Prometheus.Counter PlannedWritesTotal = Prometheus.Metrics.CreateCounter(
        "livechat_planned_writes_total", "PostgreSQL writes sent as plans, with the rest of their batch in one round trip.");

    private static readonly Prometheus.Counter BatchesRunAloneTotal = Prometheus.Metrics.CreateCounter(
        "livechat_write_batches_run_alone_total",
        "PostgreSQL write batches rolled back and run again write by write: a failed statement or a deadlock.");

    private long plannedWrites, batchesRunAlone;
    private readonly NpgsqlDataSource dataSource;
    private readonly NpgsqlDataSource readSource;
    private readonly string connectionString;
    private readonly Writer[] writers;
    private int nextWriter;

    public PostgresDatabase(DatabaseOptions options) : base(TimeSpan.FromSeconds(options.StartupRetrySeconds))
    {
        connectionString = ConnectionString(options.ConnectionString!);
        dataSource = new NpgsqlDataSourceBuilder(connectionString).Build();
        readSource = new NpgsqlDataSourceBuilder(ReadConnectionString(connectionString)).Build();
        writers = Enumerable.Range(0, options.Writers).Select(_ => new Writer(this, dataSource)).ToArray();
    }

    /// <summary>Writes this engine sent as plans (what <c>livechat_planned_writes_total</c> counts across the process).</summary>
    public long PlannedWrites => Interlocked.Read(ref plannedWrites);

    /// <summary>Batches this engine ran again write by write (<c>livechat_write_batches_run_alone_total</c>).</summary>
    public long BatchesRunAlone => Interlocked.Read(ref batchesRunAlone);

    /// <summary>Writes ever queued on this engine's writer loops: tests wait on it to order their writes (issue 23).</summary>
    public long WritesQueued => writers.Sum(writer => writer.Queue.Queued);

    public override string Describe => "postgres";

    public override string Where
    {
        get
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            return $"postgres at {b.Host}:{b.Port}/{b.Database ?? b.Username}";
        }
    }

    /// <summary>
    /// The Npgsql connection string with the defaults we rely on, unless the operator set them: automatic
    /// preparation of the statements that repeat (insert a message, read a page), so PostgreSQL plans them once
    /// per connection instead of once per call.
    /// </summary>
    public static string ConnectionString(string configured)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(configured);
        }
        catch (ArgumentException e)
        {
            throw new OptionsValidationException(DatabaseOptions.Section, typeof(DatabaseOptions),
                [$"Livechat:Database:ConnectionString is not a PostgreSQL (Npgsql) connection string ({e.Message}); " +
                 "with the postgres provider set it, e.g. Host=db;Port=5432;Database=livechat;Username=livechat;Password=..."]);
        }
        if (!configured.Contains("Max Auto Prepare", StringComparison.OrdinalIgnoreCase) &&
            !configured.Contains("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase))
            builder.MaxAutoPrepare = 64;
        return builder.ConnectionString;
    }

    /// <summary>
    /// Reads multiplex: the statements of concurrent requests share a few physical connections, written and
    /// read in pipelined batches, which halves the authenticated read's cost on a CPU-bound machine (measured
    /// in docs/performance.md). Writes, migrations and the worker's transactions use the plain pool.
    /// An operator who sets <c>Multiplexing</c> in the connection string decides for reads too.
    /// </summary>
    public static string ReadConnectionString(string configured)
    {
        var builder = new NpgsqlConnectionStringBuilder(configured);
        if (!configured.Contains("Multiplexing", StringComparison.OrdinalIgnoreCase)) builder.Multiplexing = true;
        return builder.ConnectionString;
    }

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await readSource.OpenConnectionAsync(cancellationToken);

    public override async Task<T> WriteApartAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var result = await work(connection, transaction);
        using (Tracing.StartCommit()) await transaction.CommitAsync(CancellationToken.None);
        return result;
    }

    public override Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken,
        Action<T>? afterCommit = null, Guid? orderKey = null, Func<PlanRun, Task<PlannedWrite<T>>>? plan = null)
    {
        // Writes without an order key need no order among themselves: spread them over the loops.
        var index = orderKey is { } key
            ? (int)((uint)key.GetHashCode() % (uint)writers.Length)
            : (int)((uint)Interlocked.Increment(ref nextWriter) % (uint)writers.Length);
        return writers[index].Queue.WriteAsync(work, afterCommit, orderKey, cancellationToken, plan);
    }

    public override async Task ExecuteAllAsync(IReadOnlyList<DeferredStatement> statements, DbTransaction transaction, CancellationToken cancellationToken)
    {
        if (statements.Count == 1)
        {
            await base.ExecuteAllAsync(statements, transaction, cancellationToken);
            return;
        }
        await SendAsync((NpgsqlTransaction)transaction, statements, cancellationToken);
    }

    /// <summary>Sends <paramref name="statements"/> as one batch, one round trip, and hands each reading statement's rows to its reader.</summary>
    private static async Task SendAsync(NpgsqlTransaction transaction, IReadOnlyList<DeferredStatement> statements, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(transaction.Connection!, transaction);
        foreach (var (command, _, _) in statements)
        {
            // A parameter belongs to one collection at a time: it moves from the command to the batch's command,
            // in the order of the SQL's numbers, and without its name (Npgsql then sends the text as it is).
            var parameters = command.Parameters.Cast<NpgsqlParameter>().ToArray();
            command.Parameters.Clear();
            var numbered = NumberedSql.Of(command.CommandText);
            var batched = new NpgsqlBatchCommand(numbered.Sql);
            foreach (var name in numbered.Names)
            {
                var parameter = Array.Find(parameters, p => p.ParameterName == name)
                    ?? throw new InvalidOperationException($"The statement uses @{name}, which it was not given: {command.CommandText}");
                parameter.ParameterName = string.Empty;
                batched.Parameters.Add(parameter);
            }
            batch.BatchCommands.Add(batched);
            await command.DisposeAsync();
        }
        var readers = statements.Where(s => s.Read is not null).Select(s => s.Read!).ToList();
        if (readers.Count == 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
            return;
        }
        // Only statements that return rows give the reader a result set, so the i-th one is the i-th reading statement's.
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        for (var i = 0; i < readers.Count; i++)
        {
            if (i > 0 && !await reader.NextResultAsync(cancellationToken))
                throw new InvalidOperationException("A deferred statement with a reader returned no rows to read.");
            await readers[i](reader, cancellationToken);
        }
        while (await reader.NextResultAsync(cancellationToken))
        {
            // The statements after the last reading one have run too (their errors surface here).
        }
    }

    internal override async Task MigrateOnceAsync(ILogger logger, CancellationToken cancellationToken)
    {
        // Instances that start (or run `migrate`) at the same moment take turns.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = connection.Sql("SELECT pg_advisory_lock(@key)").With("key", MigrationLockKey))
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        try
        {
            Migrations.Run(DeployChanges.To.PostgresqlDatabase(connectionString), "postgres", logger);
        }
        finally
        {
            await using var unlock = connection.Sql("SELECT pg_advisory_unlock(@key)").With("key", MigrationLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var writer in writers) await writer.DisposeAsync();
        await readSource.DisposeAsync();
        await dataSource.DisposeAsync();
    }

    /// <summary>One writer loop and the connection it keeps.</summary>
    private sealed class Writer : IAsyncDisposable
    {
        /// <summary>How often a write runs alone before a deadlock fails it (the batch it came from was the first).</summary>
        private const int DeadlockAttempts = 5;

        private readonly PostgresDatabase engine;
        private readonly NpgsqlDataSource dataSource;
        private NpgsqlConnection? connection;

        public Writer(PostgresDatabase engine, NpgsqlDataSource dataSource)
        {
            this.engine = engine;
            this.dataSource = dataSource;
            Queue = new WriteQueue(RunBatchAsync);
        }

        public WriteQueue Queue { get; }

        private async Task RunBatchAsync(List<PendingWrite> batch)
        {
            if (batch is [{ Planned: false } only])
            {
                if (only.TryStart()) await RunAloneAsync(only);
                return;
            }
            // OrderBy is stable: writes of one session keep their queue order.
            var ordered = batch.Count == 1 ? batch : batch.OrderBy(w => w.OrderKey).ToList();
            var started = new List<PendingWrite>(ordered.Count);
            try
            {
                connection ??= await dataSource.OpenConnectionAsync(CancellationToken.None);
                await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, CancellationToken.None);
                // Planned writes gather here until an unplanned one needs the connection, or the commit: then all
                // their statements go in one round trip (with the BEGIN), in the writes' order.
                var planned = new List<PendingWrite>();
                var statements = new List<DeferredStatement>();
                PlanRun? run = null;
                foreach (var write in ordered)
                {
                    if (!write.TryStart()) continue; // its caller gave up while it was queued
                    started.Add(write);
                    if (write.Planned)
                    {
                        statements.AddRange(await write.PlanAsync(run ??= new PlanRun(connection, transaction)));
                        planned.Add(write);
                        continue;
                    }
                    await SendPlannedAsync(transaction, planned, statements);
                    // What the plans before it shared may not hold after it: the plans after it start a new run.
                    run = null;
                    await write.RunAsync(connection, transaction);
                }
                await SendPlannedAsync(transaction, planned, statements);
                // Once the work is done the commit must land or fail loudly, not be cancelled half-way.
                using (Tracing.StartCommit()) await transaction.CommitAsync(CancellationToken.None);
            }
            catch (Exception)
            {
                // Someone's statement failed (or the connection did): nothing of the batch is stored. Each write
                // runs again alone, so only the one at fault fails: those that ran, and those the failure kept
                // from running (their callers would otherwise wait until their requests time out).
                await ResetIfBrokenAsync();
                Interlocked.Increment(ref engine.batchesRunAlone);
                BatchesRunAloneTotal.Inc();
                foreach (var write in ordered)
                {
                    if (started.Contains(write) || write.TryStart()) await RunAloneAsync(write);
                }
                return;
            }
            foreach (var write in started) write.Succeed();
        }

        private async Task SendPlannedAsync(NpgsqlTransaction transaction, List<PendingWrite> planned, List<DeferredStatement> statements)
        {
            if (planned.Count == 0) return;
            // Shared by several writes: one caller's cancellation must not cut the others' statements short. The
            // follow-ups readers deferred (rare: outbox rows a webhook check found were needed) go in one more round trip.
            while (statements.Count > 0)
            {
                await SendAsync(transaction, statements, CancellationToken.None);
                statements.Clear();
                foreach (var write in planned) statements.AddRange(write.FollowUps());
            }
            foreach (var write in planned) write.TakePlannedOutcome();
            Interlocked.Add(ref engine.plannedWrites, planned.Count);
            PlannedWritesTotal.Inc(planned.Count);
            planned.Clear();
            statements.Clear();
        }

        private async Task RunAloneAsync(PendingWrite write)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    connection ??= await dataSource.OpenConnectionAsync(CancellationToken.None);
                    await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, CancellationToken.None);
                    await write.RunAsync(connection, transaction);
                    using (Tracing.StartCommit()) await transaction.CommitAsync(CancellationToken.None);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < DeadlockAttempts)
                {
                    // Chosen as a deadlock's victim: nothing of it was stored and the other side has gone on, so
                    // it runs again (routing changes lock agents' rows in whatever order capacity dictates).
                    continue;
                }
                catch (Exception e)
                {
                    await ResetIfBrokenAsync();
                    write.Fail(e);
                    return;
                }
                write.Succeed();
                return;
            }
        }

        /// <summary>A failed statement leaves the connection usable (its transaction was rolled back); a broken one is dropped.</summary>
        private async Task ResetIfBrokenAsync()
        {
            if (connection is { State: ConnectionState.Open }) return;
            await ResetAsync();
        }

        private async Task ResetAsync()
        {
            try
            {
                if (connection is not null) await connection.DisposeAsync();
            }
            catch (NpgsqlException)
            {
                // A broken connection may fail to close too; it is dropped either way.
            }
            connection = null;
        }

        public async ValueTask DisposeAsync()
        {
            await Queue.DisposeAsync();
            await ResetAsync();
        }
    }
}

/// <summary>
/// A statement's SQL with its named parameters (<c>@tenant</c>) numbered the way PostgreSQL takes them (<c>$1</c>),
/// and the names in the order of their numbers. Npgsql does the same rewriting for every statement it executes
/// with named parameters, parsing the whole text each time: on the message load that was 4 % of the service's
/// CPU. A batch's statements are rewritten here instead, once per distinct text, and sent with positional
/// parameters, which Npgsql sends as they are. The feature SQL stays the same for both databases.
/// </summary>
internal sealed record NumberedSql(string Sql, string[] Names)
{
    // One entry per distinct SQL text the service sends in batches: a bounded set, written in the code.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, NumberedSql> Known = new();

    public static NumberedSql Of(string sql) => Known.GetOrAdd(sql, Number);

    /// <summary>Numbers each <c>@name</c> outside string literals, quoted names and comments; a name used twice keeps its number.</summary>
    internal static NumberedSql Number(string sql)
    {
        var text = new System.Text.StringBuilder(sql.Length);
        var names = new List<string>();
        for (var i = 0; i < sql.Length;)
        {
            var c = sql[i];
            if (c is '\'' or '"')
            {
                // A literal or a quoted name, to its closing quote (a doubled quote inside closes and reopens it).
                var end = sql.IndexOf(c, i + 1);
                end = end < 0 ? sql.Length : end + 1;
                text.Append(sql, i, end - i);
                i = end;
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                var end = sql.IndexOf('\n', i);
                end = end < 0 ? sql.Length : end;
                text.Append(sql, i, end - i);
                i = end;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? sql.Length : end + 2;
                text.Append(sql, i, end - i);
                i = end;
            }
            else if (c == '@' && i + 1 < sql.Length && (char.IsAsciiLetter(sql[i + 1]) || sql[i + 1] == '_'))
            {
                var end = i + 1;
                while (end < sql.Length && (char.IsAsciiLetterOrDigit(sql[end]) || sql[end] == '_')) end++;
                var name = sql[(i + 1)..end];
                var number = names.IndexOf(name);
                if (number < 0)
                {
                    names.Add(name);
                    number = names.Count - 1;
                }
                text.Append('$').Append(number + 1);
                i = end;
            }
            else
            {
                text.Append(c);
                i++;
            }
        }
        return new NumberedSql(text.ToString(), [.. names]);
    }
}
