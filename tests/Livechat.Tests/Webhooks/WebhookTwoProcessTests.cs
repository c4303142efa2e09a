using System.Net;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;
using Npgsql;

namespace Livechat.Tests.Webhooks;

/// <summary>
/// Issue 12 as the probe ran it: two service processes (<c>dotnet Livechat.dll serve</c>) on one PostgreSQL and
/// one Redis, with the default webhook settings (15 s lease, 1 s poll, retries after about 5 s), so a claim left
/// unattempted shows as seconds of silence. The in-process scenario is in <see cref="WebhookTwoInstanceTests"/>.
/// </summary>
public sealed class WebhookTwoProcessTests : IAsyncLifetime
{
    private string postgresDatabase = null!;
    private string connectionString = null!;
    private Dictionary<string, string> environment = null!;
    private WebhookReceiver receiver = null!;

    public async Task InitializeAsync()
    {
        (postgresDatabase, connectionString) = await PostgresCluster.Instance.CreateDatabaseAsync();
        environment = ResilienceTests.Environment(DatabaseProvider.Postgres, connectionString);
        environment["Livechat__Webhooks__AllowPrivateNetworks"] = "true";
        environment["Livechat__Redis__Configuration"] = RedisServer.Configuration;
        environment["Livechat__Redis__ChannelPrefix"] = $"livechat-test-{Guid.NewGuid():N}";
        receiver = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await receiver.DisposeAsync();
        await PostgresCluster.Instance.DropDatabaseAsync(postgresDatabase);
    }

    [Fact]
    public async Task ProcessesThatWentThroughARetryA410ARotationAndARedeliveryDeliverANewWebhooksEventsWithinSeconds()
    {
        await using var first = new ServiceProcess(environment);
        await using var second = new ServiceProcess(environment);
        await first.StartAsync();
        await second.StartAsync();
        await ResilienceTests.AddTenantAsync(environment);
        var admin = new Caller(first, 8, 1, ["SUPPORT_ADMIN"]);
        var adminOnSecond = new Caller(second, 9, 1, ["SUPPORT_ADMIN"]);
        var agent = new Caller(first, 7, 1, [Roles.SupportAgent]);
        var agentOnSecond = new Caller(second, 7, 1, [Roles.SupportAgent]);
        await agent.GoOnlineAsync();
        var session = await new Caller(first, 6, 1, ["TENANT_ADMIN"]).StartSessionAsync(agent.UserId);

        // A receiver that answers 500 once per event, then 200; one that answers 410 (its webhook is disabled).
        var flaky = receiver.NewEndpoint((_, attempt) => new ScriptedAnswer(attempt == 1 ? 500 : 200));
        var (flakyId, _) = await WebhookTests.CreateAsync(admin, flaky, "message.created", "webhook.ping");
        var gone = receiver.NewEndpoint((_, _) => new ScriptedAnswer(410));
        var (goneId, _) = await WebhookTests.CreateAsync(adminOnSecond, gone, "message.created");
        for (var i = 0; i < 6; i++) await (i % 2 == 0 ? agent : agentOnSecond).SendMessageAsync(session, $"before {i}");
        // A rotation, then a ping signed with both secrets; a redelivery.
        (await adminOnSecond.PostAsync($"/webhooks/{flakyId}/rotate-secret", null)).AssertStatus(HttpStatusCode.Created);
        (await admin.PostAsync($"/webhooks/{flakyId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        await WebhookTests.WaitDeliveriesAsync(admin, goneId, l => l.Any(d => d.Text("status") == "failed"), seconds: 30);
        var log = await WebhookTests.WaitDeliveriesAsync(admin, flakyId, l => l.Count == 7 && l.All(d => d.Text("status") == "succeeded"), seconds: 60);
        (await adminOnSecond.PostAsync($"/webhooks/{flakyId}/deliveries/{log[^1].Text("id")}/redeliver", null)).AssertStatus(HttpStatusCode.Accepted);
        await WebhookTests.WaitDeliveriesAsync(admin, flakyId, l => l.Count == 8 && l.All(d => d.Text("status") == "succeeded"), seconds: 30);

        // Then a new webhook, and 40 messages posted alternately through both processes.
        var url = receiver.NewEndpoint();
        var (id, _) = await WebhookTests.CreateAsync(admin, url, "message.created");
        var sent = new List<string>();
        for (var i = 0; i < 40; i++) sent.Add((await (i % 2 == 0 ? agent : agentOnSecond).SendMessageAsync(session, $"burst {i}")).Text("id"));
        var lastSent = DateTimeOffset.UtcNow;
        List<ReceivedWebhook> got;
        try
        {
            got = await receiver.WaitAsync(url, r => r.Select(x => x.Json.GetProperty("data").GetProperty("id").GetString()).Distinct().Count() == 40, seconds: 30);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n{await DeliveriesAsync()}\nFirst process:\n{first.Output}\nSecond process:\n{second.Output}");
        }
        var tookMs = (got.Max(r => r.At) - lastSent).TotalMilliseconds;
        Assert.True(tookMs < 3000, $"The last of the 40 arrived {tookMs:F0} ms after the last message was sent.\n{await DeliveriesAsync()}");
        Assert.Equal(sent.Order(), got.Select(r => r.Json.GetProperty("data").GetProperty("id").GetString()!).Distinct().Order());
        var newLog = await WebhookTests.WaitDeliveriesAsync(admin, id, l => l.Count == 40 && l.All(d => d.Text("status") == "succeeded"));
        Assert.All(newLog, d => Assert.Equal(1, d.GetProperty("attempts").GetInt32()));
    }

    /// <summary>For a failure's message: the deliveries by webhook, status, attempts and whether they are claimed now.</summary>
    private async Task<string> DeliveriesAsync()
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT w.url, d.status, d.attempts, COALESCE(d.locked_until > now(), FALSE), count(*)
            FROM webhook_deliveries d JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
            lines.Add($"{reader.GetString(0)}: {reader.GetString(1)}, {reader.GetInt32(2)} attempts, claimed {reader.GetBoolean(3)}: {reader.GetInt64(4)}");
        return string.Join('\n', lines);
    }
}
