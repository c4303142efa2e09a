using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 4, agent presence: <c>PUT /livechat/agents/me/presence</c> and <c>GET /livechat/agents</c>.</summary>
public abstract class PresenceTests(LivechatServer server)
{
    private static async Task<Dictionary<long, string>> PresenceByAgentAsync(Caller caller)
    {
        var reply = (await caller.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        return reply.Data.EnumerateArray().ToDictionary(a => a.GetProperty("agent_id").GetInt64(), a => a.Text("presence"));
    }

    [Theory]
    [InlineData("ONLINE")]
    [InlineData("AWAY")]
    [InlineData("OFFLINE")]
    public async Task SettingAPresenceReturnsTheAgentWithIt(string status)
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var reply = (await agent.PutAsync("/livechat/agents/me/presence", new { status })).AssertStatus(HttpStatusCode.OK);

        var names = reply.Data.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.True(names.SetEquals(["agent_id", "tenant_id", "presence", "last_seen_at", "max_sessions", "open_sessions"]), $"Agent members: {string.Join(",", names)}");
        Assert.Equal(1, reply.Data.GetProperty("max_sessions").GetInt32());
        Assert.Equal(0, reply.Data.GetProperty("open_sessions").GetInt32());
        Assert.Equal(agent.UserId, reply.Data.GetProperty("agent_id").GetInt64());
        Assert.Equal(tenant, reply.Data.GetProperty("tenant_id").GetInt64());
        Assert.Equal(status, reply.Data.Text("presence"));
        Assert.Matches(Formats.Timestamp, reply.Data.Text("last_seen_at"));

        Assert.Equal(status, (await PresenceByAgentAsync(agent))[agent.UserId]);
    }

    [Fact]
    public async Task ThePresenceCanBeChangedAgainAndTheLastOneCounts()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        await agent.GoOnlineAsync();
        (await agent.PutAsync("/livechat/agents/me/presence", new { status = "AWAY" })).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("AWAY", (await PresenceByAgentAsync(agent))[agent.UserId]);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"status\": null}")]
    [InlineData("{\"status\": \"BUSY\"}")]
    [InlineData("{\"status\": 5}")]
    [InlineData("{\"status\": \"online\"}")]
    [InlineData("{\"status\": \"\"}")]
    [InlineData("{\"status\": [\"ONLINE\"]}")]
    public async Task AnInvalidPresenceIs400OnStatusAndChangesNothing(string json)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        await agent.GoOnlineAsync();
        (await agent.PutAsync("/livechat/agents/me/presence", json)).AssertError(HttpStatusCode.BadRequest, "status");
        Assert.Equal("ONLINE", (await PresenceByAgentAsync(agent))[agent.UserId]);
    }

    [Fact]
    public async Task AnAgentIsListedOfflineOnceItHasCalledTheApiInTheTenant()
    {
        var tenant = await server.NewTenantAsync();
        var watcher = server.Agent(tenant);
        var newcomer = server.Agent(tenant);
        Assert.False((await PresenceByAgentAsync(watcher)).ContainsKey(newcomer.UserId));

        (await newcomer.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK);

        Assert.Equal("OFFLINE", (await PresenceByAgentAsync(watcher))[newcomer.UserId]);
    }

    [Fact]
    public async Task ListingAgentsShowsExactlyTheTenantsKnownAgentsWithTheirPresence()
    {
        var tenant = await server.NewTenantAsync();
        var online = server.Agent(tenant);
        var away = server.Agent(tenant);
        var idle = server.Agent(tenant);
        await online.GoOnlineAsync();
        (await away.PutAsync("/livechat/agents/me/presence", new { status = "AWAY" })).AssertStatus(HttpStatusCode.OK);
        (await server.TenantUser(tenant).GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK);
        var foreigner = server.Agent(await server.NewTenantAsync());
        await foreigner.GoOnlineAsync();

        var reply = (await idle.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        Assert.All(reply.Data.EnumerateArray(), a => Assert.Equal(tenant, a.GetProperty("tenant_id").GetInt64()));
        var listed = reply.Data.EnumerateArray().ToDictionary(a => a.GetProperty("agent_id").GetInt64(), a => a.Text("presence"));
        Assert.Equal(new Dictionary<long, string>
        {
            [online.UserId] = "ONLINE",
            [away.UserId] = "AWAY",
            [idle.UserId] = "OFFLINE",
        }, listed);
    }

    [Fact]
    public async Task PresenceIsPerTenant()
    {
        var userId = LivechatServer.NewUserId();
        var here = server.Agent(await server.NewTenantAsync(), userId);
        var there = server.Agent(await server.NewTenantAsync(), userId);
        await here.GoOnlineAsync();
        Assert.Equal("OFFLINE", (await PresenceByAgentAsync(there))[userId]);
        Assert.Equal("ONLINE", (await PresenceByAgentAsync(here))[userId]);
    }

    [Fact]
    public async Task TenantUsersGet403OnPresenceAndOnTheAgentList()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        (await agent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        var user = server.TenantUser(tenant);

        (await user.PutAsync("/livechat/agents/me/presence", new { status = "ONLINE" })).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.GetAsync("/livechat/agents")).AssertError(HttpStatusCode.Forbidden, "request");

        // The refused call made no agent of the tenant user.
        var agents = await PresenceByAgentAsync(agent);
        Assert.False(agents.ContainsKey(user.UserId));
    }
}

public sealed class PresenceTestsOnSqlite(SqliteServer server) : PresenceTests(server), IClassFixture<SqliteServer>;

public sealed class PresenceTestsOnPostgres(PostgresServer server) : PresenceTests(server), IClassFixture<PostgresServer>;
