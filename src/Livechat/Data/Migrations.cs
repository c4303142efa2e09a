using System.Diagnostics;
using DbUp;
using Npgsql;

namespace Livechat.Data;

/// <summary>
/// Applies the numbered SQL files under <c>Data/migrations/{provider}/</c> with DbUp, each in its own
/// transaction, recorded in DbUp's journal table. On PostgreSQL an advisory lock serialises instances that
/// start (or run <c>migrate</c>) at the same moment. A database that does not answer yet (a container
/// starting beside the service) is waited for, with backoff, up to <see cref="Database.StartupRetry"/>.
/// </summary>
public static class Migrations
{
    private static readonly TimeSpan FirstWait = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(5);

    public static async Task ApplyAsync(Database database, ILogger logger, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        var wait = FirstWait;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await database.MigrateOnceAsync(logger, cancellationToken);
                return;
            }
            catch (Exception e) when (IsNotUpYet(e) && !cancellationToken.IsCancellationRequested)
            {
                var left = database.StartupRetry - waited.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    throw new DatabaseUnavailableException(
                        $"the database ({database.Where}) did not answer within {database.StartupRetry.TotalSeconds:0} s " +
                        $"(Livechat:Database:StartupRetrySeconds): {Innermost(e).Message} Check that it is running and that " +
                        "Livechat:Database:ConnectionString points at it.", e);
                }
                var delay = wait < left ? wait : left;
                logger.LogWarning("The database ({Database}) does not answer yet ({Reason}); attempt {Attempt}, waiting {Delay:0.0} s, giving up after {Limit:0} s.",
                    database.Where, Innermost(e).Message, attempt, delay.TotalSeconds, database.StartupRetry.TotalSeconds);
                await Task.Delay(delay, cancellationToken);
                wait = wait * 2 < LongestWait ? wait * 2 : LongestWait;
            }
        }
    }

    /// <summary>Only "not reachable yet" is worth waiting for; a wrong password or a missing database is not.</summary>
    private static bool IsNotUpYet(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            if (current is NpgsqlException { IsTransient: true }) return true;
        }
        return false;
    }

    private static Exception Innermost(Exception e) => e is NpgsqlException || e.InnerException is not { } inner ? e : Innermost(inner);

    internal static void Run(DbUp.Builder.UpgradeEngineBuilder builder, string provider, ILogger logger)
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

/// <summary>The database did not answer within the start-up retry time: the operator's to fix, said without a stack trace.</summary>
public sealed class DatabaseUnavailableException(string message, Exception inner) : Exception(message, inner);
