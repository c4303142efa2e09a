// Livechat benchmark. Each mode starts what it measures itself; bench/run runs them all in one go, with
// pgbench on a throwaway PostgreSQL, and prints the ratios.
//   send           the real service as its own process (Production settings; a fresh SQLite file, or the
//                  PostgreSQL of --postgres), --clients concurrent clients POSTing messages round-robin over
//                  --sessions sessions (each one an agent's, with a tenant user taking part: both sides write).
//                  --rounds n measures n times in a row and reports the median rate.
//   compare        send on PostgreSQL (--postgres) and on SQLite, then sqlite-commits, in --rounds alternating rounds
//                  (both services run side by side): the ratios of bench/run, each a median of same-minute ratios.
//   builds         send with this build and with the build in folder --other, side by side in --rounds alternating
//                  rounds: the median same-minute ratio. On PostgreSQL with --postgres and --other-postgres (a
//                  database each), on a fresh SQLite file each without them. --build FOLDER: this side runs that
//                  folder's Livechat.dll instead of this build's (two published builds side by side).
//   sqlite-commits SQLite's own ceiling: one connection, WAL, synchronous=FULL, one single-row INSERT per commit.
//   realtime       --conversations conversations, an agent and a tenant user each on the hub (two connections
//                  per conversation), --rate messages/s in total: POST sent → messageCreated at the other side.
//   references     an endpoint that does nothing, and an authenticated read.
//   cold           the send load of `send` from the moment /health/ready answers (sessions created, then messages for
//                  --seconds, no warm-up), then --warmup s more, then the warm rate: the cold/warm ratio, and the time
//                  from the process's start to ready. --build FOLDER runs that folder's Livechat.dll (a published build).
//                  --warm-client S first runs the load for S s against a throwaway service, so the load generator's
//                  own compilation is done before the service under test starts. --cold-cpu S: the cold window ends
//                  when the service has spent S s of CPU instead (a shared machine); then compare cpu_ratio, the warm
//                  CPU per message over the cold. --pre S [--pre-clients N]: S s of sends from N clients (1) between
//                  ready and the cold window, as a warm-up before readiness would be (how much warm-up the target needs).
// send, realtime and references take --warmup s: the same load first, not measured, so the service's code has
// been compiled for its steady state (a fresh .NET process runs instrumented code for its first seconds).
//   session-list   --sessions sessions of --messages messages each, then GET /livechat/sessions (every row with
//                  the caller's unread_count and its last_message) for an agent to whom every message is unread.
//   attachments    16 concurrent 10 MiB uploads (RSS growth, MiB/s against the disk's write+fsync of the same files),
//                  downloads at c=16 against Kestrel serving the same file statically, and a send with one attachment
//                  against a plain send (--sends messages each way), in --rounds alternating rounds; on PostgreSQL
//                  with --store database the bytes go to the database (AttachmentThroughput.cs).
//   webhooks       --messages messages from --senders agents while 1, then 8 webhooks subscribe to message.created;
//                  a receiver on loopback answers 200: deliveries/s and the delay from 201 to delivery.
//   reports        a year of one tenant, --sessions sessions (100,000) and --messages messages (1,000,000) with the
//                  facts the write path records, written straight into the database in bulk; then each report
//                  (summary, agents, daily) for 30 and 365 days, --repeat times one at a time: p50, p95, max. --keep
//                  FILE keeps a copy of the seeded SQLite database (to read plans with the sqlite3 shell).
//   search         one tenant with --messages messages (1,000,000) over --sessions sessions (50,000), and --noise messages
//                  (250,000) of four other tenants, words drawn from a Zipf distribution over a generated vocabulary;
//                  written in bulk without their index, which the service's backfill then builds after a restart (timed);
//                  then queries of 1, 2 and 3 words, common and rare, a prefix and a phrase, --concurrency (8) at once,
//                  --repeat (200) each: p50, p95, and CPU per search of the service and of PostgreSQL's backends
//                  (SearchTimes.cs). SQLite: --keep FILE keeps a copy of the seeded and indexed database; --reuse FILE
//                  starts from such a copy instead (no seed, no backfill: the queries only). PostgreSQL: the database is
//                  left as the run made it; --reuse seeded runs the queries only on such a database (no reset, no seed).
//                  Before the timed queries, --warmup (60) seconds of them in turn, so the service's code is compiled as it is
//                  in a service that has run a while. --only Q: the query Q (as the table prints it) and the reference alone.
//   purge          the reports' seed (--sessions, --messages), then the send load of `send` for --seconds without a
//                  purge, then retention_days = 1 and the same load for as long as the purge runs: send p99 with and
//                  without the purge, and the purge's rate (messages/s, from the setting until no expired session is
//                  left in the database; the counts are its audit rows').
//   purge-steps    --reuse FILE (a seed kept by `reports --keep`): --batches (200) of the retention job's own batch of
//                  --budget (500) messages on a copy, in this process, each timed statement by statement with its plan;
//                  --indexed first gives the 20,000 oldest sessions' messages a search entry; --notifications N adds N notifications of
//                  other sessions of the tenant, as the send load leaves them (PurgeSteps.cs).
// Every mode ends with one "RESULT key=value ..." line for bench/run.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Livechat.Auth;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Data.Sqlite;

