using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using DbUp;
using Microsoft.Data.Sqlite;

namespace Livechat.Data;

/// <summary>
/// SQLite in WAL mode, for one machine. SQLite has one writer, and with <c>synchronous=FULL</c> every commit
/// waits for the disk, so one transaction per request would cap the service at the disk's sync rate. One loop
/// runs the writes in batches instead: one <c>BEGIN IMMEDIATE</c>, each write in its own savepoint (a write
/// that fails rolls back alone, and its caller gets the exception), one <c>COMMIT</c>, one sync for the batch.
/// One loop also means commit order is queue order, whatever the order key.
/// </summary>
public sealed class SqliteDatabase : Database
{
    private readonly string connectionString;
    private readonly WriteQueue writer;
    private SqliteKeptConnection? connection;

    public SqliteDatabase(DatabaseOptions options) : base(TimeSpan.FromSeconds(options.StartupRetrySeconds))
    {
        connectionString = ConnectionString(options.ConnectionString);
        writer = new WriteQueue(RunBatchAsync, CheckpointWhenIdleAsync);
    }

    /// <summary>Writes ever queued on the writer loop: tests wait on it to know what queued behind what.</summary>
    public long WritesQueued => writer.Queued;

    public override string Describe => "sqlite";

    public override string Where => $"sqlite at {new SqliteConnectionStringBuilder(connectionString).DataSource}";

