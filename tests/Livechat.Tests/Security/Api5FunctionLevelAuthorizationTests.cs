using System.Net;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests.Security;

/// <summary>
/// OWASP API5:2023 Broken Function Level Authorization. A tenant user (a valid token for the tenant, without
/// the <c>SUPPORT_AGENT</c> role) gets a 403 and changes nothing on every agent-only endpoint, the list of
/// which is read from the endpoints' own metadata so a new one without a probe fails the suite. The role is
/// matched exactly: other casings, padding, look-alikes and other claim names are not an agent. A tenant
/// user cannot make itself an agent, and the hub keeps agent-only events (every session's updates,
/// presence) away from it.
/// </summary>
public sealed class Api5FunctionLevelAuthorizationTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private delegate Task<Reply> Call(Caller caller, World world);

    private static readonly Dictionary<string, Call> AgentOnly = new(StringComparer.Ordinal)
    {
        ["PATCH /livechat/sessions/{id}"] = (c, w) => c.PatchAsync($"/livechat/sessions/{w.Session}", new { status = "CLOSED" }),
        ["GET /livechat/agents"] = (c, w) => c.GetAsync("/livechat/agents"),
        ["PUT /livechat/agents/me/presence"] = (c, w) => c.PutAsync("/livechat/agents/me/presence", new { status = "ONLINE" }),
        ["PATCH /livechat/agents/me"] = (c, w) => c.PatchAsync("/livechat/agents/me", new { max_sessions = 50 }),
        ["GET /livechat/queue"] = (c, w) => c.GetAsync("/livechat/queue"),
        ["POST /livechat/sessions/{id}/transfer"] = (c, w) => c.PostAsync($"/livechat/sessions/{w.Session}/transfer", new { agent_id = (long?)null }),
        ["GET /tickets"] = (c, w) => c.GetAsync("/tickets?limit=100"),
        ["GET /tickets/{id}"] = (c, w) => c.GetAsync($"/tickets/{w.Ticket}"),
        ["PATCH /tickets/{id}"] = (c, w) => c.PatchAsync($"/tickets/{w.Ticket}", new { status = "closed", agent_id = w.VictimAgent.UserId }),
        ["GET /livechat/canned-responses"] = (c, w) => c.GetAsync("/livechat/canned-responses?q=victim"),
        ["POST /livechat/canned-responses"] = (c, w) => c.PostAsync("/livechat/canned-responses", new { shortcut = "mine", title = "Mine", body = "Mine" }),
        ["GET /livechat/canned-responses/{id}"] = (c, w) => c.GetAsync($"/livechat/canned-responses/{w.CannedResponse}?session_id={w.Session}"),
        ["PATCH /livechat/canned-responses/{id}"] = (c, w) => c.PatchAsync($"/livechat/canned-responses/{w.CannedResponse}", new { title = "Changed" }),
        ["DELETE /livechat/canned-responses/{id}"] = (c, w) => c.SendAsync(HttpMethod.Delete, $"/livechat/canned-responses/{w.CannedResponse}", null),
        ["GET /livechat/labels"] = (c, w) => c.GetAsync("/livechat/labels"),
        ["PUT /livechat/sessions/{id}/labels"] = (c, w) => c.PutAsync($"/livechat/sessions/{w.Session}/labels", new { labels = new[] { "changed" } }),
    };

    public static TheoryData<string> AgentOnlyOperations() => new(AgentOnly.Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void EveryAgentOnlyEndpointHasAProbe()
    {
        var endpoints = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        var agentOnly = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in endpoints)
        {
            if (!endpoint.Metadata.GetOrderedMetadata<TenantFilter.TenantRequired>().Any(r => r.AgentsOnly)) continue;
            var path = "/" + endpoint.RoutePattern.RawText!.Trim('/');
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                agentOnly.Add($"{method} {path}");
        }
        Assert.Equal(agentOnly, new SortedSet<string>(AgentOnly.Keys, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(AgentOnlyOperations))]
    public async Task ATenantUserGets403OnAnAgentOnlyEndpointAndChangesNothing(string operation)
    {
        var w = await World.CreateAsync(server);
        var before = await w.VictimStateAsync();
        foreach (var user in new[] { w.VictimUser, w.Colleague })
        {
            var reply = await AgentOnly[operation](user, w);
            Assert.True(reply.Status == HttpStatusCode.Forbidden, $"{operation}: {(int)reply.Status} {reply.Text}");
            reply.AssertError(HttpStatusCode.Forbidden, "request");
            reply.AssertLeaksNothing([w.Ticket, w.OfflineAgent.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)], operation);
        }
        Assert.Equal(before, await w.VictimStateAsync());
        // An agent of the tenant may: the 403 was about the role.
        Assert.True((int)(await AgentOnly[operation](w.VictimAgent, w)).Status is >= 200 and < 300, operation);
    }

    [Theory]
    [InlineData("support_agent")]
    [InlineData("Support_Agent")]
    [InlineData("SUPPORT_AGENT ")]
    [InlineData(" SUPPORT_AGENT")]
    [InlineData("SUPPORT-AGENT")]
    [InlineData("SUPPORT_AGENT,TENANT_ADMIN")]
    [InlineData("SUPPORT_AGENT\u200B")]
    [InlineData("ＳＵＰＰＯＲＴ_ＡＧＥＮＴ")]
    [InlineData("SUPPORT_AGENTS")]
    public async Task ARoleThatOnlyLooksLikeSupportAgentIsNotAnAgent(string role)
    {
        var tenant = await server.NewTenantAsync();
        var token = Jwt.Sign(LivechatServer.NewUserId(), tenant, role);
        (await server.AsAsync(HttpMethod.Get, "/livechat/agents", token, tenant)).AssertError(HttpStatusCode.Forbidden, "request");
        (await server.AsAsync(HttpMethod.Get, "/tickets", token, tenant)).AssertError(HttpStatusCode.Forbidden, "request");
        // And it cannot start a session as its own agent.
        (await server.AsAsync(HttpMethod.Post, "/livechat/sessions", token, tenant, "{}")).AssertError(HttpStatusCode.BadRequest, "agent_id");
    }

    [Theory]
    [InlineData("Role")]
    [InlineData("ROLE")]
    [InlineData("roles")]
    [InlineData("http://schemas.microsoft.com/ws/2008/06/identity/claims/role")]
    [InlineData("scope")]
    public async Task TheRoleUnderAnotherClaimNameIsNotAnAgent(string claim)
    {
        var tenant = await server.NewTenantAsync();
        var token = Jwt.Sign(LivechatServer.NewUserId(), tenant, "TENANT_ADMIN", d => d.Claims[claim] = Roles.SupportAgent);
        (await server.AsAsync(HttpMethod.Get, "/livechat/agents", token, tenant)).AssertError(HttpStatusCode.Forbidden, "request");
    }

    [Theory]
    [InlineData("Tenant_Id")]
    [InlineData("TENANT_ID")]
    [InlineData("tenantid")]
    public async Task TheTenantUnderAnotherClaimNameGrantsNothing(string claim)
    {
        var mine = await server.NewTenantAsync();
        var theirs = await server.NewTenantAsync();
        var token = Jwt.Sign(LivechatServer.NewUserId(), mine, Roles.SupportAgent, d => d.Claims[claim] = theirs);
        (await server.AsAsync(HttpMethod.Get, "/livechat/sessions", token, theirs)).AssertError(HttpStatusCode.Forbidden, "request");
    }

    [Fact]
    public async Task ATenantUserCannotMakeItselfAnAgent()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var user = server.TenantUser(tenant);
        (await user.PutAsync("/livechat/agents/me/presence", new { status = "ONLINE" })).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.PostAsync("/livechat/sessions", new { agent_id = user.UserId })).AssertError(HttpStatusCode.BadRequest, "agent_id");
        (await user.PatchAsync("/livechat/agents/me", new { max_sessions = 5 })).AssertError(HttpStatusCode.Forbidden, "request");
        var agents = (await agent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        Assert.DoesNotContain(agents.Data.EnumerateArray(), a => a.GetProperty("agent_id").GetInt64() == user.UserId);
        Assert.Empty((await agent.GetAsync("/tickets?limit=10")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
    }

    [Fact]
    public async Task TheHubKeepsAgentOnlyEventsFromTenantUsers()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var colleague = server.Agent(tenant);
        (await colleague.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        var user = server.TenantUser(tenant);
        await using var watcher = await HubClient.ConnectAsync(server, server.Agent(tenant));
        await using var userHub = await HubClient.ConnectAsync(server, user);

        var session = await user.StartSessionAsync(agent.UserId);
        await userHub.Connection.InvokeAsync("JoinSession", session);
        var other = await colleague.StartSessionAsync();
        (await colleague.PutAsync("/livechat/agents/me/presence", new { status = "AWAY" })).AssertStatus(HttpStatusCode.OK);
        await agent.SendMessageAsync(session, "sentinel");

        await userHub.NextAsync("messageCreated");
        await watcher.NextAsync("sessionUpdated", s => s.Text("id") == other);
        await watcher.NextAsync("presenceUpdated", p => p.GetProperty("agent_id").GetInt64() == colleague.UserId);
        Assert.Empty(userHub.Drain("sessionUpdated"));
        Assert.Empty(userHub.Drain("presenceUpdated"));

        // A session the user joined is its business: its update arrives.
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(session, (await userHub.NextAsync("sessionUpdated")).Text("id"));
    }
}