var mode = args.FirstOrDefault() ?? "send";
var seconds = Option("--seconds", 10);
var clients = Option("--clients", 64);
var postgres = TextOption("--postgres");
// --service-env NAME=VALUE,NAME=VALUE: more environment for the service's process only (runtime knobs: DOTNET_TieredPGO=0...).
foreach (var pair in (TextOption("--service-env") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
    Service.ExtraEnvironment[pair[..pair.IndexOf('=', StringComparison.Ordinal)]] = pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..];
// --service-log FILE: the service processes' output (their log: Warning and above unless --service-env says more) appended to FILE.
Service.LogPath = TextOption("--service-log");
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

switch (mode)
{
    case "sqlite-commits":
        SqliteCommits();
        return 0;
    case "compare" when postgres is not null:
        await CompareAsync(postgres, Option("--sessions", 64));
        return 0;
    case "builds" when TextOption("--other") is { } other && (postgres is null) == (TextOption("--other-postgres") is null):
        await BuildsAsync(postgres, other, TextOption("--other-postgres"), Option("--sessions", 64));
        return 0;
    case "cold":
        await ColdAsync(postgres, Option("--sessions", 64));
        return 0;
    case "purge-steps" when TextOption("--reuse") is { } seeded:
        await PurgeSteps.RunAsync(seeded, Option("--batches", 200), Option("--budget", 500), args.Contains("--indexed"), Option("--notifications", 0));
        return 0;
    case "attachments":
        await using (var service = await Service.StartAsync(postgres, store: TextOption("--store") ?? "disk"))
            await AttachmentThroughput.RunAsync(service, seconds, Option("--rounds", 3), Option("--sends", 1600));
        return 0;
    case "send":
    case "realtime":
    case "references":
    case "session-list":
    case "routing":
    case "webhooks":
    case "reports":
    case "search":
    case "purge":
        // The purge bench's service looks for expired sessions every second, so the purge starts right after the setting.
        if (mode == "purge") Service.ExtraEnvironment["Livechat__Retention__IntervalSeconds"] = "1";
        await using (var service = await Service.StartAsync(postgres, seeded: mode == "search" && postgres is not null && TextOption("--reuse") is not null))
        {
            if (mode == "send") await SendAsync(service, Option("--sessions", 64));
            else if (mode == "session-list") await SessionListAsync(service, Option("--sessions", 100), Option("--messages", 1000));
            else if (mode == "realtime") await RealtimeAsync(service, Option("--conversations", 500), Option("--rate", 500));
            else if (mode == "routing") await RoutingAsync(service, Option("--users", 1000));
            else if (mode == "webhooks") await WebhookThroughput.RunAsync(service, Option("--messages", 1000), Option("--senders", 16));
            else if (mode == "reports") await ReportTimes.RunAsync(service, Option("--sessions", 100_000), Option("--messages", 1_000_000), Option("--repeat", 40), TextOption("--keep"));
            else if (mode == "search") await SearchTimes.RunAsync(service, Option("--sessions", 50_000), Option("--messages", 1_000_000), Option("--noise", 250_000), Option("--repeat", 200), Option("--concurrency", 8),
                TextOption("--keep"), TextOption("--reuse"), Option("--warmup", 60), TextOption("--only"));
            else if (mode == "purge") await PurgeTimes.RunAsync(service, Option("--sessions", 100_000), Option("--messages", 1_000_000), clients, seconds, Option("--warmup", 10));
            else await ReferencesAsync(service);
        }
        return 0;
    default:
        Console.Error.WriteLine($"unknown mode {mode} (compare needs --postgres; builds needs --other, and on PostgreSQL both --postgres and --other-postgres): send | cold | compare | builds | sqlite-commits | realtime | references | routing | session-list | webhooks | reports | search | purge | purge-steps");
        return 2;
}

void SqliteCommits()
{
    var rate = CommitLoopRate(seconds);
    Console.WriteLine();
    Console.WriteLine("## SQLite alone: one connection, synchronous=FULL, one single-row INSERT per commit");
    Console.WriteLine();
    Console.WriteLine($"**{rate:0} commits/s**");
    Console.WriteLine($"RESULT rate={rate:0}");
}

double CommitLoopRate(int duration)
{
    var folder = Directory.CreateTempSubdirectory("livechat-bench-sqlite-").FullName;
    try
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "commits.db")};Pooling=False");
        connection.Open();
        using (var setup = connection.CreateCommand())
        {
            setup.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE rows (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, at TEXT NOT NULL);";
            setup.ExecuteNonQuery();
        }
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO rows (v, at) VALUES (1, @at)";
        var at = insert.Parameters.Add("@at", SqliteType.Text);
        insert.Prepare();
        var count = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < duration)
        {
            using var transaction = connection.BeginTransaction();
            insert.Transaction = transaction;
            at.Value = DateTime.UtcNow.ToString("O");
            insert.ExecuteNonQuery();
            transaction.Commit();
            count++;
        }
        return count / clock.Elapsed.TotalSeconds;
    }
    finally
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}

