using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Livechat.Auth;
using Livechat.Data;
using Livechat.Tenants;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Options;

namespace Livechat.Tests;

/// <summary>
/// Issue 6: nothing acknowledged is lost when the process is killed, shutdown is graceful, and a database
/// outage gives 503s and heals by itself. The service runs as its own process here, as in production.
/// </summary>
public abstract class ResilienceTests(DatabaseProvider provider) : IAsyncLifetime
{
    private const long Tenant = 1;
    private readonly string folder = Directory.CreateTempSubdirectory("livechat-resilience-").FullName;
    private string? postgresDatabase;
    private Dictionary<string, string> environment = null!;

    public async Task InitializeAsync()
    {
        string connectionString;
        if (provider == DatabaseProvider.Sqlite)
        {
            connectionString = $"Data Source={Path.Combine(folder, "livechat.db")}";
        }
        else
        {
            (postgresDatabase, connectionString) = await PostgresCluster.Instance.CreateDatabaseAsync();
        }
        environment = Environment(provider, connectionString);
    }

    public async Task DisposeAsync()
    {
        if (postgresDatabase is not null) await PostgresCluster.Instance.DropDatabaseAsync(postgresDatabase);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    internal static Dictionary<string, string> Environment(DatabaseProvider provider, string connectionString) => new()
    {
        ["Livechat__Database__Provider"] = provider == DatabaseProvider.Sqlite ? "sqlite" : "postgres",
        ["Livechat__Database__ConnectionString"] = connectionString,
        ["Livechat__Auth__SigningKey"] = LivechatServer.SigningKey,
        ["Livechat__Auth__Issuer"] = LivechatServer.Issuer,
        ["Livechat__Auth__Audience"] = LivechatServer.Audience,
        ["Livechat__Tenants__CacheSeconds"] = "0",
        ["Livechat__RateLimits__UserBurst"] = "100000",
        ["Livechat__RateLimits__UserPermitsPerSecond"] = "100000",
        ["Livechat__RateLimits__TenantBurst"] = "100000",
        ["Livechat__RateLimits__TenantPermitsPerSecond"] = "100000",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__Livechat"] = "Information",
        ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        ["Logging__Console__FormatterName"] = "simple",
    };

    internal static async Task AddTenantAsync(Dictionary<string, string> environment)
    {
        var options = Options.Create(new DatabaseOptions
        {
            Provider = environment["Livechat__Database__Provider"],
            ConnectionString = environment["Livechat__Database__ConnectionString"],
        });
        await using var database = Database.Create(options);
        await new TenantStore(database, TimeProvider.System).AddAsync(Tenant, "Resilience", null, CancellationToken.None);
    }

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string token, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Tenant-ID", "1");
        using var response = await http.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    internal static async Task<List<(string Id, string Text)>> AllMessagesAsync(HttpClient http, string token, string session)
    {
        var all = new List<(string, string)>();
        string? cursor = null;
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/sessions/{session}/messages?limit=100{(cursor is null ? "" : "&cursor=" + cursor)}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("X-Tenant-ID", "1");
            using var response = await http.SendAsync(request);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            foreach (var message in body.GetProperty("data").EnumerateArray())
                all.Add((message.GetProperty("id").GetString()!, message.GetProperty("message").GetString()!));
            if (!body.GetProperty("meta").GetProperty("pagination").GetProperty("has_next").GetBoolean()) return all;
            cursor = all[^1].Item1;
        }
    }

