using System.Diagnostics;
using System.Text.Json;

/// <summary>
/// The retention purge under load (issue 28): a year of one tenant's desk seeded in bulk (the reports' seed), the send
/// load of <c>send</c> without a purge, then <c>retention_days = 1</c> and the same load for as long as the purge runs.
/// Send p99 with against without, and the purge's rate: the messages it deleted over the time from the setting to its
/// audit row (the job looks every second: <c>Livechat__Retention__IntervalSeconds=1</c>).
/// </summary>
internal static class PurgeTimes
{
    public static async Task RunAsync(Service service, int sessionCount, int messageCount, int clients, int seconds, int warmup)
    {
        var now = DateTimeOffset.UtcNow;
        var (expiredSessions, expiredMessages, seeded) = await ReportTimes.SeedAsync(service, sessionCount, messageCount, now, now.AddDays(-1));
        var load = await SendLoad.StartAsync(service, 64, clients);
        await load.RunAsync(TimeSpan.FromSeconds(warmup), record: false);
        await service.SettleAsync();
        var rateWithout = await load.RunAsync(TimeSpan.FromSeconds(seconds), record: true);
        var p99Without = load.TakeP99();

        var admin = Service.Admin(90_001);
        var purging = Stopwatch.StartNew();
        await service.SendAsync(admin, HttpMethod.Patch, "/livechat/settings", """{"retention_days":1}""");
        var done = PurgedAsync(service, admin);
        var rounds = 0;
        var rateWith = 0.0;
        // Rounds of a few seconds while the purge runs, so little of the last one falls after its end.
        while (!done.IsCompleted)
        {
            rateWith += await load.RunAsync(TimeSpan.FromSeconds(Math.Min(seconds, 3)), record: true);
            rounds++;
        }
        var (sessions, messages, attachments) = await done;
        var took = purging.Elapsed;
        var p99With = load.TakeP99();
        if (sessions < expiredSessions || messages < expiredMessages) // a session that expired between the seed and the purge counts too
            throw new InvalidOperationException($"the purge deleted {sessions} sessions and {messages} messages; {expiredSessions} and {expiredMessages} had expired");

        Console.WriteLine();
        Console.WriteLine($"## Purge on {service.Name}: {sessionCount:N0} sessions and {messageCount:N0} messages seeded in {seeded.TotalSeconds:0} s; {clients} clients sending meanwhile");
        Console.WriteLine();
        Console.WriteLine($"- purged **{sessions:N0} sessions and {messages:N0} messages** ({attachments} files) in {took.TotalSeconds:0.0} s: **{messages / took.TotalSeconds:0} messages/s**");
        Console.WriteLine($"- send without the purge: {rateWithout:0} messages/s, p99 **{p99Without:0.0} ms**");
        Console.WriteLine($"- send during the purge ({rounds} rounds): {rateWith / Math.Max(rounds, 1):0} messages/s, p99 **{p99With:0.0} ms** ({p99With / p99Without:0.00}×)");
        Console.WriteLine($"RESULT purge_rate={messages / took.TotalSeconds:0} p99_without={p99Without:0.00} p99_with={p99With:0.00} ratio={p99With / p99Without:0.00}");
    }

    /// <summary>Waits for the purge's audit row and answers its counts.</summary>
    private static async Task<(long Sessions, long Messages, long Attachments)> PurgedAsync(Service service, Participant admin)
    {
        while (true)
        {
            var (_, entries) = await service.GetDataAsync(admin, "/livechat/audit?limit=10");
            foreach (var entry in entries.EnumerateArray())
            {
                if (entry.GetProperty("action").GetString() != "retention.purged") continue;
                var counts = entry.GetProperty("target").GetString()!.Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
                return (counts["sessions"], counts["messages"], counts["attachments"]);
            }
            await Task.Delay(200);
        }
    }
}
