using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests.Webhooks;

/// <summary>
/// Issue 13's "never lost, never invented" with the service as its own process: killed (SIGKILL) while it is
/// writing messages and delivering their events, then started again on the same database.
/// </summary>
public abstract class WebhookCrashTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly string folder = Directory.CreateTempSubdirectory("livechat-webhook-crash-").FullName;
    private string? postgresDatabase;
    private Dictionary<string, string> environment = null!;
    private WebhookReceiver receiver = null!;

    public async Task InitializeAsync()
    {
        string connectionString;
        if (provider == DatabaseProvider.Sqlite) connectionString = $"Data Source={Path.Combine(folder, "livechat.db")}";
        else (postgresDatabase, connectionString) = await PostgresCluster.Instance.CreateDatabaseAsync();
        environment = ResilienceTests.Environment(provider, connectionString);
        environment["Livechat__Webhooks__AllowPrivateNetworks"] = "true";
        environment["Livechat__Webhooks__FirstRetryMilliseconds"] = "0";
        environment["Livechat__Webhooks__PollMilliseconds"] = "20";
        environment["Livechat__Webhooks__TimeoutSeconds"] = "2";
        environment["Livechat__Webhooks__LeaseSeconds"] = "3";
        receiver = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await receiver.DisposeAsync();
        if (postgresDatabase is not null) await PostgresCluster.Instance.DropDatabaseAsync(postgresDatabase);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string token, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Tenant-ID", "1");
        using var response = await http.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task AfterASigkillEveryStoredMessageIsDeliveredAndNoOtherOne()
    {
        await using var first = new ServiceProcess(environment);
        await first.StartAsync();
        await ResilienceTests.AddTenantAsync(environment);
        var agent = LivechatServer.Token(7, [1], [Roles.SupportAgent]);
        var admin = LivechatServer.Token(8, [1], ["SUPPORT_ADMIN"]);
        // A slowish receiver, so deliveries are pending and in flight when the process dies.
        var url = receiver.NewEndpoint((_, _) => new ScriptedAnswer(200, TimeSpan.FromMilliseconds(50)));
        var (created, _) = await PostAsync(first.Http, admin, "/webhooks", new { url, events = new[] { "message.created" } });
        Assert.Equal(HttpStatusCode.Created, created);
        var (_, started) = await PostAsync(first.Http, agent, "/livechat/sessions", new { });
        var session = started.GetProperty("data").GetProperty("id").GetString()!;

        var acknowledged = new ConcurrentDictionary<string, bool>();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; ; i++)
            {
                try
                {
                    var (status, body) = await PostAsync(first.Http, agent, $"/livechat/sessions/{session}/messages", new { message = $"writer {w} message {i}" });
                    if (status == HttpStatusCode.Created) acknowledged[body.GetProperty("data").GetProperty("id").GetString()!] = true;
                }
                catch (HttpRequestException)
                {
                    return; // the service is gone
                }
            }
        })).ToArray();
        var deadline = Stopwatch.StartNew();
        while ((acknowledged.Count < 200 || receiver.Requests.IsEmpty) && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(10);
        await first.KillAsync();
        await Task.WhenAll(writers);
        Assert.True(acknowledged.Count >= 200, $"only {acknowledged.Count} messages acknowledged before the kill");

        await using var second = new ServiceProcess(environment);
        await second.StartAsync();
        var stored = (await ResilienceTests.AllMessagesAsync(second.Http, agent, session)).Select(m => m.Id).ToHashSet();
        Assert.Superset(acknowledged.Keys.ToHashSet(), stored);

        // Every stored message's event arrives (at least once), and no event names a message that is not stored.
        var all = await receiver.WaitAsync(url, got => got.Select(r => r.Json.GetProperty("data").GetProperty("id").GetString()!).ToHashSet().IsSupersetOf(stored), seconds: 90);
        await Task.Delay(500);
        var delivered = receiver.At(url).Select(r => r.Json.GetProperty("data").GetProperty("id").GetString()!).ToHashSet();
        Assert.True(delivered.SetEquals(stored), $"{delivered.Except(stored).Count()} delivered but not stored, {stored.Except(delivered).Count()} stored but not delivered");
        // Duplicates carry the same webhook-id, so a receiver can drop them.
        Assert.All(receiver.At(url).GroupBy(r => r.Json.GetProperty("data").GetProperty("id").GetString()), g => Assert.Single(g.Select(r => r.Id).Distinct()));
    }

    /// <summary>
    /// Contract 13: an attempt cut short by a crash is made again within 30 s of the restart. With the default
    /// lease and timeout, deliveries are in flight to a slow receiver when the process is killed.
    /// </summary>
    [Fact]
    public async Task AnAttemptCutShortByASigkillIsMadeAgainWithin30SecondsOfTheRestart()
    {
        environment.Remove("Livechat__Webhooks__LeaseSeconds");
        environment.Remove("Livechat__Webhooks__TimeoutSeconds");
        await using var first = new ServiceProcess(environment);
        await first.StartAsync();
        await ResilienceTests.AddTenantAsync(environment);
        var agent = LivechatServer.Token(7, [1], [Roles.SupportAgent]);
        var admin = LivechatServer.Token(8, [1], ["SUPPORT_ADMIN"]);
        // Slow until the kill, so the first process has attempts in flight; at once afterwards.
        var slow = 1;
        var url = receiver.NewEndpoint((_, _) => new ScriptedAnswer(200, Volatile.Read(ref slow) == 1 ? TimeSpan.FromSeconds(8) : TimeSpan.Zero));
        var (created, _) = await PostAsync(first.Http, admin, "/webhooks", new { url, events = new[] { "message.created" } });
        Assert.Equal(HttpStatusCode.Created, created);
        var (_, started) = await PostAsync(first.Http, agent, "/livechat/sessions", new { });
        var session = started.GetProperty("data").GetProperty("id").GetString()!;
        var sent = new List<string>();
        for (var i = 0; i < 12; i++)
            sent.Add((await PostAsync(first.Http, agent, $"/livechat/sessions/{session}/messages", new { message = $"message {i}" })).Body.GetProperty("data").GetProperty("id").GetString()!);
        await receiver.WaitAsync(url, got => got.Count >= 4, seconds: 20); // four attempts in flight, the per-webhook limit
        await first.KillAsync();
        Volatile.Write(ref slow, 0);

        var restarted = Stopwatch.StartNew();
        await using var second = new ServiceProcess(environment);
        await second.StartAsync();
        await receiver.WaitAsync(url, got => got.Where(r => r.At > DateTimeOffset.UtcNow - restarted.Elapsed)
            .Select(r => r.Json.GetProperty("data").GetProperty("id").GetString()!).ToHashSet().IsSupersetOf(sent), seconds: 60);
        Assert.True(restarted.Elapsed < TimeSpan.FromSeconds(30), $"Every message was delivered {restarted.Elapsed.TotalSeconds:F1} s after the restart began.");
    }
}

public sealed class WebhookCrashTestsOnSqlite() : WebhookCrashTests(DatabaseProvider.Sqlite);

public sealed class WebhookCrashTestsOnPostgres() : WebhookCrashTests(DatabaseProvider.Postgres);
