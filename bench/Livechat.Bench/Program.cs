// Livechat benchmark: starts the real service as its own process on loopback (Production settings, a fresh
// SQLite file or the PostgreSQL named by LIVECHAT_BENCH_POSTGRES), then measures
//   1. push delay: POST a message, time until a joined SignalR client receives it (and until the 201),
//   2. write throughput: concurrent senders, each in its own session, for a fixed time.
//   3. the ceiling: the same load on an endpoint that does nothing.
// Usage: dotnet run -c Release --project bench/Livechat.Bench -- [--messages 1000] [--senders 16] [--seconds 10]
// With --list-sessions N (and --list-messages M, default 1000) it measures only the session list instead:
// N sessions of M messages each, then GET /livechat/sessions (unread_count and last_message on every row).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Livechat.Auth;
using Microsoft.AspNetCore.SignalR.Client;

var messages = Option("--messages", 1000);
var senders = Option("--senders", 16);
var seconds = Option("--seconds", 10);
var listSessions = Option("--list-sessions", 0);
var listMessages = Option("--list-messages", 1000);
const string Key = "benchmark-signing-key-of-at-least-32-bytes";
var folder = Directory.CreateTempSubdirectory("livechat-bench-").FullName;
var port = FreePort();
var baseUrl = $"http://127.0.0.1:{port}";
var postgres = Environment.GetEnvironmentVariable("LIVECHAT_BENCH_POSTGRES");
var environment = new Dictionary<string, string>
{
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
    ["Livechat__Database__Provider"] = postgres is null ? "sqlite" : "postgres",
    ["Livechat__Database__ConnectionString"] = postgres ?? $"Data Source={Path.Combine(folder, "bench.db")}",
    ["Livechat__Auth__SigningKey"] = Key,
    ["Logging__LogLevel__Default"] = "Warning",
    // The benchmark measures the machine, not the per-user rate limits (which default to 20/s).
    ["Livechat__RateLimits__UserPermitsPerSecond"] = "1000000",
    ["Livechat__RateLimits__UserBurst"] = "1000000",
    ["Livechat__RateLimits__TenantPermitsPerSecond"] = "1000000",
    ["Livechat__RateLimits__TenantBurst"] = "1000000",
};
var dll = Path.Combine(AppContext.BaseDirectory, "Livechat.dll");

await RunToEndAsync("tenants", "add", "--id", "1", "--name", "Bench");
using var service = Start("serve", "--urls", baseUrl);
using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
await WaitUntilReadyAsync();

var auth = new AuthOptions { SigningKey = Key };
string TokenFor(long user) => TokenIssuer.Issue(auth, user, [1], [Roles.SupportAgent], TimeSpan.FromHours(2), DateTimeOffset.UtcNow);

try
{
    Console.WriteLine($"# Livechat benchmark ({(postgres is null ? "SQLite" : "PostgreSQL")}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd})");
    if (listSessions > 0)
    {
        await SessionListAsync();
    }
    else
    {
        await PushDelayAsync();
        await ThroughputAsync();
        await CeilingAsync();
    }
}
finally
{
    service.Kill(entireProcessTree: true);
    await service.WaitForExitAsync();
    try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
}

async Task PushDelayAsync()
{
    var token = TokenFor(1);
    var session = (await PostAsync(token, "/livechat/sessions", "{}")).GetProperty("id").GetString()!;
    var pushes = Channel.CreateUnbounded<(string Id, long At)>();
    await using var hub = new HubConnectionBuilder()
        .WithUrl($"{baseUrl}/livechat/hub?tenant_id=1", o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
        .Build();
    hub.On<JsonElement>("messageCreated", m => pushes.Writer.TryWrite((m.GetProperty("id").GetString()!, Stopwatch.GetTimestamp())));
    await hub.StartAsync();
    await hub.InvokeAsync("JoinSession", session);

    var toPush = new List<double>();
    var toCreated = new List<double>();
    for (var i = 0; i < messages + 50; i++)
    {
        var started = Stopwatch.GetTimestamp();
        var sent = await PostAsync(token, $"/livechat/sessions/{session}/messages", $"{{\"message\":\"latency probe {i}\"}}");
        var created = Stopwatch.GetTimestamp();
        var (id, at) = await pushes.Reader.ReadAsync();
        if (id != sent.GetProperty("id").GetString()) throw new InvalidOperationException("pushes out of order");
        if (i < 50) continue; // warm-up
        toPush.Add(Stopwatch.GetElapsedTime(started, at).TotalMilliseconds);
        toCreated.Add(Stopwatch.GetElapsedTime(started, created).TotalMilliseconds);
    }
    Console.WriteLine();
    Console.WriteLine($"## Push delay, one client, {messages} messages sent one after another");
    Console.WriteLine();
    Console.WriteLine("| measure | median ms | p90 ms | p99 ms | max ms |");
    Console.WriteLine("| --- | --- | --- | --- | --- |");
    Console.WriteLine(Row("POST sent → 201 received", toCreated));
    Console.WriteLine(Row("POST sent → messageCreated received", toPush));
}

async Task ThroughputAsync()
{
    var sessions = new List<(string Token, string Session)>();
    for (var s = 0; s < senders; s++)
    {
        var token = TokenFor(100 + s);
        sessions.Add((token, (await PostAsync(token, "/livechat/sessions", "{}")).GetProperty("id").GetString()!));
    }
    var latencies = new List<double>[senders];
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(sessions.Select((pair, index) => Task.Run(async () =>
    {
        var mine = latencies[index] = new List<double>();
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            await PostAsync(pair.Token, $"/livechat/sessions/{pair.Session}/messages", $"{{\"message\":\"throughput {n++}\"}}");
            mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    })));
    var all = latencies.SelectMany(l => l).ToList();
    Console.WriteLine();
    Console.WriteLine($"## Write throughput, {senders} concurrent senders (one session each), {seconds} s");
    Console.WriteLine();
    Console.WriteLine($"{all.Count} messages in {clock.Elapsed.TotalSeconds:0.0} s = **{all.Count / clock.Elapsed.TotalSeconds:0} messages/s** (each durable before its 201)");
    Console.WriteLine();
    Console.WriteLine("| measure | median ms | p90 ms | p99 ms | max ms |");
    Console.WriteLine("| --- | --- | --- | --- | --- |");
    Console.WriteLine(Row("POST message → 201", all));
}

// The same client and concurrency against an endpoint that does nothing: what HTTP alone costs on this
// machine, so the write throughput above can be read as a fraction of it.
async Task CeilingAsync()
{
    await CeilingOfAsync("GET /health/live (no auth, no database)", () => new HttpRequestMessage(HttpMethod.Get, "/health/live"));
    var token = TokenFor(999);
    var session = (await PostAsync(token, "/livechat/sessions", "{}")).GetProperty("id").GetString()!;
    await CeilingOfAsync("GET /livechat/sessions/{id} (token, tenant, one indexed read)", () =>
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/sessions/{session}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Tenant-ID", "1");
        return request;
    });
}