// Over the first seconds after readiness (a deploy, a restart after a crash: when load is highest) against the
// steady state of the same process, same minute.
async Task ColdAsync(string? postgresConnection, int sessionCount)
{
    // --warm-client S: first run this load generator for S s against a throwaway service (its own SQLite file), so
    // the cold window measures the service's first seconds, not also this process compiling its HTTP client.
    if (Option("--warm-client", 0) is var warmClient and > 0)
    {
        await using var throwaway = await Service.StartAsync(null);
        await (await SendLoad.StartAsync(throwaway, sessionCount, clients)).RunAsync(TimeSpan.FromSeconds(warmClient), record: false);
    }
    await using var service = await Service.StartAsync(postgresConnection, TextOption("--build"));
    var ready = service.ReadyAfter;
    var load = await SendLoad.StartAsync(service, sessionCount, clients);
    if (Option("--pre", 0) is var pre and > 0) await load.RunAsync(TimeSpan.FromSeconds(pre), record: false, Option("--pre-clients", 1));
    using var timelineStop = new CancellationTokenSource();
    var timeline = Task.Run(async () =>
    {
        // Each second of the cold window: messages, the service's CPU and this load generator's own CPU (ms), so a
        // slow start shows whether the service or the client was the one still compiling.
        var (lastSent, lastService, lastClient) = (0, service.CpuTime, Process.GetCurrentProcess().TotalProcessorTime);
        var lines = new List<string>();
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await tick.WaitForNextTickAsync(timelineStop.Token).AsTask().ContinueWith(t => !t.IsCanceled && t.Result))
        {
            var (nowSent, nowService, nowClient) = (load.Sent(), service.CpuTime, Process.GetCurrentProcess().TotalProcessorTime);
            lines.Add($"{nowSent - lastSent}/{(nowService - lastService).TotalMilliseconds:0}/{(nowClient - lastClient).TotalMilliseconds:0}");
            (lastSent, lastService, lastClient) = (nowSent, nowService, nowClient);
        }
        return lines;
    });
    var coldCpu = service.CpuTime;
    // --cold-cpu S: the cold window lasts until the service has spent S s of CPU rather than --seconds s, so on a
    // machine shared with other work it still covers as much of the service's start as a quiet machine's 10 s do.
    var coldCpuSeconds = Option("--cold-cpu", 0);
    using var coldDone = new CancellationTokenSource();
    var coldWatch = coldCpuSeconds > 0 ? Task.Run(async () =>
    {
        while ((service.CpuTime - coldCpu).TotalSeconds < coldCpuSeconds) await Task.Delay(50);
        await coldDone.CancelAsync();
    }) : Task.CompletedTask;
    var coldClock = Stopwatch.StartNew();
    var cold = await load.RunAsync(coldCpuSeconds > 0 ? TimeSpan.FromMinutes(5) : TimeSpan.FromSeconds(seconds), record: true, sooner: coldDone.Token);
    var coldSeconds = coldClock.Elapsed.TotalSeconds;
    coldCpu = service.CpuTime - coldCpu;
    await coldWatch;
    var coldJit = await service.JitAsync();
    timelineStop.Cancel();
    Console.WriteLine($"TIMELINE messages/service-cpu-ms/client-cpu-ms per second: {string.Join(" ", await timeline)}");
    await load.RunAsync(TimeSpan.FromSeconds(Option("--warmup", 20)), record: false);
    await service.SettleAsync();
    var warmCpu = service.CpuTime;
    var warm = await load.RunAsync(TimeSpan.FromSeconds(seconds), record: true);
    warmCpu = service.CpuTime - warmCpu;
    var jit = await service.JitAsync();
    // The service's CPU per message in each window: on a machine shared with other work the rates follow the CPU
    // the service gets, while the CPU a message costs is what the cold start itself adds.
    var (coldCpuPerMessage, warmCpuPerMessage) = (coldCpu.TotalMicroseconds / Math.Max(1, cold * coldSeconds), warmCpu.TotalMicroseconds / Math.Max(1, warm * seconds));
    Console.WriteLine();
    Console.WriteLine($"## Cold start on {service.Name}: ready {ready.TotalSeconds:0.00} s after the process started");
    Console.WriteLine();
    Console.WriteLine($"- first {coldSeconds:0.0} s after ready: **{cold:0} messages/s**; after {Option("--warmup", 20)} s more: **{warm:0} messages/s**; cold/warm **{cold / warm:0.00}**");
    Console.WriteLine($"- service CPU per message: {coldCpuPerMessage:0} µs cold, {warmCpuPerMessage:0} µs warm; warm/cold **{warmCpuPerMessage / coldCpuPerMessage:0.00}**");
    Console.WriteLine($"- compiled by the JIT from the start: {coldJit.Methods} methods ({coldJit.Seconds:0.0} s) by the end of the cold window, {jit.Methods} ({jit.Seconds:0.0} s) by the end");
    Console.WriteLine($"RESULT cold={cold:0} warm={warm:0} ratio={cold / warm:0.00} ready_seconds={ready.TotalSeconds:0.00} cold_seconds={coldSeconds:0.0} cold_cpu_us={coldCpuPerMessage:0} warm_cpu_us={warmCpuPerMessage:0} cpu_ratio={warmCpuPerMessage / coldCpuPerMessage:0.00} " +
        $"cold_jit_methods={coldJit.Methods} cold_jit_seconds={coldJit.Seconds:0.0} jit_methods={jit.Methods} jit_seconds={jit.Seconds:0.0}");
}

async Task SendAsync(Service service, int sessionCount)
{
    var load = await SendLoad.StartAsync(service, sessionCount, clients);
    // A warm-up first: JIT, pools, prepared statements.
    await load.RunAsync(TimeSpan.FromSeconds(Option("--warmup", 2)), record: false);
    await service.SettleAsync();
    var rounds = Option("--rounds", 1);
    var rates = new List<double>();
    Console.WriteLine();
    Console.WriteLine($"## Send on {service.Name}: {clients} clients, {sessionCount} sessions round-robin, agents and tenant users alternating, {rounds} × {seconds} s");
    Console.WriteLine();
    for (var round = 1; round <= rounds; round++)
    {
        rates.Add(await load.RunAsync(TimeSpan.FromSeconds(seconds), record: true));
        Console.WriteLine($"- round {round}: **{rates[^1]:0} messages/s**, each durable before its 201");
    }
    Console.WriteLine();
    Console.WriteLine(Table.Header);
    Console.WriteLine(load.Row());
    Console.WriteLine($"RESULT rate={Median(rates):0} {load.Percentiles("")}");
}

