using System.Data;
using System.Data.Common;
using System.Globalization;
using Livechat.Api;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Livechat.Data;

/// <summary>
/// The one door to storage. Feature stores write SQL that both providers understand (named <c>@</c>
/// parameters, <c>ON CONFLICT</c>, <c>RETURNING</c>) and go through <see cref="ReadAsync{T}"/> and
/// <see cref="WriteAsync{T}"/>, which hide the few provider differences: SQLite allows one writer at a time,
/// so writes queue for one in-process writer that commits them in groups (<see cref="SqliteWriter"/>) instead
/// of spinning on SQLITE_BUSY; PostgreSQL runs them concurrently and lets row locks and constraints decide.
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly SqliteWriter? sqliteWriter;
    // Striped, so memory stays bounded whatever the number of sessions; two sessions sharing a stripe only wait
    // for each other in this process. Taken before any connection or row lock, so it cannot join a deadlock.
    private readonly SemaphoreSlim[] orderGates = Enumerable.Range(0, 256).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly NpgsqlDataSource? postgres;
    private readonly string? sqliteConnectionString;
    private readonly TimeProvider time;

    public Database(IOptions<DatabaseOptions> options, TimeProvider time)
    {
        this.time = time;
        var o = options.Value;
        IsPostgres = o.IsPostgres;
        if (IsPostgres)
        {
            if (string.IsNullOrWhiteSpace(o.ConnectionString))
                throw new OptionsValidationException(DatabaseOptions.Section, typeof(DatabaseOptions),
                    ["Livechat:Database:ConnectionString is required when the provider is postgres."]);
            PostgresConnectionString = PostgresDefaults(o.ConnectionString);
            postgres = new NpgsqlDataSourceBuilder(PostgresConnectionString).Build();
        }
        else
        {
            sqliteConnectionString = SqliteConnectionString(o.ConnectionString);
            sqliteWriter = new SqliteWriter(OpenSqliteWriterAsync, time);
        }
        StartupRetry = TimeSpan.FromSeconds(o.StartupRetrySeconds);
    }

    public bool IsPostgres { get; }

    public string Describe => IsPostgres ? "postgres" : "sqlite";

    /// <summary>Which database, for messages: the provider and where it is, never a password.</summary>
    public string Where
    {
        get
        {
            if (PostgresConnectionString is { } postgresConnection)
            {
                var b = new NpgsqlConnectionStringBuilder(postgresConnection);
                return $"postgres at {b.Host}:{b.Port}/{b.Database ?? b.Username}";
            }
            return $"sqlite at {new SqliteConnectionStringBuilder(sqliteConnectionString).DataSource}";
        }
    }

    /// <summary>How long start-up (and <c>migrate</c>) waits for a database that does not answer yet.</summary>
    public TimeSpan StartupRetry { get; }

    /// <summary>
    /// The full PostgreSQL connection string, password included, for the migration library's own connections
    /// (<see cref="NpgsqlDataSource.ConnectionString"/> leaves the password out).
    /// </summary>
    internal string? PostgresConnectionString { get; }

    /// <summary>
    /// The Npgsql connection string with the defaults we rely on, unless the operator set them: automatic
    /// preparation of the statements that repeat (insert a message, read a page), so PostgreSQL plans them once
    /// per connection instead of once per call.
    /// </summary>
    public static string PostgresDefaults(string configured)
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

    /// <summary>The SQLite connection string with the defaults we rely on; creates the file's folder.</summary>
    public static string SqliteConnectionString(string? configured)
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

    public string ConnectionString => postgres?.ConnectionString ?? sqliteConnectionString!;

    /// <summary>A connection for reading (on SQLite a pooled one; WAL readers never wait for the writer).</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (postgres is not null) return await postgres.OpenConnectionAsync(cancellationToken);
        var connection = new SqliteConnection(sqliteConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>The SQLite writer's one connection, opened once and kept by <see cref="SqliteWriter"/>.</summary>
    private async Task<SqliteConnection> OpenSqliteWriterAsync(CancellationToken cancellationToken)
    {
        var connection = (SqliteConnection)await OpenAsync(cancellationToken);
        // Per connection, not per file: FULL makes a commit survive a power cut, as PostgreSQL's does (it is
        // SQLite's default too; stated here so no build option can weaken it). The busy timeout covers other
        // processes that write to the file (the command-line verbs).
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    public async Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await work(connection);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction and commits it; the result is durable when this returns.
    /// <paramref name="afterCommit"/> runs once the commit succeeded. On SQLite it runs before the next writer
    /// starts, so what it publishes goes out in commit order (see Realtime/RealtimePublisher). PostgreSQL runs
    /// writers concurrently: there, writes that pass the same <paramref name="orderKey"/> (a session id) run
    /// one at a time in this process, so their after-commit hooks run in their commit order too.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken, Action<T>? afterCommit = null,
        Guid? orderKey = null)
    {
        if (postgres is not null)
        {
            // Without this, the row lock orders the commits but not what happens after them: the writer that
            // committed second could publish first, and a push stream would see seq 8 before seq 7.
            var gate = orderKey is { } key ? orderGates[(key.GetHashCode() & int.MaxValue) % orderGates.Length] : null;
            if (gate is not null) await gate.WaitAsync(cancellationToken);
            try
            {
                await using var connection = await postgres.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
                var claim = await ClaimIdempotencyKeyAsync(connection, transaction, cancellationToken);
                var result = await work(connection, transaction);
                // As on SQLite: once the work is done the commit must land or fail loudly, not be cancelled half-way.
                await transaction.CommitAsync(CancellationToken.None);
                if (claim is not null) claim.Committed = true;
                afterCommit?.Invoke(result);
                return result;
            }
            finally
            {
                gate?.Release();
            }
        }

        // One writer for the file, committing in groups (see SqliteWriter). The claim travels with the write,
        // since the write runs on the writer's loop, not in this request's async flow.
        return await sqliteWriter!.WriteAsync(work, IdempotencyClaim.Pending, afterCommit, cancellationToken);
    }

    /// <summary>
    /// The first write of a POST with an <c>Idempotency-Key</c> records the key in its own transaction, so the
    /// key and the write commit together (Api/Idempotency.cs). Later writes of the same request do not.
    /// </summary>
    private async Task<IdempotencyClaim?> ClaimIdempotencyKeyAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        if (IdempotencyClaim.Pending is not { } claim) return null;
        await claim.ClaimAsync(connection, transaction, time.Now(), cancellationToken);
        return claim;
    }

    public async ValueTask DisposeAsync()
    {
        if (postgres is not null) await postgres.DisposeAsync();
        if (sqliteWriter is not null) await sqliteWriter.DisposeAsync();
        foreach (var gate in orderGates) gate.Dispose();
        if (sqliteConnectionString is not null) SqliteConnection.ClearAllPools();
    }
}

