using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 4, extensions: listing sessions newest first, closing them, one open session per agent.</summary>
public abstract class SessionLifecycleTests(LivechatServer server)
{
    /// <summary><paramref name="count"/> sessions of one tenant, each of its own agent, oldest first.</summary>
    private async Task<(long Tenant, List<Caller> Agents, List<string> Sessions)> SessionsAsync(int count)
    {
        var tenant = await server.NewTenantAsync();
        var agents = new List<Caller>();
        var sessions = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var agent = server.Agent(tenant);
            agents.Add(agent);
            sessions.Add(await agent.StartSessionAsync());
        }
        return (tenant, agents, sessions);
    }

    private static Task<Reply> CloseAsync(Caller caller, string session) => caller.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" });

    private static async Task<string> StatusOfAsync(Caller caller, string session) =>
        (await caller.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data.Text("status");

    [Fact]
    public async Task ListingIsNewestFirstAndNextCursorWalksToOlderSessionsEachOnce()
    {
        var (_, agents, sessions) = await SessionsAsync(5);
        var newestFirst = Enumerable.Reverse(sessions).ToList();

        var first = (await agents[0].GetAsync("/livechat/sessions?limit=2")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(newestFirst[..2], first.Ids());
        Assert.True(first.Pagination.GetProperty("has_next").GetBoolean());
        Assert.False(first.Pagination.GetProperty("has_prev").GetBoolean());
        Assert.Equal(newestFirst[1], first.Cursor("next_cursor"));
        Assert.Equal(2, first.Pagination.GetProperty("limit").GetInt32());

        var second = (await agents[0].GetAsync($"/livechat/sessions?limit=2&cursor={first.Cursor("next_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(newestFirst[2..4], second.Ids());
        Assert.True(second.Pagination.GetProperty("has_prev").GetBoolean());

        var last = (await agents[0].GetAsync($"/livechat/sessions?limit=2&cursor={second.Cursor("next_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(newestFirst[4..], last.Ids());
        Assert.False(last.Pagination.GetProperty("has_next").GetBoolean());
        Assert.Null(last.Cursor("next_cursor"));

        var walked = (await agents[0].WalkAsync("/livechat/sessions?limit=1")).Select(s => s.Text("id")).ToList();
        Assert.Equal(newestFirst, walked);
        var createdAt = (await agents[0].WalkAsync("/livechat/sessions?limit=3")).Select(s => s.Text("created_at")).ToList();
        Assert.Equal(createdAt.OrderByDescending(t => t, StringComparer.Ordinal), createdAt);
    }

    [Fact]
    public async Task TheStatusFilterListsOpenOrClosedSessions()
    {
        var (_, agents, sessions) = await SessionsAsync(4);
        (await CloseAsync(agents[0], sessions[0])).AssertStatus(HttpStatusCode.OK);
        (await CloseAsync(agents[0], sessions[2])).AssertStatus(HttpStatusCode.OK);

        var open = (await agents[0].WalkAsync("/livechat/sessions?status=OPEN&limit=1")).ToList();
        Assert.Equal([sessions[3], sessions[1]], open.Select(s => s.Text("id")));
        Assert.All(open, s => Assert.Equal("OPEN", s.Text("status")));

        var closed = (await agents[0].WalkAsync("/livechat/sessions?status=CLOSED&limit=1")).ToList();
        Assert.Equal([sessions[2], sessions[0]], closed.Select(s => s.Text("id")));
        Assert.All(closed, s => Assert.Equal("CLOSED", s.Text("status")));

        var all = (await agents[0].WalkAsync("/livechat/sessions?limit=100")).Select(s => s.Text("id"));
        Assert.Equal(Enumerable.Reverse(sessions), all);
    }

    [Theory]
    [InlineData("open")]
    [InlineData("closed")]
    [InlineData("PAUSED")]
    [InlineData("OPEN,CLOSED")]
    public async Task AnInvalidStatusFilterIs400(string status)
    {
        var (_, agents, _) = await SessionsAsync(1);
        (await agents[0].GetAsync($"/livechat/sessions?status={status}")).AssertError(HttpStatusCode.BadRequest, "status");
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=-1")]
    [InlineData("limit=abc")]
    [InlineData("limit=2.5")]
    public async Task AnInvalidLimitIs400(string query)
    {
        var (_, agents, _) = await SessionsAsync(1);
        (await agents[0].GetAsync($"/livechat/sessions?{query}")).AssertError(HttpStatusCode.BadRequest, "limit");
    }

    [Fact]
    public async Task AMalformedUnknownOrForeignCursorIs400()
    {
        var (_, agents, _) = await SessionsAsync(2);
        var foreign = await server.Agent(await server.NewTenantAsync()).StartSessionAsync();
        foreach (var cursor in new[] { "nope", Guid.CreateVersion7().ToString(), foreign })
            (await agents[0].GetAsync($"/livechat/sessions?limit=5&cursor={cursor}")).AssertError(HttpStatusCode.BadRequest, "cursor");
    }

    [Fact]
    public async Task ListingShowsOnlyTheCallersTenantsSessions()
    {
        var (_, agents, sessions) = await SessionsAsync(2);
        var (_, strangers, theirs) = await SessionsAsync(3);

        Assert.Equal(Enumerable.Reverse(sessions), (await agents[0].WalkAsync("/livechat/sessions?limit=100")).Select(s => s.Text("id")));
        Assert.Equal(Enumerable.Reverse(theirs), (await strangers[0].WalkAsync("/livechat/sessions?limit=100")).Select(s => s.Text("id")));
        var empty = (await server.Agent(await server.NewTenantAsync()).GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, empty.Data.GetArrayLength());
    }

    [Fact]
    public async Task ClosingReturnsTheClosedSessionWithALaterUpdatedAt()
    {
        var (_, agents, sessions) = await SessionsAsync(1);
        var before = (await agents[0].GetAsync($"/livechat/sessions/{sessions[0]}")).AssertStatus(HttpStatusCode.OK).Data;

        var closed = (await CloseAsync(agents[0], sessions[0])).AssertStatus(HttpStatusCode.OK).Data;

        Assert.Equal(sessions[0], closed.Text("id"));
        Assert.Equal("CLOSED", closed.Text("status"));
        Assert.Equal(agents[0].UserId, closed.GetProperty("agent_id").GetInt64());
        Assert.Equal(before.Text("created_at"), closed.Text("created_at"));
        Assert.True(string.CompareOrdinal(closed.Text("updated_at"), closed.Text("created_at")) > 0, closed.ToString());
        var read = (await agents[0].GetAsync($"/livechat/sessions/{sessions[0]}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(closed.WithoutCallerFields(), read.WithoutCallerFields());
    }

    [Fact]
    public async Task AnotherAgentOfTheTenantMayCloseTheSession()
    {
        var (tenant, _, sessions) = await SessionsAsync(1);
        var colleague = server.Agent(tenant);
        (await CloseAsync(colleague, sessions[0])).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("CLOSED", await StatusOfAsync(colleague, sessions[0]));
    }

    [Fact]
    public async Task ClosingAgainIs200AndKeepsTheFirstUpdatedAt()
    {
        var (_, agents, sessions) = await SessionsAsync(1);
        var first = (await CloseAsync(agents[0], sessions[0])).AssertStatus(HttpStatusCode.OK).Data;
        var again = (await CloseAsync(agents[0], sessions[0])).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(first.ToString(), again.ToString());
    }

    [Fact]
    public async Task ReopeningAClosedSessionIs400OnStatus()
    {
        var (_, agents, sessions) = await SessionsAsync(1);
        var closed = (await CloseAsync(agents[0], sessions[0])).AssertStatus(HttpStatusCode.OK).Data;
        (await agents[0].PatchAsync($"/livechat/sessions/{sessions[0]}", new { status = "OPEN" })).AssertError(HttpStatusCode.BadRequest, "status");
        var read = (await agents[0].GetAsync($"/livechat/sessions/{sessions[0]}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(closed.WithoutCallerFields(), read.WithoutCallerFields());
    }

    [Theory]
    [InlineData("{\"status\": \"PAUSED\"}")]
    [InlineData("{\"status\": \"closed\"}")]
    [InlineData("{\"status\": 5}")]
    [InlineData("{\"status\": null}")]
    [InlineData("{}")]
    public async Task AnUnknownTargetStatusIs400AndChangesNothing(string json)
    {
        var (_, agents, sessions) = await SessionsAsync(1);
        (await agents[0].PatchAsync($"/livechat/sessions/{sessions[0]}", json)).AssertError(HttpStatusCode.BadRequest, "status");
        Assert.Equal("OPEN", await StatusOfAsync(agents[0], sessions[0]));
    }

    [Fact]
    public async Task ClosingAnUnknownSessionIs404AndAMalformedIdIs400()
    {
        var (_, agents, _) = await SessionsAsync(1);
        (await CloseAsync(agents[0], Guid.CreateVersion7().ToString())).AssertError(HttpStatusCode.NotFound, "request");
        (await agents[0].PatchAsync($"/livechat/sessions/{Guid.CreateVersion7()}", new { status = "OPEN" })).AssertError(HttpStatusCode.NotFound, "request");
        (await CloseAsync(agents[0], "not-a-uuid")).AssertError(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task ClosingAnotherTenantsSessionIs404AndLeavesItOpen()
    {
        var (_, agents, sessions) = await SessionsAsync(1);
        var stranger = server.Agent(await server.NewTenantAsync());
        (await CloseAsync(stranger, sessions[0])).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.PatchAsync($"/livechat/sessions/{sessions[0]}", new { status = "OPEN" })).AssertError(HttpStatusCode.NotFound, "request");
        Assert.Equal("OPEN", await StatusOfAsync(agents[0], sessions[0]));
    }

    [Fact]
    public async Task ATenantUserCannotCloseASession()
    {
        var (tenant, agents, sessions) = await SessionsAsync(1);
        (await CloseAsync(server.TenantUser(tenant), sessions[0])).AssertError(HttpStatusCode.Forbidden, "request");
        Assert.Equal("OPEN", await StatusOfAsync(agents[0], sessions[0]));
    }

    [Fact]
    public async Task SendingToAClosedSessionIs409AndStoresNothing()
    {
        var (tenant, agents, sessions) = await SessionsAsync(1);
        await agents[0].SendMessageAsync(sessions[0], "before closing");
        (await CloseAsync(agents[0], sessions[0])).AssertStatus(HttpStatusCode.OK);

        (await agents[0].PostAsync($"/livechat/sessions/{sessions[0]}/messages", new { message = "too late" })).AssertStatus(HttpStatusCode.Conflict);
        (await server.TenantUser(tenant).PostAsync($"/livechat/sessions/{sessions[0]}/messages", new { message = "too late" })).AssertStatus(HttpStatusCode.Conflict);

        var page = (await agents[0].GetAsync($"/livechat/sessions/{sessions[0]}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(["before closing"], page.Data.EnumerateArray().Select(m => m.Text("message")));
    }

    [Fact]
    public async Task AfterClosingTheAgentCanStartANewSession()
    {
        var (_, agents, sessions) = await SessionsAsync(1);
        (await CloseAsync(agents[0], sessions[0])).AssertStatus(HttpStatusCode.OK);

        var reply = (await agents[0].PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created);

        Assert.NotEqual(sessions[0], reply.Data.Text("id"));
        Assert.Equal("OPEN", reply.Data.Text("status"));
        var open = (await agents[0].GetAsync("/livechat/sessions?status=OPEN")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([reply.Data.Text("id")], open.Ids());
    }

    [Fact]
    public async Task TenConcurrentStartsForOneAgentOpenExactlyOneSession()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        (await agent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);

        var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => agent.PostAsync("/livechat/sessions", new { })));

        var winners = replies.Where(r => r.Status == HttpStatusCode.Created).ToList();
        var winner = Assert.Single(winners).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        foreach (var loser in replies.Where(r => r.Status != HttpStatusCode.Created))
        {
            loser.AssertError(HttpStatusCode.BadRequest, "agent_id");
            Assert.Equal(winner, loser.Meta.GetProperty("session_id").GetString());
        }
        var sessions = (await agent.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([winner], sessions.Ids());
    }

    [Fact]
    public async Task ConcurrentStartsByTenantUsersForOneOnlineAgentOpenExactlyOneSession()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var users = Enumerable.Range(0, 10).Select(_ => server.TenantUser(tenant)).ToList();

        var replies = await Task.WhenAll(users.Select(u => u.PostAsync("/livechat/sessions", new { agent_id = agent.UserId })));

        var winner = Assert.Single(replies, r => r.Status == HttpStatusCode.Created).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        foreach (var loser in replies.Where(r => r.Status != HttpStatusCode.Created))
        {
            loser.AssertError(HttpStatusCode.BadRequest, "agent_id");
            Assert.Equal(winner, loser.Meta.GetProperty("session_id").GetString());
        }
        Assert.Equal([winner], (await agent.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK).Ids());
    }
}

public sealed class SessionLifecycleTestsOnSqlite(SqliteServer server) : SessionLifecycleTests(server), IClassFixture<SqliteServer>;

public sealed class SessionLifecycleTestsOnPostgres(PostgresServer server) : SessionLifecycleTests(server), IClassFixture<PostgresServer>;