// The send on both databases and SQLite's commit loop, in alternating rounds: both services run side by side
// (the one not measured is idle), so every ratio compares rates of the same minute.
async Task CompareAsync(string connectionString, int sessionCount)
{
    await using var onPostgres = await Service.StartAsync(connectionString);
    await using var onSqlite = await Service.StartAsync(null);
    var postgresLoad = await SendLoad.StartAsync(onPostgres, sessionCount, clients);
    var sqliteLoad = await SendLoad.StartAsync(onSqlite, sessionCount, clients);
    foreach (var load in new[] { postgresLoad, sqliteLoad })
    {
        await load.RunAsync(TimeSpan.FromSeconds(Option("--warmup", 2)), record: false);
        await load.Service.SettleAsync();
    }
    var rounds = Option("--rounds", 3);
    var (postgres, sqlite, commits) = (new List<double>(), new List<double>(), new List<double>());
    Console.WriteLine();
    Console.WriteLine($"## Send on PostgreSQL and on SQLite, then SQLite's own commit loop, {rounds} alternating rounds of {seconds} s each");
    Console.WriteLine();
    Console.WriteLine($"{clients} clients, {sessionCount} sessions round-robin, agents and tenant users alternating; every message durable before its 201.");
    Console.WriteLine("The commit loop: one connection, synchronous=FULL, one single-row INSERT per commit.");
    Console.WriteLine();
    Console.WriteLine("| round | PostgreSQL messages/s | SQLite messages/s | SQLite commit loop commits/s | PostgreSQL / SQLite | SQLite / commit loop |");
    Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
    for (var round = 1; round <= rounds; round++)
    {
        postgres.Add(await postgresLoad.RunAsync(TimeSpan.FromSeconds(seconds), record: true));
        sqlite.Add(await sqliteLoad.RunAsync(TimeSpan.FromSeconds(seconds), record: true));
        commits.Add(CommitLoopRate(seconds));
        Console.WriteLine($"| {round} | {postgres[^1]:0} | {sqlite[^1]:0} | {commits[^1]:0} | {postgres[^1] / sqlite[^1]:0.00} | {sqlite[^1] / commits[^1]:0.00} |");
    }
    Console.WriteLine();
    Console.WriteLine(Table.Header);
    Console.WriteLine(postgresLoad.Row());
    Console.WriteLine(sqliteLoad.Row());
    Console.WriteLine($"RESULT postgres={Median(postgres):0} sqlite={Median(sqlite):0} commits={Median(commits):0} " +
        $"postgres_sqlite={Median(postgres.Zip(sqlite, (a, b) => a / b).ToList()):0.00} sqlite_commits={Median(sqlite.Zip(commits, (a, b) => a / b).ToList()):0.00} " +
        $"{postgresLoad.Percentiles("postgres_")} {sqliteLoad.Percentiles("sqlite_")}");
}

// Two builds of the service, each on its own database, side by side in alternating rounds: whether a
// change saves anything, measured as a same-minute ratio (rates of one build drift by a quarter between minutes).
async Task BuildsAsync(string? connectionString, string other, string? otherConnectionString, int sessionCount)
{
    await using var thisBuild = await Service.StartAsync(connectionString, TextOption("--build"));
    await using var otherBuild = await Service.StartAsync(otherConnectionString, other);
    var loads = new[] { await SendLoad.StartAsync(thisBuild, sessionCount, clients), await SendLoad.StartAsync(otherBuild, sessionCount, clients) };
    foreach (var load in loads)
    {
        await load.RunAsync(TimeSpan.FromSeconds(Option("--warmup", 2)), record: false);
        await load.Service.SettleAsync();
    }
    var ratios = new List<double>();
    var cpuRatios = new List<double>();
    for (var round = 1; round <= Option("--rounds", 5); round++)
    {
        // Which build goes first alternates too, so neither always follows the other's checkpoint or autovacuum.
        var (first, second) = round % 2 == 1 ? (loads[0], loads[1]) : (loads[1], loads[0]);
        var (firstRate, firstCpu) = await RunMeasuringCpuAsync(first);
        var (secondRate, secondCpu) = await RunMeasuringCpuAsync(second);
        var (mine, theirs) = round % 2 == 1 ? (firstRate, secondRate) : (secondRate, firstRate);
        var (myCpu, theirCpu) = round % 2 == 1 ? (firstCpu, secondCpu) : (secondCpu, firstCpu);
        ratios.Add(theirs / mine);
        cpuRatios.Add(theirCpu / myCpu);
        Console.WriteLine($"- round {round}: this build {mine:0}/s ({myCpu:0} µs CPU a message), the other {theirs:0}/s ({theirCpu:0} µs), " +
            $"other/this {ratios[^1]:0.00}, CPU other/this {cpuRatios[^1]:0.00}");
    }
    Console.WriteLine($"RESULT other_this={Median(ratios):0.00} cpu_other_this={Median(cpuRatios):0.00} {loads[0].Percentiles("this_")} {loads[1].Percentiles("other_")}");

    // The service's CPU per message: on 2 shared cores the send is CPU-bound, and CPU time moves far less with the
    // neighbours' load than a rate does, so it shows a change's cost when the rates drown it.
    async Task<(double Rate, double CpuMicroseconds)> RunMeasuringCpuAsync(SendLoad load)
    {
        var before = load.Service.CpuTime;
        var rate = await load.RunAsync(TimeSpan.FromSeconds(seconds), record: true);
        return (rate, (load.Service.CpuTime - before).TotalMicroseconds / Math.Max(1, rate * seconds));
    }
}

async Task RealtimeAsync(Service service, int count, int rate)
{
    var conversations = await service.ConversationsAsync(count);
    var pending = new ConcurrentDictionary<string, long>(); // message text → when its POST started
    var latencies = new ConcurrentBag<double>();
    var hubs = new List<HubConnection>();
    var recording = false;
    try
    {
        // Every conversation: its agent and its tenant user on the hub, both joined to the session.
        foreach (var chunk in conversations.Chunk(50))
        {
            hubs.AddRange(await Task.WhenAll(chunk.SelectMany(c => new[] { (c.Agent, c.Session), (c.User, c.Session) }).Select(async pair =>
            {
                var hub = new HubConnectionBuilder()
                    .WithUrl($"{service.BaseUrl}/livechat/hub?tenant_id=1", o => o.AccessTokenProvider = () => Task.FromResult<string?>(pair.Item1.Token))
                    .Build();
                var me = pair.Item1.UserId;
                hub.On<JsonElement>("messageCreated", m =>
                {
                    // Only the other participant's receipt counts: that is what a person waits for.
                    if (m.GetProperty("sender_id").GetInt64() == me) return;
                    if (pending.TryRemove(m.GetProperty("message").GetString()!, out var started) && recording)
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                });
                await hub.StartAsync();
                await hub.InvokeAsync("JoinSession", pair.Session);
                return hub;
            })));
        }
        await Task.Delay(TimeSpan.FromSeconds(3)); // let the connect-time presence pushes drain

        var n = 0;
        // The same load first without recording (--warmup s): the service's code is compiled for its steady state.
        await OpenLoopAsync(Option("--warmup", 0));
        await service.SettleAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        pending.Clear();
        recording = true;
        n = 0;
        await OpenLoopAsync(seconds);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var sorted = latencies.Order().ToList();
        Console.WriteLine();
        Console.WriteLine($"## Realtime on {service.Name}: {count} conversations ({hubs.Count} hub connections), {rate} messages/s for {seconds} s");
        Console.WriteLine();
        Console.WriteLine($"{n} messages sent, {sorted.Count} received by the other participant, {pending.Count} missing");
        Console.WriteLine();
        Console.WriteLine(Table.Header);
        Console.WriteLine(Table.Row("POST sent → messageCreated at the other participant", sorted));
        Console.WriteLine($"RESULT p50={Table.At(sorted, 0.5):0.00} p99={Table.At(sorted, 0.99):0.00} missing={pending.Count}");

        async Task OpenLoopAsync(int duration)
        {
            var interval = TimeSpan.FromSeconds(1.0 / rate);
            var sends = new List<Task>();
            var clock = Stopwatch.StartNew();
            var first = n;
            while (clock.Elapsed.TotalSeconds < duration)
            {
                // Open loop: messages leave on schedule whether or not earlier ones were answered.
                var due = interval * (n - first);
                if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
                var conversation = conversations[n % conversations.Count];
                var sender = n / conversations.Count % 2 == 0 ? conversation.User : conversation.Agent;
                var text = $"realtime {(recording ? "" : "warm-up ")}{n}";
                pending[text] = Stopwatch.GetTimestamp();
                sends.Add(service.PostCreatedAsync(sender, $"/livechat/sessions/{conversation.Session}/messages", $"{{\"message\":\"{text}\"}}"));
                n++;
            }
            await Task.WhenAll(sends);
        }
    }
    finally
    {
        await Task.WhenAll(hubs.Select(h => h.DisposeAsync().AsTask()));
    }
}

