using System.Diagnostics;
using Livechat.Data;
using Microsoft.Data.Sqlite;
using Npgsql;

/// <summary>
/// The retention purge under load (issue 28): a year of one tenant's desk seeded in bulk (the reports' seed), the send
/// load of <c>send</c> without a purge, then <c>retention_days = 1</c> and the same load for as long as the purge runs.
/// Send p99 with against without, and the purge's rate: the messages it deleted (its audit rows' counts) over the time
/// from the setting to the moment the database holds no expired session (the job looks every second:
/// <c>Livechat__Retention__IntervalSeconds=1</c>).
/// </summary>
internal static class PurgeTimes
{
    public static async Task RunAsync(Service service, int sessionCount, int messageCount, int clients, int seconds, int warmup)
    {
        var now = DateTimeOffset.UtcNow;
        var closedBefore = now.AddDays(-1);
        var (expiredSessions, expiredMessages, seeded) = await ReportTimes.SeedAsync(service, sessionCount, messageCount, now, closedBefore);
        if (service.Postgres is { } postgres)
        {
            // A year's rows in a real database were vacuumed and checkpointed long ago; right after the seed's COPY,
            // autovacuum and the checkpoint of its WAL ran during the measure without a purge (its p99 was twice the
            // one during the purge).
            await using var connection = new NpgsqlConnection(postgres);
            await connection.OpenAsync();
            foreach (var sql in new[] { "VACUUM ANALYZE", "CHECKPOINT" }) // one at a time: VACUUM runs outside a transaction block
            {
                await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
                await command.ExecuteNonQueryAsync();
            }
        }
        var load = await SendLoad.StartAsync(service, 64, clients);
        await load.RunAsync(TimeSpan.FromSeconds(warmup), record: false);
        await service.SettleAsync();
        var rateWithout = await load.RunAsync(TimeSpan.FromSeconds(seconds), record: true);
        var p99Without = load.TakeP99();

        var admin = Service.Admin(90_001);
        var purging = Stopwatch.StartNew();
        await service.SendAsync(admin, HttpMethod.Patch, "/livechat/settings", """{"retention_days":1}""");
        // The purge's end is the database's: no expired session left (the job's audit row comes at the end of a run,
        // and a run that fails part-way, or a later run that finds the sessions expired since, writes its own).
        var done = ExpiredGoneAsync(service, closedBefore);
        var rounds = 0;
        var rateWith = 0.0;
        // Rounds of a few seconds while the purge runs, so little of the last one falls after its end.
        while (!done.IsCompleted)
        {
            rateWith += await load.RunAsync(TimeSpan.FromSeconds(Math.Min(seconds, 3)), record: true);
            rounds++;
        }
        await done;
        var took = purging.Elapsed;
        var p99With = load.TakeP99();
        var (runs, sessions, messages, attachments) = await AuditedAsync(service, admin, expiredSessions);
        if (sessions < expiredSessions || messages < expiredMessages) // a session that expired between the seed and the purge counts too
            throw new InvalidOperationException($"the purge's audit rows count {sessions} sessions and {messages} messages; {expiredSessions} and {expiredMessages} had expired");

        Console.WriteLine();
        Console.WriteLine($"## Purge on {service.Name}: {sessionCount:N0} sessions and {messageCount:N0} messages seeded in {seeded.TotalSeconds:0} s; {clients} clients sending meanwhile");
        Console.WriteLine();
        Console.WriteLine($"- purged **{sessions:N0} sessions and {messages:N0} messages** ({attachments} files; {runs} audit rows) in {took.TotalSeconds:0.0} s: **{messages / took.TotalSeconds:0} messages/s**");
        Console.WriteLine($"- send without the purge: {rateWithout:0} messages/s, p99 **{p99Without:0.0} ms**");
        Console.WriteLine($"- send during the purge ({rounds} rounds): {rateWith / Math.Max(rounds, 1):0} messages/s, p99 **{p99With:0.0} ms** ({p99With / p99Without:0.00}×)");
        Console.WriteLine($"RESULT purge_rate={messages / took.TotalSeconds:0} p99_without={p99Without:0.00} p99_with={p99With:0.00} ratio={p99With / p99Without:0.00}");
    }

    /// <summary>Waits until the database holds none of the sessions seeded closed before <paramref name="closedBefore"/>.</summary>
    private static async Task ExpiredGoneAsync(Service service, DateTimeOffset closedBefore)
    {
        const string sql = "SELECT COUNT(*) FROM session_facts WHERE tenant_id = 1 AND closed_at < @before";
        while (true)
        {
            long left;
            if (service.Postgres is { } postgres)
            {
                await using var connection = new NpgsqlConnection(postgres);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(sql, connection);
                command.Parameters.AddWithValue("before", closedBefore.ToUniversalTime());
                left = (long)(await command.ExecuteScalarAsync())!;
            }
            else
            {
                await using var connection = new SqliteConnection(service.DatabaseConnectionString);
                await connection.OpenAsync();
                await using var command = connection.CreateCommand();
                command.CommandText = sql;
                command.Parameters.AddWithValue("@before", DbCommandExtensions.SqliteTimestamp(closedBefore));
                left = (long)(await command.ExecuteScalarAsync())!;
            }
            if (left == 0) return;
            await Task.Delay(1000);
        }
    }

    /// <summary>
    /// The purge's <c>retention.purged</c> audit rows, summed, once they count at least <paramref name="expiredSessions"/>
    /// sessions (the last run's row comes right after its last batch); throws if they do not within a minute.
    /// </summary>
    private static async Task<(int Rows, long Sessions, long Messages, long Attachments)> AuditedAsync(Service service, Participant admin, int expiredSessions)
    {
        var waiting = Stopwatch.StartNew();
        while (true)
        {
            var (_, entries) = await service.GetDataAsync(admin, "/livechat/audit?limit=100");
            var rows = entries.EnumerateArray().Where(e => e.GetProperty("action").GetString() == "retention.purged")
                .Select(e => e.GetProperty("target").GetString()!.Split(' ').Select(p => p.Split('='))
                    .ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)))
                .ToList();
            var sessions = rows.Sum(r => r["sessions"]);
            if (sessions >= expiredSessions || waiting.Elapsed > TimeSpan.FromMinutes(1))
                return (rows.Count, sessions, rows.Sum(r => r["messages"]), rows.Sum(r => r["attachments"]));
            await Task.Delay(200);
        }
    }
}