    /// <summary>Writers send until stopped or until the service goes away; every 201 is recorded.</summary>
    private static Task[] StartWriters(HttpClient http, string token, string session, ConcurrentDictionary<string, string> acknowledged, CancellationToken stop) =>
        Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var text = $"writer {w} message {i}";
                try
                {
                    var (status, body) = await PostAsync(http, token, $"/livechat/sessions/{session}/messages", new { message = text });
                    if (status == HttpStatusCode.Created) acknowledged[body.GetProperty("data").GetProperty("id").GetString()!] = text;
                }
                catch (HttpRequestException)
                {
                    return; // the service is gone
                }
            }
        })).ToArray();

    [Fact]
    public async Task EveryAcknowledgedMessageSurvivesASigkillMidStream()
    {
        await using var first = new ServiceProcess(environment);
        await first.StartAsync();
        await AddTenantAsync(environment);
        var token = LivechatServer.Token(7, [Tenant], [Roles.SupportAgent]);
        var (_, started) = await PostAsync(first.Http, token, "/livechat/sessions", new { });
        var session = started.GetProperty("data").GetProperty("id").GetString()!;

        var acknowledged = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var writers = StartWriters(first.Http, token, session, acknowledged, stop.Token);
        var deadline = Stopwatch.StartNew();
        while (acknowledged.Count < 300 && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(10);
        await first.KillAsync();
        await Task.WhenAll(writers);
        Assert.True(acknowledged.Count >= 300, $"only {acknowledged.Count} messages acknowledged before the kill");

        await using var second = new ServiceProcess(environment);
        await second.StartAsync();
        var stored = await AllMessagesAsync(second.Http, token, session);
        Assert.Equal(stored.Count, stored.Select(m => m.Id).Distinct().Count());
        Assert.Equal(stored.Count, stored.Select(m => m.Text).Distinct().Count());
        var storedIds = stored.Select(m => m.Id).ToHashSet();
        var lost = acknowledged.Keys.Where(id => !storedIds.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged messages were lost");
        Assert.All(stored.Where(m => acknowledged.ContainsKey(m.Id)), m => Assert.Equal(acknowledged[m.Id], m.Text));
    }

    private static async Task<long> CountAsync(Dictionary<string, string> environment, string sql)
    {
        var options = Options.Create(new DatabaseOptions
        {
            Provider = environment["Livechat__Database__Provider"],
            ConnectionString = environment["Livechat__Database__ConnectionString"],
        });
        await using var database = Database.Create(options);
        return await database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql(sql);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }, CancellationToken.None);
    }

    [Fact]
    public async Task SigtermKeepsAcknowledgedMessagesClosesHubConnectionsAndExitsZero()
    {
        await using var service = new ServiceProcess(environment);
        await service.StartAsync();
        await AddTenantAsync(environment);
        var token = LivechatServer.Token(8, [Tenant], [Roles.SupportAgent]);
        var (_, started) = await PostAsync(service.Http, token, "/livechat/sessions", new { });
        var session = started.GetProperty("data").GetProperty("id").GetString()!;

        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(service.BaseAddress, "livechat/hub?tenant_id=1"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        var closed = new TaskCompletionSource<Exception?>();
        hub.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
        await hub.StartAsync();

        var acknowledged = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var writers = StartWriters(service.Http, token, session, acknowledged, stop.Token);
        while (acknowledged.Count < 50) await Task.Delay(10);
        await service.TerminateAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        Assert.True(service.ExitCode == 0, service.Output);
        // The client is told at once (and its automatic reconnect would move it to another instance)...
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // ...and the service ran its disconnect handling before it exited: no connection row is left behind
        // to keep the agent ONLINE.
        Assert.Contains("closing 1 hub connections", service.Output, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync(environment, "SELECT COUNT(*) FROM agent_connections"));

        await using var again = new ServiceProcess(environment);
        await again.StartAsync();
        var stored = (await AllMessagesAsync(again.Http, token, session)).Select(m => m.Id).ToHashSet();
        Assert.All(acknowledged.Keys, id => Assert.Contains(id, stored));
    }
}

public sealed class ResilienceTestsOnSqlite() : ResilienceTests(DatabaseProvider.Sqlite);

public sealed class ResilienceTestsOnPostgres() : ResilienceTests(DatabaseProvider.Postgres);

/// <summary>Issue 6: PostgreSQL goes away and comes back while the service runs.</summary>
public sealed class DatabaseOutageTests
{
    [Fact]
    public async Task WithPostgresDownRequestsGet503QuicklyReadinessFailsAndTheServiceRecoversWithoutARestart()
    {
        var cluster = PostgresCluster.StartPrivate();
        try
        {
            var (_, connectionString) = await cluster.CreateDatabaseAsync();
            var environment = ResilienceTests.Environment(DatabaseProvider.Postgres, connectionString + ";Timeout=3;Command Timeout=3");
            environment["Livechat__Limits__RequestTimeoutSeconds"] = "5";
            await using var service = new ServiceProcess(environment);
            await service.StartAsync();
            await ResilienceTests.AddTenantAsync(environment);
            var token = LivechatServer.Token(9, [1], [Roles.SupportAgent]);
            var (_, started) = await ResilienceTests.PostAsync(service.Http, token, "/livechat/sessions", new { });
            var session = started.GetProperty("data").GetProperty("id").GetString()!;

            cluster.Pause();
            var clock = Stopwatch.StartNew();
            var (status, body) = await ResilienceTests.PostAsync(service.Http, token, $"/livechat/sessions/{session}/messages", new { message = "while down" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.False(body.GetProperty("success").GetBoolean());
            Assert.True(body.GetProperty("errors").TryGetProperty("request", out _));
            Assert.DoesNotContain("Npgsql", body.ToString(), StringComparison.Ordinal);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
            using (var ready = await service.Http.GetAsync("/health/ready"))
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);

            cluster.Resume();
            var recovered = false;
            var last = "";
            for (var attempt = 0; attempt < 100 && !recovered; attempt++)
            {
                var (again, answer) = await ResilienceTests.PostAsync(service.Http, token, $"/livechat/sessions/{session}/messages", new { message = "after the outage" });
                recovered = again == HttpStatusCode.Created;
                last = $"{(int)again} {answer}";
                if (!recovered) await Task.Delay(200);
            }
            Assert.True(recovered, $"the service did not recover within 20 s; last answer: {last}");
            using (var ready = await service.Http.GetAsync("/health/ready"))
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var texts = (await ResilienceTests.AllMessagesAsync(service.Http, token, session)).Select(m => m.Text).ToList();
            Assert.DoesNotContain("while down", texts);
            Assert.Single(texts, "after the outage");
        }
        finally
        {
            cluster.Stop();
        }
    }
}