/// <summary>Small helpers that keep SQL call sites short and provider-neutral.</summary>
public static class DbCommandExtensions
{
    public static DbCommand Sql(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>
    /// Adds a named parameter. SQLite keeps ids and timestamps as text (see the schema), so they are
    /// converted here, once, for every statement; PostgreSQL takes them as <c>uuid</c> and <c>timestamptz</c>.
    /// A null is sent to PostgreSQL with the type of <typeparamref name="T"/> (a <c>long?</c> is a null
    /// <c>bigint</c>), so the server never has to guess the type of an untyped null.
    /// </summary>
    public static DbCommand With<T>(this DbCommand command, string name, T value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        if (command is SqliteCommand)
        {
            parameter.Value = ForSqlite(value) ?? DBNull.Value;
        }
        else
        {
            parameter.Value = (object?)value ?? DBNull.Value;
            if (value is null && parameter is NpgsqlParameter typed && PostgresTypeOf(typeof(T)) is { } type) typed.NpgsqlDbType = type;
        }
        command.Parameters.Add(parameter);
        return command;
    }

    private static NpgsqlTypes.NpgsqlDbType? PostgresTypeOf(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(Guid) => NpgsqlTypes.NpgsqlDbType.Uuid,
        var t when t == typeof(string) => NpgsqlTypes.NpgsqlDbType.Text,
        var t when t == typeof(long) => NpgsqlTypes.NpgsqlDbType.Bigint,
        var t when t == typeof(int) => NpgsqlTypes.NpgsqlDbType.Integer,
        var t when t == typeof(bool) => NpgsqlTypes.NpgsqlDbType.Boolean,
        var t when t == typeof(DateTimeOffset) || t == typeof(DateTime) => NpgsqlTypes.NpgsqlDbType.TimestampTz,
        _ => null,
    };

    /// <summary>An id read with ExecuteScalar: PostgreSQL returns a <see cref="Guid"/>, SQLite its text.</summary>
    public static Guid ToId(object value) => value is Guid id ? id : Guid.Parse((string)value);

    public static string SqliteTimestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static object? ForSqlite<T>(T value) => value switch
    {
        Guid id => id.ToString("D"),
        DateTimeOffset time => SqliteTimestamp(time),
        _ => value,
    };

    public static Guid GetId(this DbDataReader reader, int ordinal) => reader.GetGuid(ordinal);

    public static DateTimeOffset GetTime(this DbDataReader reader, int ordinal) =>
        reader.GetFieldValue<DateTimeOffset>(ordinal).ToUniversalTime();

    public static DateTimeOffset? GetTimeOrNull(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetTime(ordinal);

    public static long? GetInt64OrNull(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);
}
