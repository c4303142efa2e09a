using Livechat.Changes;
using System.Net;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Livechat.Tests.Security;
using Livechat.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests.Webhooks;

/// <summary>
/// The webhook operations' probes for the OWASP API1 suite (Security/Api1ObjectLevelAuthorizationTests): a
/// SUPPORT_ADMIN of another tenant names the victim's webhook and delivery, and gets what an id that never
/// existed gets; the victim's webhook and log do not change.
/// </summary>
internal static class WebhookProbes
{
    /// <summary>The victim tenant's webhook (disabled, so nothing is sent anywhere) with one pending delivery.</summary>
    private sealed record Victim(Caller Admin, string Webhook, string Delivery, string Url)
    {
        public IEnumerable<string> Secrets => [Webhook, Delivery, Url];
    }

    private static async Task<Victim> VictimAsync(LivechatServer server, long tenant)
    {
        var admin = new Caller(server, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]);
        var url = $"https://93.184.215.14/victim-{Guid.NewGuid():N}";
        var id = (await admin.PostAsync("/webhooks", new { url, events = new[] { "webhook.ping" } })).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        (await admin.PatchAsync($"/webhooks/{id}", new { enabled = false })).AssertStatus(HttpStatusCode.OK);
        await server.Services.GetRequiredService<WritePath>().RunAsync(scope =>
        {
            WebhookOutbox.Defer(scope, tenant, WebhookEventTypes.Ping, WebhookOutbox.PingData(Guid.Parse(id)), onlyWebhook: Guid.Parse(id));
            return Task.FromResult(Change.Of(true));
        }, CancellationToken.None);
        var delivery = (await admin.GetAsync($"/webhooks/{id}/deliveries?limit=10")).AssertStatus(HttpStatusCode.OK).Ids().Single();
        return new Victim(admin, id, delivery, url);
    }

    private static async Task<string> StateAsync(Victim victim) =>
        (await victim.Admin.GetAsync($"/webhooks/{victim.Webhook}")).AssertStatus(HttpStatusCode.OK).Data.ToString() +
        (await victim.Admin.GetAsync($"/webhooks/{victim.Webhook}/deliveries?limit=10")).AssertStatus(HttpStatusCode.OK).Data.ToString();

    /// <summary>Runs <paramref name="attack"/> by an admin of <paramref name="attackerTenant"/> and checks the victim's webhook is untouched.</summary>
    public static async Task ProbeAsync(LivechatServer server, long victimTenant, long attackerTenant, Func<Caller, string, string, IEnumerable<string>, Task> attack)
    {
        var victim = await VictimAsync(server, victimTenant);
        var before = await StateAsync(victim);
        var attacker = new Caller(server, LivechatServer.NewUserId(), attackerTenant, ["SUPPORT_ADMIN"]);
        await attack(attacker, victim.Webhook, victim.Delivery, victim.Secrets);
        Assert.Equal(before, await StateAsync(victim));
    }
}
