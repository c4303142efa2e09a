using System.Net;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests.Security;

/// <summary>
/// OWASP API9:2023 Improper Inventory Management. Every HTTP route the running service maps is either in the
/// OpenAPI document (which the other security classes enumerate) or one of a short, named list of
/// non-REST routes (the hub, its negotiate request, the SSE stream's documented route, metrics, the
/// document itself, the docs page): no shadow endpoint exists that no security test knows about.
/// </summary>
public sealed class Api9InventoryTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    /// <summary>Routes that are not REST operations, each with the reason it is not in the document.</summary>
    private static readonly Dictionary<string, string> Undocumented = new(StringComparer.Ordinal)
    {
        ["/livechat/hub"] = "SignalR hub (RealtimeTests, Api1/Api2 hub probes)",
        ["/livechat/hub/negotiate"] = "SignalR negotiate (Api2 hub probes)",
        ["/metrics"] = "Prometheus scrape endpoint (no tenant data; restrict at the network)",
        ["/openapi/{documentName}.json"] = "the OpenAPI document itself",
        ["/docs/"] = "Scalar API reference page and its assets",
        ["/health/"] = "liveness and readiness (public, no tenant data: Api1 checks)",
        ["/livechat/attachments/{id}/content"] = "signed download links, no token (AttachmentTests.ABadExpiredOrForeignSignatureIs403, Api1 public probe)",
    };

    [Fact]
    public async Task EveryMappedRouteIsDocumentedOrKnownToBeOutsideTheApi()
    {
        var documented = (await Probe.OpenApiOperationsAsync(server)).Select(o => o[(o.IndexOf(' ', StringComparison.Ordinal) + 1)..]).ToHashSet(StringComparer.Ordinal);
        var mapped = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.Trim('/'))
            .ToHashSet(StringComparer.Ordinal);
        var shadow = mapped.Where(path => !documented.Contains(path) && !Undocumented.Keys.Any(k => path.StartsWith(k, StringComparison.Ordinal))).Order(StringComparer.Ordinal).ToList();
        Assert.True(shadow.Count == 0, $"Routes in neither the OpenAPI document nor the known list: {string.Join(", ", shadow)}");
    }
}

/// <summary>
/// OWASP API6:2023 Unrestricted Access to Sensitive Business Flows. The one flow with a side effect on
/// somebody else's work queue, "the agent is offline, open a ticket", cannot be used to flood the support
/// team: repeated attempts, sequential or concurrent, reuse the one open ticket per agent.
/// </summary>
public sealed class Api6BusinessFlowTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task RepeatedStartsWithAnOfflineAgentOpenOneTicketOnly()
    {
        var tenant = await server.NewTenantAsync();
        var offline = server.Agent(tenant);
        (await offline.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        var users = Enumerable.Range(0, 5).Select(_ => server.TenantUser(tenant)).ToList();
        var replies = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => users[i % users.Count].PostAsync("/livechat/sessions", new { agent_id = offline.UserId })));
        var tickets = replies.Select(r => r.AssertError(HttpStatusCode.BadRequest, "agent_id").Meta.GetProperty("ticket_id").GetString()).Distinct().ToList();
        Assert.Single(tickets);
        Assert.Single((await offline.GetAsync("/tickets?limit=100")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
    }
}