async Task CeilingOfAsync(string what, Func<HttpRequestMessage> makeRequest)
{
    var count = 0;
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, senders).Select(_ => Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            using var request = makeRequest();
            using var response = await http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            Interlocked.Increment(ref count);
        }
    })));
    Console.WriteLine();
    Console.WriteLine($"## Reference: {what}, {senders} concurrent clients, {seconds} s");
    Console.WriteLine();
    Console.WriteLine($"**{count / clock.Elapsed.TotalSeconds:0} requests/s**");
}

// Seeds listSessions sessions, each with its own agent writing listMessages messages, then times the list for
// another agent of the tenant: every message is unread for it, the worst case of the unread count.
async Task SessionListAsync()
{
    var seeding = Stopwatch.StartNew();
    await Parallel.ForEachAsync(Enumerable.Range(0, listSessions), new ParallelOptions { MaxDegreeOfParallelism = senders }, async (i, _) =>
    {
        var token = TokenFor(1000 + i);
        var session = (await PostAsync(token, "/livechat/sessions", "{}")).GetProperty("id").GetString()!;
        for (var m = 0; m < listMessages; m++)
            await PostAsync(token, $"/livechat/sessions/{session}/messages", $"{{\"message\":\"message {m} of session {i}\"}}");
    });
    Console.WriteLine();
    Console.WriteLine($"## Session list, {listSessions} sessions of {listMessages} messages (seeded in {seeding.Elapsed.TotalSeconds:0} s)");
    Console.WriteLine();
    Console.WriteLine("| measure | median ms | p90 ms | p99 ms | max ms |");
    Console.WriteLine("| --- | --- | --- | --- | --- |");
    var reader = TokenFor(1);
    foreach (var limit in new[] { 20, 100 })
    {
        var times = new List<double>();
        for (var i = 0; i < 220; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/sessions?limit={limit}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", reader);
            request.Headers.Add("X-Tenant-ID", "1");
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"list: {(int)response.StatusCode} {body}");
            var rows = JsonDocument.Parse(body).RootElement.GetProperty("data");
            if (rows.GetArrayLength() != Math.Min(limit, listSessions) || rows[0].GetProperty("unread_count").GetInt64() != listMessages)
                throw new InvalidOperationException($"unexpected list: {body[..Math.Min(300, body.Length)]}");
            if (i >= 20) times.Add(elapsed); // warm-up
        }
        Console.WriteLine(Row($"GET /livechat/sessions?limit={limit} (unread_count {listMessages} per row, last_message)", times));
    }
}

static string Row(string name, List<double> values)
{
    var sorted = values.Order().ToList();
    double At(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
    return string.Create(CultureInfo.InvariantCulture, $"| {name} | {At(0.5):0.00} | {At(0.9):0.00} | {At(0.99):0.00} | {sorted[^1]:0.00} |");
}

async Task<JsonElement> PostAsync(string token, string path, string json)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
    request.Headers.Add("X-Tenant-ID", "1");
    using var response = await http.SendAsync(request);
    var body = await response.Content.ReadAsStringAsync();
    if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {body}");
    return JsonDocument.Parse(body).RootElement.GetProperty("data").Clone();
}

async Task WaitUntilReadyAsync()
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

Process Start(params string[] args)
{
    var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    start.ArgumentList.Add(dll);
    foreach (var arg in args) start.ArgumentList.Add(arg);
    foreach (var (key, value) in environment) start.Environment[key] = value;
    var process = Process.Start(start)!;
    _ = process.StandardOutput.ReadToEndAsync();
    _ = process.StandardError.ReadToEndAsync();
    return process;
}

async Task RunToEndAsync(params string[] args)
{
    using var process = Start(args);
    await process.WaitForExitAsync();
    if (process.ExitCode != 0) throw new InvalidOperationException($"livechat {string.Join(' ', args)} failed");
}

static int FreePort()
{
    var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    var port = ((IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    return port;
}

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
