using System.Net;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests.Webhooks;

/// <summary>
/// Two instances on one PostgreSQL and one Redis, both delivering, with the default lease: a delivery claimed
/// and never attempted would wait it out, so a stall shows as seconds of silence rather than being hidden.
/// </summary>
public sealed class TwoDeliveringInstances : IAsyncLifetime
{
    public WebhookPostgresServer First { get; } = new();
    public LivechatServer Second { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        First.Settings["Livechat:Redis:Configuration"] = RedisServer.Configuration;
        First.Settings["Livechat:Redis:ChannelPrefix"] = $"livechat-test-{Guid.NewGuid():N}";
        foreach (var setting in new[] { "LeaseSeconds", "TimeoutSeconds", "PollMilliseconds", "FirstRetryMilliseconds" })
            First.Settings.Remove($"Livechat:Webhooks:{setting}");
        await First.InitializeAsync();
        Second = LivechatServer.SecondInstanceOf(First);
        await Second.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Second.DisposeAsync();
        await First.DisposeAsync();
    }
}

public sealed class WebhookTwoInstanceTests(TwoDeliveringInstances instances) : IClassFixture<TwoDeliveringInstances>
{
    private WebhookPostgresServer First => instances.First;
    private LivechatServer Second => instances.Second;
    private WebhookReceiver Receiver => First.Receiver;

    /// <summary>Creates racing on both instances for a tenant's last places never take it past MaxPerTenant (20).</summary>
    [Fact]
    public async Task CreatesRacingOnTwoInstancesNeverTakeATenantPastItsWebhookLimit()
    {
        var tenant = await First.NewTenantAsync();
        var admin = First.Admin(tenant);
        var adminOnSecond = new Caller(Second, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]);
        for (var i = 0; i < 17; i++) await WebhookTests.CreateAsync(admin, Receiver.NewEndpoint(), "webhook.ping");

        var racing = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            (i % 2 == 0 ? admin : adminOnSecond).PostAsync("/webhooks", new { url = Receiver.NewEndpoint(), events = new[] { "webhook.ping" } })));
        Assert.Equal(3, racing.Count(r => r.Status == HttpStatusCode.Created));
        foreach (var refused in racing.Where(r => r.Status != HttpStatusCode.Created)) refused.AssertError(HttpStatusCode.Conflict, "url");
        Assert.Equal(20, (await adminOnSecond.GetAsync("/webhooks")).AssertStatus(HttpStatusCode.OK).Ids().Count);
    }

    /// <summary>
    /// Issue 12: instances that went through retries, a 410, a rotation and a redelivery still deliver a new
    /// webhook's burst of events, posted alternately to both, within seconds.
    /// </summary>
    [Fact]
    public async Task InstancesThatWentThroughRetriesA410ARotationAndARedeliveryDeliverANewWebhooksEventsWithinSeconds()
    {
        var tenant = await First.NewTenantAsync();
        var admin = First.Admin(tenant);
        var adminOnSecond = new Caller(Second, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]);
        var agent = First.Agent(tenant);
        await agent.GoOnlineAsync();
        var agentOnSecond = new Caller(Second, agent.UserId, tenant, [Roles.SupportAgent]);
        var session = await First.TenantUser(tenant).StartSessionAsync(agent.UserId);

        // Retries: two 500s, then 200.
        var flaky = Receiver.NewEndpoint((_, attempt) => new ScriptedAnswer(attempt <= 2 ? 500 : 200));
        var (flakyId, _) = await WebhookTests.CreateAsync(admin, flaky, "webhook.ping");
        for (var i = 0; i < 6; i++) (await (i % 2 == 0 ? admin : adminOnSecond).PostAsync($"/webhooks/{flakyId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        // A 410 disables its webhook.
        var gone = Receiver.NewEndpoint((_, _) => new ScriptedAnswer(410));
        var (goneId, _) = await WebhookTests.CreateAsync(admin, gone, "message.created");
        await agent.SendMessageAsync(session, "to the one that is gone");
        // A rotation, then a ping signed with both secrets.
        (await adminOnSecond.PostAsync($"/webhooks/{flakyId}/rotate-secret", null)).AssertStatus(HttpStatusCode.Created);
        (await admin.PostAsync($"/webhooks/{flakyId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        // A redelivery of a delivery that failed with a 400.
        var broken = true;
        var picky = Receiver.NewEndpoint((_, _) => new ScriptedAnswer(Volatile.Read(ref broken) ? 400 : 200));
        var (pickyId, _) = await WebhookTests.CreateAsync(admin, picky, "webhook.ping");
        (await admin.PostAsync($"/webhooks/{pickyId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var failed = (await WebhookTests.WaitDeliveriesAsync(admin, pickyId, l => l.Count == 1 && l[0].Text("status") == "failed"))[0];
        Volatile.Write(ref broken, false);
        (await adminOnSecond.PostAsync($"/webhooks/{pickyId}/deliveries/{failed.Text("id")}/redeliver", null)).AssertStatus(HttpStatusCode.Accepted);

        await WebhookTests.WaitDeliveriesAsync(admin, flakyId, l => l.Count == 7 && l.All(d => d.Text("status") == "succeeded"), seconds: 90);
        await WebhookTests.WaitDeliveriesAsync(admin, goneId, l => l.Count == 1 && l[0].Text("status") == "failed");
        await WebhookTests.WaitDeliveriesAsync(admin, pickyId, l => l.Count == 2 && l[0].Text("status") == "succeeded");

        // Then a new webhook, and 40 messages posted alternately through both instances.
        var url = Receiver.NewEndpoint();
        var (id, _) = await WebhookTests.CreateAsync(admin, url, "message.created");
        var sent = new List<string>();
        for (var i = 0; i < 40; i++) sent.Add((await (i % 2 == 0 ? agent : agentOnSecond).SendMessageAsync(session, $"burst {i}")).Text("id"));
        var lastSent = DateTimeOffset.UtcNow;

        var got = await Receiver.WaitAsync(url, r => r.Select(x => x.Json.GetProperty("data").GetProperty("id").GetString()).Distinct().Count() == 40, seconds: 30);
        var tookMs = (got.Max(r => r.At) - lastSent).TotalMilliseconds;
        Assert.True(tookMs < 3000, $"The last of the 40 arrived {tookMs:F0} ms after the last message was sent.");
        Assert.Equal(sent.Order(), got.Select(r => r.Json.GetProperty("data").GetProperty("id").GetString()!).Distinct().Order());
        var log = await WebhookTests.WaitDeliveriesAsync(admin, id, l => l.Count == 40 && l.All(d => d.Text("status") == "succeeded"));
        Assert.All(log, d => Assert.Equal(1, d.GetProperty("attempts").GetInt32()));
    }
}