// Routing: how long a freed slot takes to reach the next agent, and how fast routed starts queue up.
async Task RoutingAsync(Service service, int users)
{
    // 1. Close → sessionAssigned: one agent of capacity 1 with a chat, one chat queued behind it; the close
    //    that frees the slot assigns the queued chat, and the agent's hub connection hears it.
    var agent = Service.Agent(30_000);
    await service.SendAsync(agent, HttpMethod.Put, "/livechat/agents/me/presence", "{\"status\":\"ONLINE\"}");
    await using var hub = new HubConnectionBuilder()
        .WithUrl($"{service.BaseUrl}/livechat/hub?tenant_id=1", o => o.AccessTokenProvider = () => Task.FromResult<string?>(agent.Token))
        .Build();
    var assigned = System.Threading.Channels.Channel.CreateUnbounded<(string Id, long At)>();
    hub.On<JsonElement>("sessionAssigned", s => assigned.Writer.TryWrite((s.GetProperty("id").GetString()!, Stopwatch.GetTimestamp())));
    await hub.StartAsync();
    var current = (await service.PostAsync(Service.TenantUser(40_000), "/livechat/sessions", "{}")).GetProperty("id").GetString()!;
    while ((await assigned.Reader.ReadAsync()).Id != current) { } // its own assignment, pushed after the 201
    var handovers = new List<double>();
    for (var i = 0; i < 250; i++)
    {
        var queued = (await service.PostAsync(Service.TenantUser(40_001 + i), "/livechat/sessions", "{}")).GetProperty("id").GetString()!;
        var started = Stopwatch.GetTimestamp();
        await service.SendAsync(agent, HttpMethod.Patch, $"/livechat/sessions/{current}", "{\"status\":\"CLOSED\"}");
        var (id, at) = await assigned.Reader.ReadAsync();
        if (id != queued) throw new InvalidOperationException("the freed slot went to another chat");
        if (i >= 50) handovers.Add(Stopwatch.GetElapsedTime(started, at).TotalMilliseconds); // after a warm-up
        current = queued;
    }
    await service.SendAsync(agent, HttpMethod.Patch, $"/livechat/sessions/{current}", "{\"status\":\"CLOSED\"}");

    // 2. Routed starts with two agents at capacity: every start queues, the queue grows to `users`.
    var busy = new[] { Service.Agent(30_001), Service.Agent(30_002) };
    foreach (var b in busy)
    {
        await service.SendAsync(b, HttpMethod.Put, "/livechat/agents/me/presence", "{\"status\":\"ONLINE\"}");
        await service.PostAsync(Service.TenantUser(b.UserId + 20_000), "/livechat/sessions", $"{{\"agent_id\":{b.UserId}}}");
    }
    await service.SendAsync(agent, HttpMethod.Put, "/livechat/agents/me/presence", "{\"status\":\"OFFLINE\"}");
    var starts = new List<double>();
    var next = -1;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
    {
        int n;
        while ((n = Interlocked.Increment(ref next)) < users)
        {
            var started = Stopwatch.GetTimestamp();
            var session = await service.PostAsync(Service.TenantUser(50_000 + n), "/livechat/sessions", "{}");
            if (!session.TryGetProperty("queue_position", out _)) throw new InvalidOperationException("a start was not queued");
            lock (starts) starts.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    })));
    var rate = users / clock.Elapsed.TotalSeconds;
    var sortedHandovers = handovers.Order().ToList();
    var sortedStarts = starts.Order().ToList();
    Console.WriteLine();
    Console.WriteLine($"## Routing on {service.Name}");
    Console.WriteLine();
    Console.WriteLine($"Routed starts with 2 agents at capacity, {users} users queued by {clients} clients: **{rate:0} starts/s**");
    Console.WriteLine();
    Console.WriteLine(Table.Header);
    Console.WriteLine(Table.Row("PATCH close sent → sessionAssigned of the next queued chat received", sortedHandovers));
    Console.WriteLine(Table.Row("POST routed start (queued) → 201", sortedStarts));
    Console.WriteLine($"RESULT starts={rate:0} handover_p50={Table.At(sortedHandovers, 0.5):0.00} handover_p99={Table.At(sortedHandovers, 0.99):0.00}");
}

