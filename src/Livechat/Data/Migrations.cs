using DbUp;
using Npgsql;

namespace Livechat.Data;

/// <summary>
/// Applies the numbered SQL files under <c>Data/migrations/{provider}/</c> with DbUp, each in its own
/// transaction, recorded in DbUp's journal table. On PostgreSQL an advisory lock serialises instances that
/// start (or run <c>migrate</c>) at the same moment.
/// </summary>
public static class Migrations
{
    private const long PostgresLockKey = 0x4C69766563686174; // "Livechat"

    public static async Task ApplyAsync(Database database, ILogger logger, CancellationToken cancellationToken)
    {
        if (database.IsPostgres)
        {
            await using var connection = (NpgsqlConnection)await database.OpenAsync(cancellationToken);
            await using (var lockCommand = connection.Sql("SELECT pg_advisory_lock(@key)").With("key", PostgresLockKey))
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            try
            {
                Run(DeployChanges.To.PostgresqlDatabase(database.ConnectionString), "postgres", logger);
            }
            finally
            {
                await using var unlock = connection.Sql("SELECT pg_advisory_unlock(@key)").With("key", PostgresLockKey);
                await unlock.ExecuteNonQueryAsync(CancellationToken.None);
            }
            return;
        }

        await using (var connection = await database.OpenAsync(cancellationToken))
        await using (var wal = connection.Sql("PRAGMA journal_mode = WAL;"))
            await wal.ExecuteNonQueryAsync(cancellationToken); // persistent: readers never block the writer
        Run(DeployChanges.To.SqliteDatabase(database.ConnectionString), "sqlite", logger);
    }

    private static void Run(DbUp.Builder.UpgradeEngineBuilder builder, string provider, ILogger logger)
    {
        var result = builder
            .WithScriptsEmbeddedInAssembly(typeof(Migrations).Assembly, name => name.Contains($".migrations.{provider}.", StringComparison.Ordinal))
            .WithTransactionPerScript()
            .LogTo(logger)
            .Build()
            .PerformUpgrade();
        if (!result.Successful)
            throw new InvalidOperationException($"Database migration {result.ErrorScript?.Name} failed: {result.Error?.Message}", result.Error);
    }
}