    /// <summary>The SQLite connection string with the defaults we rely on; creates the file's folder.</summary>
    public static string ConnectionString(string? configured)
    {
        var builder = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(configured) ? "Data Source=data/livechat.db" : configured)
        {
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 30,
        };
        var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        return builder.ToString();
    }

    /// <summary>Read connections kept open with their prepared commands; beyond this many idle ones they close.</summary>
    private const int MaxIdleReaders = 16;

    private readonly ConcurrentBag<SqliteKeptConnection> idleReaders = [];
    private int idleCount;
    private volatile bool disposed;

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (idleReaders.TryTake(out var idle))
        {
            Interlocked.Decrement(ref idleCount);
            return idle;
        }
        var opened = new SqliteKeptConnection(connectionString, GiveBack);
        await opened.OpenAsync(cancellationToken);
        SqlitePercentile.Register(opened);
        return opened;
    }

    private bool GiveBack(SqliteKeptConnection connection)
    {
        if (disposed || Interlocked.Increment(ref idleCount) > MaxIdleReaders)
        {
            Interlocked.Decrement(ref idleCount);
            return false;
        }
        idleReaders.Add(connection);
        return true;
    }

    /// <summary>
    /// SQLite runs in this process, where a round trip costs nothing; a write's plan still runs when it has one,
    /// because the plans of one batch share a <see cref="PlanRun"/>: what their changes would each read (whether
    /// the tenant has a webhook) is read once, by the first.
    /// </summary>
    public override Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken,
        Action<T>? afterCommit = null, Guid? orderKey = null, Func<PlanRun, Task<PlannedWrite<T>>>? plan = null) =>
        writer.WriteAsync(work, afterCommit, orderKey, cancellationToken, plan);

    /// <summary>The writer's one connection, opened once and kept until a batch fails.</summary>
    private async Task<SqliteKeptConnection> OpenWriterAsync()
    {
        var opened = new SqliteKeptConnection(connectionString);
        await opened.OpenAsync(CancellationToken.None);
        // Per connection, not per file: FULL makes a commit survive a power cut, as PostgreSQL's does (it is
        // SQLite's default too; stated here so no build option can weaken it). The busy timeout covers other
        // processes that write to the file (the command-line verbs). Checkpoints: see CheckpointAsync.
        // temp_store = MEMORY keeps each write's savepoint journal (the pages it touched, as they were) in
        // memory: on the default, once one write in a batch touched 16 pages or more (a b-tree split) the
        // journal spilled to a temporary file for the rest of the batch, and every later write copied its pages
        // there, two syscalls a page: 40 % of the writer's pwrite calls. It holds one write's pages at a time.
        // The writer's page cache is 32 MB instead of 2: at 2 MB the pages a message touches (the sessions'
        // newest leaves, each sender's and recipient's index leaves) no longer fitted with 64 busy sessions,
        // and the writer read a page back from the WAL or the file for almost every page it wrote.
        await using (var pragma = opened.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 10000; " +
                "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768;";
            await pragma.ExecuteNonQueryAsync();
        }
        checkpoints ??= Task.Run(() => CheckpointAsync(stopping.Token));
        // The same function PostgreSQL gets from its migrations, so set-based inserts make UUIDv7 ids in SQL.
        opened.CreateFunction("livechat_uuidv7", (string at) =>
            Guid.CreateVersion7(DateTimeOffset.Parse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)).ToString("D"), isDeterministic: false);
        return opened;
    }

    /// <summary>The rows the current batch's writes gave each <see cref="BatchEndStatement"/>; only the writer loop touches it.</summary>
    private readonly Dictionary<BatchEndStatement, List<(long TenantId, Guid Id)>> batchEnd = [];

    public override void AtBatchEnd(BatchEndStatement statement, long tenantId, Guid id)
    {
        if (!batchEnd.TryGetValue(statement, out var rows)) batchEnd[statement] = rows = [];
        rows.Add((tenantId, id));
    }

    private async Task RunBatchAsync(List<PendingWrite> batch)
    {
        var done = new List<PendingWrite>(batch.Count);
        batchEnd.Clear(); // a failed batch may have left rows
        try
        {
            connection ??= await OpenWriterAsync();
            connection.ReleaseAll();
            // IMMEDIATE takes the write lock up front, so a read-then-write never fails half-way.
            await using var transaction = connection.BeginTransaction(deferred: false);
            PlanRun? run = null;
            foreach (var write in batch)
            {
                if (!write.TryStart()) continue; // its caller gave up while it was queued
                await ExecuteAsync(connection, transaction, "SAVEPOINT write");
                try
                {
                    if (write.Planned) await RunPlannedAsync(write, run ??= new PlanRun(connection, transaction), transaction);
                    else
                    {
                        // What the plans before it shared may not hold after it (it may add a webhook): a new run follows.
                        run = null;
                        await write.RunAsync(connection, transaction);
                    }
                    await ExecuteAsync(connection, transaction, "RELEASE write");
                    done.Add(write);
                }
                catch (Exception e)
                {
                    // This write alone is undone; the batch goes on, and the plans after it start a new run (what
                    // this one shared, a check it was to send, went with it).
                    run = null;
                    await ExecuteAsync(connection, transaction, "ROLLBACK TO write; RELEASE write");
                    write.Fail(e);
                }
            }
            await RunBatchEndAsync(connection, transaction);
            using (Tracing.StartCommit()) await transaction.CommitAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            // The batch as a whole failed (no connection, no lock, a savepoint, a batch-end statement or the commit): none of it is
            // stored, every caller hears so (completing an already failed write again changes nothing), and the
            // next batch starts on a fresh connection.
            await ResetConnectionAsync();
            foreach (var write in batch) write.Fail(e);
            return;
        }
        foreach (var write in done) write.Succeed();
    }

    /// <summary>Each <see cref="BatchEndStatement"/> the batch's writes gave rows, once, with all of them (after the last savepoint).</summary>
    private async Task RunBatchEndAsync(SqliteKeptConnection connection, SqliteTransaction transaction)
    {
        foreach (var (statement, rows) in batchEnd)
        {
            var json = "[" + string.Join(",", rows.Select(row => string.Create(CultureInfo.InvariantCulture, $"[{row.TenantId},\"{row.Id:D}\"]"))) + "]";
            await using var command = connection.Sql(statement.Sql, transaction).With("rows", json);
            await command.ExecuteNonQueryAsync();
        }
        batchEnd.Clear();
    }

    /// <summary>Runs a write's plan in its savepoint: its statements one by one, then the follow-ups its readers deferred.</summary>
    private async Task RunPlannedAsync(PendingWrite write, PlanRun run, SqliteTransaction transaction)
    {
        var statements = await write.PlanAsync(run);
        while (statements.Count > 0)
        {
            await ExecuteAllAsync(statements, transaction, CancellationToken.None);
            statements = write.FollowUps();
        }
        write.TakePlannedOutcome();
    }

    /// <summary>
    /// The savepoints as kept commands, prepared once: <c>SqliteTransaction.Save</c> and <c>Release</c> compile
    /// their SQL again on every call, twice per write. One name serves every write, since each is released
    /// before the next begins.
    /// </summary>
    private static async Task ExecuteAsync(SqliteKeptConnection connection, SqliteTransaction transaction, string sql)
    {
        await using var command = connection.Sql(sql, transaction);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>How often, at most, the writer copies the WAL itself when it has nothing to write.</summary>
    private static readonly TimeSpan IdleCheckpointEvery = TimeSpan.FromMilliseconds(50);

    private long lastIdleCheckpoint;
    private long idleCheckpoints;

    /// <summary>How many times the writer copied the WAL when idle: the signal a test waits for.</summary>
    public long IdleCheckpoints => Interlocked.Read(ref idleCheckpoints);

    /// <summary>
    /// The writer copies the WAL into the database file whenever it runs out of writes, at most every
    /// <see cref="IdleCheckpointEvery"/>, so the copy is small (some 50 ms of writes) and done when nobody waits.
    /// Otherwise the WAL is copied completely only inside the commit that finds it past <c>wal_autocheckpoint</c>
    /// pages (<see cref="CheckpointAsync"/>): a copy of up to half a second of writes and a sync of the file, some
    /// 10 to 25 ms, held by every write queued meanwhile, a few times a minute under a moderate load. Once the WAL
    /// is copied completely, the next commit starts it again from its beginning. Under a saturating load the queue
    /// is never empty, and the background checkpoints do the copying as before.
    /// </summary>
    private async Task CheckpointWhenIdleAsync()
    {
        if (connection is null || Stopwatch.GetElapsedTime(lastIdleCheckpoint) < IdleCheckpointEvery) return;
        lastIdleCheckpoint = Stopwatch.GetTimestamp();
        try
        {
            // PASSIVE waits for no one: while the background checkpointer runs, this copies nothing and says so.
            await using var checkpoint = connection.Sql("PRAGMA wal_checkpoint(PASSIVE)");
            await checkpoint.ExecuteNonQueryAsync();
            Interlocked.Increment(ref idleCheckpoints);
        }
        catch (SqliteException)
        {
            // Nothing is lost: the background checkpoints and the writer's own at wal_autocheckpoint copy it later.
        }
    }

    /// <summary>How often the WAL is copied into the database file.</summary>
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromMilliseconds(500);

    private readonly CancellationTokenSource stopping = new();
    private Task? checkpoints;

    /// <summary>
    /// Copies the WAL into the database file, on a connection of its own, twice a second. SQLite checkpoints
    /// inside the commit that finds the WAL past <c>wal_autocheckpoint</c> pages, on the writer, which holds
    /// every write meanwhile: at the default of 1,000 pages the message load checkpointed many times a second,
    /// each time copying the same hot pages (the tails of the busy sessions) and syncing the database file, a
    /// quarter of the writer's commit time; at 10,000 pages that cost went, but with 500 conversations one
    /// checkpoint held the writer for up to half a second (a realtime p99 of 547 ms). So the copying is done
    /// here: a PASSIVE checkpoint waits for no one and the writer goes on appending meanwhile, with FULL
    /// syncing the WAL before the copy and the file after, so what a commit made durable stays durable. The
    /// writer still checkpoints at 10,000 pages, which then has only the last half second left to copy: that
    /// completes the copy, and a WAL copied completely starts again from its beginning at the next write.
    /// Without it the copy never catches up under constant writes, so the WAL never starts again and grows;
    /// measured that way, the send rate was a quarter lower (three alternating pairs), the likely cause being
    /// that appending to a growing file makes every commit's sync dearer than rewriting one.
    /// </summary>
    private async Task CheckpointAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(CheckpointEvery);
        SqliteConnection? checkpointer = null;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    if (checkpointer is null)
                    {
                        checkpointer = new SqliteConnection(connectionString);
                        await checkpointer.OpenAsync(stop);
                        await using var pragma = checkpointer.CreateCommand();
                        pragma.CommandText = "PRAGMA synchronous = FULL;";
                        await pragma.ExecuteNonQueryAsync(stop);
                    }
                    await using var checkpoint = checkpointer.CreateCommand();
                    checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                    await checkpoint.ExecuteNonQueryAsync(stop);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A checkpoint that failed copied what it could; the next tick starts on a fresh connection
                    // (the writer's own checkpoints go on meanwhile, so the WAL stays bounded).
                    checkpointer?.Dispose();
                    checkpointer = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        finally
        {
            checkpointer?.Dispose();
        }
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

    internal override async Task MigrateOnceAsync(ILogger logger, CancellationToken cancellationToken)
    {
        // WAL is persistent: readers never block the writer. A new database gets 2 KB pages (a file that has
        // tables keeps the size it was made with; the pragma changes nothing there). A message dirties a few
        // pages of its own (its session's leaves in the message, sender and marker indexes), each copied whole
        // into the WAL at the batch's commit, which the writer spends half its time on: with 2 KB pages that
        // copy halves, and the send rate rose 1-26 % (median 10 %) in alternating runs (docs/performance.md).
        await using (var opened = await OpenAsync(cancellationToken))
        await using (var wal = opened.Sql("PRAGMA page_size = 2048; PRAGMA journal_mode = WAL;"))
            await wal.ExecuteNonQueryAsync(cancellationToken);
        Migrations.Run(DeployChanges.To.SqliteDatabase(connectionString), "sqlite", logger);
    }

    public override async ValueTask DisposeAsync()
    {
        disposed = true;
        await writer.DisposeAsync();
        await stopping.CancelAsync();
        if (checkpoints is not null) await checkpoints;
        stopping.Dispose();
        await ResetConnectionAsync();
        while (idleReaders.TryTake(out var idle)) idle.Retire();
        SqliteConnection.ClearAllPools();
    }
}