async Task ReferencesAsync(Service service)
{
    var reader = (await service.ConversationsAsync(1))[0];
    HttpRequestMessage Noop() => new(HttpMethod.Get, "/health/live");
    HttpRequestMessage Read()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/sessions/{reader.Session}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader.Agent.Token);
        request.Headers.Add("X-Tenant-ID", "1");
        return request;
    }
    if (Option("--warmup", 0) is > 0 and var warmup)
    {
        await service.RateAsync(clients, warmup, Noop);
        await service.RateAsync(clients, warmup, Read);
        await service.SettleAsync();
    }
    var noop = await service.RateAsync(clients, seconds, Noop);
    var read = await service.RateAsync(clients, seconds, Read);
    Console.WriteLine();
    Console.WriteLine($"## References on {service.Name}, {clients} clients, {seconds} s");
    Console.WriteLine();
    Console.WriteLine($"- GET /health/live (no auth, no database): **{noop:0} requests/s**");
    Console.WriteLine($"- GET /livechat/sessions/{{id}} (token, tenant, one indexed read): **{read:0} requests/s**");
    Console.WriteLine($"RESULT noop={noop:0} read={read:0}");
}

async Task SessionListAsync(Service service, int sessionCount, int messageCount)
{
    var seeding = Stopwatch.StartNew();
    var conversations = await service.ConversationsAsync(sessionCount); // each has the tenant user's first message
    await Parallel.ForEachAsync(conversations, new ParallelOptions { MaxDegreeOfParallelism = clients }, async (conversation, _) =>
    {
        for (var m = 1; m < messageCount; m++)
            await service.PostCreatedAsync(conversation.Agent, $"/livechat/sessions/{conversation.Session}/messages", $"{{\"message\":\"message {m}\"}}");
    });
    var reader = Service.Agent(1); // no session of its own: every message is unread for it, the worst case
    Console.WriteLine();
    Console.WriteLine($"## Session list on {service.Name}: {sessionCount} sessions of {messageCount} messages (seeded in {seeding.Elapsed.TotalSeconds:0} s), one client");
    Console.WriteLine();
    Console.WriteLine(Table.Header);
    var results = new List<string>();
    foreach (var limit in new[] { 20, 100 })
    {
        var times = new List<double>();
        for (var i = 0; i < 220; i++)
        {
            var (elapsed, rows) = await service.GetDataAsync(reader, $"/livechat/sessions?limit={limit}");
            if (rows.GetArrayLength() != Math.Min(limit, sessionCount) || rows[0].GetProperty("unread_count").GetInt64() != messageCount)
                throw new InvalidOperationException($"unexpected list: {rows.ToString()[..300]}");
            if (i >= 20) times.Add(elapsed); // the first 20 warm up
        }
        times.Sort();
        Console.WriteLine(Table.Row($"GET /livechat/sessions?limit={limit}", times));
        results.Add($"p50_{limit}={Table.At(times, 0.5):0.00} p99_{limit}={Table.At(times, 0.99):0.00}");
    }
    Console.WriteLine($"RESULT {string.Join(' ', results)}");
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

int Option(string name, int fallback) => TextOption(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? TextOption(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

/// <summary>Messages POSTed by concurrent clients, round-robin over going conversations, agents and tenant users alternating.</summary>
internal sealed class SendLoad
{
    private readonly List<Conversation> conversations;
    private readonly int clients;
    private readonly ConcurrentBag<double> latencies = [];
    private int next = -1;

    private SendLoad(Service service, List<Conversation> conversations, int clients) => (Service, this.conversations, this.clients) = (service, conversations, clients);

    public Service Service { get; }

    /// <summary>How many messages the current run has recorded so far (the cold mode's timeline reads it each second).</summary>
    public Func<int> Sent { get; private set; } = () => 0;

    public static async Task<SendLoad> StartAsync(Service service, int sessions, int clients) =>
        new(service, await service.ConversationsAsync(sessions), clients);

    /// <summary>Runs the load for <paramref name="duration"/> with <paramref name="clientCount"/> clients (--clients by default); returns messages/s, and keeps their latencies if <paramref name="record"/>.</summary>
    public async Task<double> RunAsync(TimeSpan duration, bool record, int? clientCount = null, CancellationToken sooner = default)
    {
        var sent = 0;
        Sent = () => Volatile.Read(ref sent);
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(sooner);
        stop.CancelAfter(duration);
        await Task.WhenAll(Enumerable.Range(0, clientCount ?? clients).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref next);
                var conversation = conversations[n % conversations.Count];
                var sender = n / conversations.Count % 2 == 0 ? conversation.Agent : conversation.User;
                var started = Stopwatch.GetTimestamp();
                await Service.PostCreatedAsync(sender, $"/livechat/sessions/{conversation.Session}/messages", $"{{\"message\":\"message {n}\"}}");
                if (!record) continue;
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Increment(ref sent);
            }
        })));
        return sent / clock.Elapsed.TotalSeconds;
    }

    public string Row() => Table.Row($"POST message → 201 on {Service.Name}", latencies.Order().ToList());

    /// <summary>The 99th percentile of the latencies kept so far, then forgets them (the next phase starts afresh).</summary>
    public double TakeP99()
    {
        var p99 = Table.At(latencies.Order().ToList(), 0.99);
        latencies.Clear();
        return p99;
    }

    public string Percentiles(string prefix)
    {
        var sorted = latencies.Order().ToList();
        return $"{prefix}p50={Table.At(sorted, 0.5):0.00} {prefix}p99={Table.At(sorted, 0.99):0.00}";
    }
}

internal sealed record Participant(long UserId, string Token);

internal sealed record Conversation(Participant Agent, Participant User, string Session);

internal static class Table
{
    public const string Header = "| measure | median ms | p90 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- |";

    public static double At(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1))];

    public static string Row(string name, List<double> sorted) =>
        $"| {name} | {At(sorted, 0.5):0.00} | {At(sorted, 0.9):0.00} | {At(sorted, 0.99):0.00} | {(sorted.Count == 0 ? double.NaN : sorted[^1]):0.00} |";
}

/// <summary>The real service as its own process on loopback, with tenant 1 and a fresh database.</summary>
internal sealed class Service : IAsyncDisposable
{
    private const string Key = "benchmark-signing-key-of-at-least-32-bytes";
    private static readonly AuthOptions Auth = new() { SigningKey = Key };
    private Process process;

