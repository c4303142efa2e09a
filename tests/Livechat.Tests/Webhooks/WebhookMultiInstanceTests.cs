using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests.Webhooks;

/// <summary>Two instances on one PostgreSQL, both running the delivery worker.</summary>
public sealed class WebhookMultiInstanceTests(WebhookPostgresServer first) : IClassFixture<WebhookPostgresServer>
{
    [Fact]
    public async Task TwoInstancesNeverAttemptOneDeliveryTwiceAtOnceAndDeliverEachEventOnce()
    {
        await using var second = LivechatServer.SecondInstanceOf(first);
        await second.StartAsync();
        var tenant = await first.NewTenantAsync();
        var admin = first.Admin(tenant);
        var onSecond = new Caller(second, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]);
        var slowly = new Func<ReceivedWebhook, int, ScriptedAnswer>((_, _) => new ScriptedAnswer(200, TimeSpan.FromMilliseconds(150)));
        var urls = Enumerable.Range(0, 3).Select(_ => first.Receiver.NewEndpoint(slowly)).ToList();
        var ids = new List<string>();
        foreach (var url in urls) ids.Add((await WebhookTests.CreateAsync(admin, url)).Id);

        // 20 pings per webhook, queued through both instances.
        var pings = new List<Task<Reply>>();
        for (var i = 0; i < 20; i++)
        {
            foreach (var id in ids) pings.Add((i % 2 == 0 ? admin : onSecond).PostAsync($"/webhooks/{id}/ping", null));
        }
        foreach (var ping in await Task.WhenAll(pings)) ping.AssertStatus(HttpStatusCode.Accepted);

        foreach (var (url, id) in urls.Zip(ids))
        {
            var got = await first.Receiver.WaitAsync(url, r => r.Count >= 20, seconds: 60);
            var log = await WebhookTests.WaitDeliveriesAsync(admin, id, l => l.Count == 20 && l.All(d => d.Text("status") == "succeeded"));
            Assert.All(log, d => Assert.Equal(1, d.GetProperty("attempts").GetInt32()));
            Assert.Equal(20, got.Count);
            Assert.Equal(20, got.Select(r => r.Id).Distinct().Count());
        }
        Assert.Equal(0, first.Receiver.Overlaps);
    }

    /// <summary>
    /// The first instance sends a tenant's plain messages without outbox rows once it has seen the tenant has no
    /// webhook. A webhook made through the second instance must still get the next message sent through the
    /// first: the batch's check of the tenant's webhooks finds it and the message is recorded for it.
    /// </summary>
    [Fact]
    public async Task AWebhookMadeOnOneInstanceGetsTheNextMessageSentThroughTheOther()
    {
        await using var second = LivechatServer.SecondInstanceOf(first);
        await second.StartAsync();
        var tenant = await first.NewTenantAsync();
        var agent = first.Agent(tenant);
        await agent.GoOnlineAsync();
        var user = first.TenantUser(tenant);
        var session = await user.StartSessionAsync(agent.UserId);
        for (var i = 0; i < 3; i++) await agent.SendMessageAsync(session, $"before the webhook {i}");

        var adminOnSecond = new Caller(second, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]);
        var url = first.Receiver.NewEndpoint();
        var (id, _) = await WebhookTests.CreateAsync(adminOnSecond, url, "message.created");
        var message = await agent.SendMessageAsync(session, "after the webhook");
        var reply = await user.SendMessageAsync(session, "and its answer");

        var got = await first.Receiver.WaitAsync(url, r => r.Count >= 2);
        // Each message once; deliveries to one webhook may overtake each other.
        Assert.Equal(new[] { message.Text("id"), reply.Text("id") }.Order(), got.Select(r => r.Json.GetProperty("data").GetProperty("id").GetString()).Order());
        Assert.All(got, r => Assert.Equal("message.created", r.Type));
        var log = await WebhookTests.WaitDeliveriesAsync(adminOnSecond, id, l => l.Count == 2);
        Assert.All(log, d => Assert.Equal("message.created", d.Text("event_type")));
    }
}