    /// <summary>
    /// The methods the service's JIT has compiled since its start, and the time it spent on them, from its own
    /// <c>/metrics</c> (the runtime's System.Runtime meter): how much of a cold start is compilation.
    /// </summary>
    public async Task<(long Methods, double Seconds)> JitAsync()
    {
        var text = await http.GetStringAsync("/metrics");
        double Value(string name) => double.Parse(text.Split('\n').First(line => line.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], CultureInfo.InvariantCulture);
        return ((long)Value("system_runtime_dotnet_jit_compiled_methods"), Value("system_runtime_dotnet_jit_compilation_time"));
    }

    /// <summary>The CPU time the service's process has used so far (on PostgreSQL, the database's work is not in it).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }
    private readonly string folder;
    private string? build;
    private Dictionary<string, string> environment = [];
    private readonly string? postgres; // the connection string, or null on SQLite
    private readonly HttpClient http;

    private Service(Process process, string folder, string baseUrl, string? postgres)
    {
        this.process = process;
        this.folder = folder;
        this.postgres = postgres;
        BaseUrl = baseUrl;
        Name = postgres is null ? "SQLite" : "PostgreSQL";
        http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan }) { BaseAddress = new Uri(baseUrl) };
    }

    public string BaseUrl { get; }

    public string Name { get; }

    /// <summary>Set by <c>--service-log</c>: where the service processes' output goes (nowhere by default).</summary>
    public static string? LogPath { get; set; }

    /// <summary>Set by <c>--service-env</c>: added to every service process's environment.</summary>
    public static Dictionary<string, string> ExtraEnvironment { get; } = [];

    /// <summary>The PostgreSQL connection string, or null on SQLite.</summary>
    public string? Postgres => postgres;

    /// <summary>The service's database: PostgreSQL's connection string, or SQLite's file.</summary>
    public string DatabaseConnectionString => postgres ?? $"Data Source={Path.Combine(folder, "bench.db")}";

    /// <summary>The service's own folder (its SQLite file, its attachments' folder).</summary>
    public string Folder => folder;

    public string Store { get; private init; } = "disk";

    /// <summary>The service process's resident set size now (VmRSS).</summary>
    public long RssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }

    /// <summary>Uploads a file to a session (multipart, one part named file); its id and url.</summary>
    public async Task<Uploaded> UploadAsync(Participant caller, string session, byte[] bytes, string fileName)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/livechat/sessions/{session}/attachments") { Content = UploadRequests.Multipart(bytes, fileName) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        request.Headers.Add("X-Tenant-ID", "1");
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"upload: {(int)response.StatusCode} {body}");
        var data = JsonDocument.Parse(body).RootElement.GetProperty("data");
        return new Uploaded(data.GetProperty("id").GetString()!, data.TryGetProperty("url", out var url) ? url.GetString()! : "");
    }

    /// <summary>Reads a url's body to its end (no Authorization: a signed link, or a static file); its length.</summary>
    public async Task<long> DownloadAsync(string url)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0) total += read;
        return total;
    }

    /// <summary>Bytes/s downloading <paramref name="url"/> over and over, <paramref name="concurrency"/> at once, for <paramref name="seconds"/>.</summary>
    public async Task<double> DownloadRateAsync(int concurrency, int seconds, Func<string> url, long expected)
    {
        long bytes = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var got = await DownloadAsync(url());
                if (got != expected) throw new InvalidOperationException($"downloaded {got} bytes, expected {expected}");
                Interlocked.Add(ref bytes, got);
            }
        })));
        return bytes / clock.Elapsed.TotalSeconds;
    }

    /// <summary>From starting the process to the first successful <c>/health/ready</c>.</summary>
    public TimeSpan ReadyAfter { get; private set; }

    /// <param name="build">A folder with another build's Livechat.dll (the <c>builds</c> mode); this build's by default.</param>
    /// <param name="store">Where attachments' bytes go (<c>Livechat:Attachments:Store</c>).</param>
    /// <param name="seeded">PostgreSQL: the database is an earlier run's, kept as it is (no reset; tenant 1 is there).</param>
    public static async Task<Service> StartAsync(string? postgres, string? build = null, string store = "disk", bool seeded = false)
    {
        var folder = Directory.CreateTempSubdirectory("livechat-bench-").FullName;
        if (postgres is not null && !seeded) await ResetPostgresAsync(postgres);
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Livechat__Database__Provider"] = postgres is null ? "sqlite" : "postgres",
            ["Livechat__Database__ConnectionString"] = postgres ?? $"Data Source={Path.Combine(folder, "bench.db")}",
            ["Livechat__Auth__SigningKey"] = Key,
            ["Logging__LogLevel__Default"] = "Warning",
            // The benchmark measures the machine, not the per-user rate limits or connection caps.
            ["Livechat__RateLimits__UserPermitsPerSecond"] = "1000000",
            ["Livechat__RateLimits__UserBurst"] = "1000000",
            ["Livechat__RateLimits__TenantPermitsPerSecond"] = "1000000",
            ["Livechat__RateLimits__TenantBurst"] = "1000000",
            ["Livechat__Webhooks__AllowPrivateNetworks"] = "true", // the webhook receiver runs on loopback
            // The agents who write here never go ONLINE: their chats would go back to the queue a minute in,
            // and a long run would measure two loads, before and after.
            ["Livechat__Routing__RequeueAfterSeconds"] = "86400",
            // Attachments: the default limits, but room for every upload of a run, and one key.
            ["Livechat__Attachments__Store"] = store,
            ["Livechat__Attachments__Path"] = Path.Combine(folder, "attachments"),
            ["Livechat__Attachments__TenantQuotaBytes"] = (64L << 30).ToString(CultureInfo.InvariantCulture),
            ["Livechat__Attachments__SigningKey"] = "benchmark-attachment-signing-key",
        };
        foreach (var (name, value) in ExtraEnvironment) environment[name] = value;
        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        using (var add = Run(build, environment, "tenants", "add", "--id", "1", "--name", "Bench"))
        {
            await add.WaitForExitAsync();
            if (add.ExitCode != 0 && !seeded) throw new InvalidOperationException("livechat tenants add failed");
        }
        var launched = Stopwatch.StartNew();
        var service = new Service(Run(build, environment, "serve", "--urls", baseUrl), folder, baseUrl, postgres) { Store = store };
        service.build = build;
        service.environment = environment;
        await service.WaitUntilReadyAsync();
        service.ReadyAfter = launched.Elapsed;
        return service;
    }

    /// <summary>
    /// After the warm-up, on PostgreSQL: ANALYZE, as autovacuum does within its first minute (and pgbench after
    /// its set-up). The schema is new, and until its tables have statistics the planner picks among indexes that
    /// tie on cost, some of which scan a whole tenant's sessions for one row: runs of the same build then
    /// differed threefold in PostgreSQL's CPU per message. A service that has run for a minute is past that.
    /// </summary>
    public async Task SettleAsync()
    {
        if (postgres is null) return;
        await using var connection = new Npgsql.NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("ANALYZE", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Each PostgreSQL run starts from an empty schema and a checkpoint, so runs do not measure each other's
    /// leftovers: the tables of the previous one, or its WAL (bench/run runs the realtime load right after a
    /// send load, whose checkpoint then ran during it).
    /// </summary>
    private static async Task ResetPostgresAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("DROP SCHEMA public CASCADE; CREATE SCHEMA public; CHECKPOINT;", connection);
        await command.ExecuteNonQueryAsync();
    }

    public static Participant Agent(long userId) =>
        new(userId, TokenIssuer.Issue(Auth, userId, [1], [Roles.SupportAgent], TimeSpan.FromHours(2), DateTimeOffset.UtcNow));

    public static Participant Admin(long userId) =>
        new(userId, TokenIssuer.Issue(Auth, userId, [1], [Roles.SupportAdmin], TimeSpan.FromHours(2), DateTimeOffset.UtcNow));

    public static Participant TenantUser(long userId) =>
        new(userId, TokenIssuer.Issue(Auth, userId, [1], ["TENANT_ADMIN"], TimeSpan.FromHours(2), DateTimeOffset.UtcNow));

    /// <summary>Conversations that are already going: the agent opened the session, the tenant user wrote first.</summary>
    public async Task<List<Conversation>> ConversationsAsync(int count)
    {
        var conversations = new List<Conversation>(count);
        foreach (var chunk in Enumerable.Range(0, count).Chunk(50))
        {
            conversations.AddRange(await Task.WhenAll(chunk.Select(async i =>
            {
                var agent = Agent(10_000 + i);
                var user = TenantUser(20_000 + i);
                var session = (await PostAsync(agent, "/livechat/sessions", "{}")).GetProperty("id").GetString()!;
                await PostAsync(user, $"/livechat/sessions/{session}/messages", "{\"message\":\"hello\"}");
                return new Conversation(agent, user, session);
            })));
        }
        return conversations;
    }

    public async Task<JsonElement> PostAsync(Participant caller, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        request.Headers.Add("X-Tenant-ID", "1");
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("data").Clone();
    }

    /// <summary>
    /// The same POST, checked only for its 201: the load generator shares the machine's two cores with the
    /// service, so it does not parse answers it does not use.
    /// </summary>
    public async Task PostCreatedAsync(Participant caller, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        request.Headers.Add("X-Tenant-ID", "1");
        using var response = await http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>A GET's time in milliseconds and the envelope's <c>data</c>.</summary>
    public async Task<(double Milliseconds, JsonElement Data)> GetDataAsync(Participant caller, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        request.Headers.Add("X-Tenant-ID", "1");
        var started = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {body}");
        return (elapsed, JsonDocument.Parse(body).RootElement.GetProperty("data").Clone());
    }

    public async Task SendAsync(Participant caller, HttpMethod method, string path, string json)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        request.Headers.Add("X-Tenant-ID", "1");
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async Task<double> RateAsync(int concurrency, int seconds, Func<HttpRequestMessage> makeRequest)
    {
        var count = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var request = makeRequest();
                using var response = await http.SendAsync(request);
                response.EnsureSuccessStatusCode();
                Interlocked.Increment(ref count);
            }
        })));
        return count / clock.Elapsed.TotalSeconds;
    }

    private async Task WaitUntilReadyAsync()
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("The service did not become ready.");
    }

    private static Process Run(string? build, Dictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(build ?? AppContext.BaseDirectory, "Livechat.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var process = Process.Start(start)!;
        if (LogPath is null)
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            return process;
        }
        var log = TextWriter.Synchronized(new StreamWriter(LogPath, append: true) { AutoFlush = true });
        process.OutputDataReceived += (_, line) => { if (line.Data is { } text) log.WriteLine(text); };
        process.ErrorDataReceived += (_, line) => { if (line.Data is { } text) log.WriteLine(text); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Terminate(int pid, int signal);

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Stops the process (SIGTERM) and starts it again on the same database: what a deploy does (the search mode's backfill).</summary>
    /// <summary>SQLite: restarts the service on a copy of <paramref name="file"/> as its database.</summary>
    public async Task RestartOnCopyOfAsync(string file)
    {
        if (Terminate(process.Id, 15) == 0) await process.WaitForExitAsync();
        process.Dispose();
        var database = Path.Combine(folder, "bench.db");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "-wal", "-shm" }) File.Delete(database + suffix);
        File.Copy(file, database, overwrite: true);
        var launched = Stopwatch.StartNew();
        process = Run(build, environment, "serve", "--urls", BaseUrl);
        await WaitUntilReadyAsync();
        ReadyAfter = launched.Elapsed; // with the migrations a file from an older build still needs
    }

    public async Task RestartAsync()
    {
        if (Terminate(process.Id, 15) == 0) await process.WaitForExitAsync();
        process.Dispose();
        process = Run(build, environment, "serve", "--urls", BaseUrl);
        await WaitUntilReadyAsync();
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        // SIGTERM first: the service shuts down as in production (and a trace it was asked to write is flushed).
        if (Terminate(process.Id, 15) == 0)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await process.WaitForExitAsync(grace.Token); } catch (OperationCanceledException) { }
        }
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}
