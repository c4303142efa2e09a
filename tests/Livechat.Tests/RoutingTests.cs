using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Livechat.Tests;

/// <summary>A server whose offline agents give their chats back after one second.</summary>
public sealed class RoutingSqliteServer : LivechatServer
{
    public RoutingSqliteServer() : base(DatabaseProvider.Sqlite) => RoutingTests.Configure(Settings);
}

public sealed class RoutingPostgresServer : LivechatServer
{
    public RoutingPostgresServer() : base(DatabaseProvider.Postgres) => RoutingTests.Configure(Settings);
}

/// <summary>Contract section 10: capacity, routed starts, the queue, transfer, requeue, and their events.</summary>
public abstract class RoutingTests(LivechatServer server)
{
    public static void Configure(IDictionary<string, string?> settings)
    {
        settings["Livechat:Routing:RequeueAfterSeconds"] = "1";
        settings["Livechat:Presence:GraceSeconds"] = "0";
    }

    private async Task<Caller> OnlineAgentAsync(long tenant, int? maxSessions = null)
    {
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        if (maxSessions is { } max) (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = max })).AssertStatus(HttpStatusCode.OK);
        return agent;
    }

    private static async Task<JsonElement> StartRoutedAsync(Caller user) =>
        (await user.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;

    private static async Task<JsonElement> SessionAsync(Caller caller, string id) =>
        (await caller.GetAsync($"/livechat/sessions/{id}")).AssertStatus(HttpStatusCode.OK).Data;

    private static async Task<Dictionary<long, JsonElement>> AgentsAsync(Caller caller) =>
        (await caller.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray()
            .ToDictionary(a => a.GetProperty("agent_id").GetInt64(), a => a.Clone());

    private static long? AgentOf(JsonElement session) => session.TryGetProperty("agent_id", out var a) ? a.GetInt64() : null;

    private static int? PositionOf(JsonElement session) => session.TryGetProperty("queue_position", out var p) ? p.GetInt32() : null;

    // --- capacity ---

    [Fact]
    public async Task CapacityIsSetWithPatchAndShownOnTheAgent()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var reply = (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 5 })).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(5, reply.Data.GetProperty("max_sessions").GetInt32());
        Assert.Equal(0, reply.Data.GetProperty("open_sessions").GetInt32());
        await agent.StartSessionAsync();
        var listed = (await AgentsAsync(agent))[agent.UserId];
        Assert.Equal(5, listed.GetProperty("max_sessions").GetInt32());
        Assert.Equal(1, listed.GetProperty("open_sessions").GetInt32());
    }

    [Theory]
    [InlineData("{\"max_sessions\": 0}")]
    [InlineData("{\"max_sessions\": 51}")]
    [InlineData("{\"max_sessions\": 2.5}")]
    [InlineData("{\"max_sessions\": \"3\"}")]
    [InlineData("{}")]
    public async Task ACapacityOutside1To50Is400AndChangesNothing(string json)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        (await agent.PatchAsync("/livechat/agents/me", json)).AssertError(HttpStatusCode.BadRequest, "max_sessions");
        Assert.Equal(1, (await AgentsAsync(agent))[agent.UserId].GetProperty("max_sessions").GetInt32());
    }

    [Fact]
    public async Task AnAgentAtCapacityIsRefusedNamingItsNewestOpenSession()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant, maxSessions: 2);
        var user = server.TenantUser(tenant);
        await user.StartSessionAsync(agent.UserId);
        var newest = await user.StartSessionAsync(agent.UserId);
        var refused = (await user.PostAsync("/livechat/sessions", new { agent_id = agent.UserId })).AssertError(HttpStatusCode.BadRequest, "agent_id");
        Assert.Equal(newest, refused.Meta.GetProperty("session_id").GetString());
        Assert.Contains("capacity", refused.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    // --- routed start ---

    [Fact]
    public async Task ARoutedStartGoesToTheLeastBusyOnlineAgentNeverToAnAwayOne()
    {
        var tenant = await server.NewTenantAsync();
        var busy = await OnlineAgentAsync(tenant, maxSessions: 5);
        var idle = await OnlineAgentAsync(tenant, maxSessions: 5);
        var away = server.Agent(tenant);
        (await away.PutAsync("/livechat/agents/me/presence", new { status = "AWAY" })).AssertStatus(HttpStatusCode.OK);
        await server.TenantUser(tenant).StartSessionAsync(busy.UserId);

        var routed = await StartRoutedAsync(server.TenantUser(tenant));
        Assert.Equal(idle.UserId, AgentOf(routed));
        Assert.Null(PositionOf(routed));
        Assert.Equal("OPEN", routed.GetProperty("status").GetString());
    }

    [Fact]
    public async Task TiesGoToTheAgentWhoseLastAssignmentIsOldest()
    {
        var tenant = await server.NewTenantAsync();
        var first = await OnlineAgentAsync(tenant, maxSessions: 5);
        var second = await OnlineAgentAsync(tenant, maxSessions: 5);
        // Both hold one session; first got its session before second.
        (await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { agent_id = first.UserId })).AssertStatus(HttpStatusCode.Created);
        (await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { agent_id = second.UserId })).AssertStatus(HttpStatusCode.Created);
        Assert.Equal(first.UserId, AgentOf(await StartRoutedAsync(server.TenantUser(tenant))));
        Assert.Equal(second.UserId, AgentOf(await StartRoutedAsync(server.TenantUser(tenant))));
    }

    [Fact]
    public async Task AReturningUserGetsItsPreviousAgentWhenItHasRoom()
    {
        var tenant = await server.NewTenantAsync();
        var a = await OnlineAgentAsync(tenant, maxSessions: 5);
        var b = await OnlineAgentAsync(tenant, maxSessions: 5);
        var user = server.TenantUser(tenant);
        var first = await StartRoutedAsync(user);
        var previous = AgentOf(first)!.Value;
        (await (previous == a.UserId ? a : b).PatchAsync($"/livechat/sessions/{first.Text("id")}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        // Give the other agent fewer sessions than the previous one would have: still the previous agent.
        await server.TenantUser(tenant).StartSessionAsync(previous);
        Assert.Equal(previous, AgentOf(await StartRoutedAsync(user)));
    }

    // --- queue ---

    [Fact]
    public async Task WhenEveryoneIsAtCapacityTheChatIsQueuedInOrderAndTheUserCanWrite()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant);
        await StartRoutedAsync(server.TenantUser(tenant));

        var firstUser = server.TenantUser(tenant);
        var first = await StartRoutedAsync(firstUser);
        var second = await StartRoutedAsync(server.TenantUser(tenant));
        Assert.Null(AgentOf(first));
        Assert.Equal(1, PositionOf(first));
        Assert.Equal(2, PositionOf(second));
        Assert.Equal(2, PositionOf(await SessionAsync(agent, second.Text("id"))));

        var queue = (await agent.GetAsync("/livechat/queue")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal([first.Text("id"), second.Text("id")], queue.Select(s => s.Text("id")));
        Assert.Equal([1, 2], queue.Select(s => PositionOf(s)!.Value));

        await firstUser.SendMessageAsync(first.Text("id"), "still waiting, writing anyway");
        var listed = (await agent.GetAsync("/livechat/sessions?status=OPEN")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray();
        Assert.Equal(1, PositionOf(listed.Single(s => s.Text("id") == first.Text("id"))));
    }

    [Fact]
    public async Task AClosedSessionFreesASlotAndTheOldestQueuedChatIsAssignedAtOnceWithItsEvents()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant);
        var current = await StartRoutedAsync(server.TenantUser(tenant));
        var oldest = await StartRoutedAsync(server.TenantUser(tenant));
        var younger = await StartRoutedAsync(server.TenantUser(tenant));
        await using var hub = await HubClient.ConnectAsync(server, agent);

        (await agent.PatchAsync($"/livechat/sessions/{current.Text("id")}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);

        var assigned = await hub.NextAsync("sessionAssigned");
        Assert.Equal(oldest.Text("id"), assigned.Text("id"));
        Assert.Equal(agent.UserId, AgentOf(assigned));
        Assert.Equal(agent.UserId, AgentOf(await SessionAsync(agent, oldest.Text("id"))));
        var moved = await hub.NextAsync("sessionUpdated", s => s.Text("id") == younger.Text("id"));
        Assert.Equal(1, PositionOf(moved));
        Assert.Equal(1, PositionOf(await SessionAsync(agent, younger.Text("id"))));
    }

    [Fact]
    public async Task AnAgentComingOnlineOrRaisingItsCapacityTakesQueuedChats()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant);
        await StartRoutedAsync(server.TenantUser(tenant));
        var queued1 = await StartRoutedAsync(server.TenantUser(tenant));
        var queued2 = await StartRoutedAsync(server.TenantUser(tenant));

        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 2 })).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(agent.UserId, AgentOf(await SessionAsync(agent, queued1.Text("id"))));
        Assert.Null(AgentOf(await SessionAsync(agent, queued2.Text("id"))));

        var late = await OnlineAgentAsync(tenant);
        Assert.Equal(late.UserId, AgentOf(await SessionAsync(agent, queued2.Text("id"))));
        Assert.Empty((await agent.GetAsync("/livechat/queue")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
    }

    // --- transfer ---

    [Fact]
    public async Task TransferMovesASessionToAnotherOnlineAgentWhoHearsOfIt()
    {
        var tenant = await server.NewTenantAsync();
        var from = await OnlineAgentAsync(tenant);
        var to = await OnlineAgentAsync(tenant);
        var session = await server.TenantUser(tenant).StartSessionAsync(from.UserId);
        await using var hub = await HubClient.ConnectAsync(server, to);

        var moved = (await from.PostAsync($"/livechat/sessions/{session}/transfer", new { agent_id = to.UserId })).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(to.UserId, AgentOf(moved.Data));
        Assert.Equal(session, (await hub.NextAsync("sessionAssigned")).Text("id"));
        var agents = await AgentsAsync(from);
        Assert.Equal(0, agents[from.UserId].GetProperty("open_sessions").GetInt32());
        Assert.Equal(1, agents[to.UserId].GetProperty("open_sessions").GetInt32());
    }

    [Fact]
    public async Task AnAgentClaimsAQueuedChatByNamingItselfEvenOneItHandedBack()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant);
        var session = (await StartRoutedAsync(server.TenantUser(tenant))).Text("id");
        // Nobody else is ONLINE: handed back, it waits at the head, and is never routed back to its giver...
        Assert.Equal(1, PositionOf((await agent.PostAsync($"/livechat/sessions/{session}/transfer", new { agent_id = (long?)null })).AssertStatus(HttpStatusCode.OK).Data));
        Assert.Equal(0, (await AgentsAsync(agent))[agent.UserId].GetProperty("open_sessions").GetInt32());
        // ...unless the agent claims it by name.
        var claimed = (await agent.PostAsync($"/livechat/sessions/{session}/transfer", new { agent_id = agent.UserId })).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(agent.UserId, AgentOf(claimed.Data));
        Assert.Null(PositionOf(claimed.Data));
        Assert.Empty((await agent.GetAsync("/livechat/queue")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());

        // An OFFLINE agent cannot claim, even by naming itself.
        var waiting = (await StartRoutedAsync(server.TenantUser(tenant))).Text("id");
        var offline = server.Agent(tenant);
        (await offline.PatchAsync("/livechat/agents/me", new { max_sessions = 2 })).AssertStatus(HttpStatusCode.OK);
        (await offline.PostAsync($"/livechat/sessions/{waiting}/transfer", new { agent_id = offline.UserId })).AssertError(HttpStatusCode.Conflict, "agent_id");
        Assert.Null(AgentOf(await SessionAsync(agent, waiting)));
    }

    [Fact]
    public async Task TransferRefusalsAre409ForAnAgentThatCannotTakeItAndForAClosedSession()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant);
        var full = await OnlineAgentAsync(tenant);
        await server.TenantUser(tenant).StartSessionAsync(full.UserId);
        var away = server.Agent(tenant);
        (await away.PutAsync("/livechat/agents/me/presence", new { status = "AWAY" })).AssertStatus(HttpStatusCode.OK);
        var session = await server.TenantUser(tenant).StartSessionAsync(agent.UserId);
        var path = $"/livechat/sessions/{session}/transfer";

        (await agent.PostAsync(path, new { agent_id = full.UserId })).AssertError(HttpStatusCode.Conflict, "agent_id");
        (await agent.PostAsync(path, new { agent_id = away.UserId })).AssertError(HttpStatusCode.Conflict, "agent_id");
        (await agent.PostAsync(path, new { agent_id = LivechatServer.NewUserId() })).AssertError(HttpStatusCode.Conflict, "agent_id");
        Assert.Equal(agent.UserId, AgentOf(await SessionAsync(agent, session)));

        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        (await agent.PostAsync(path, new { agent_id = (long?)null })).AssertError(HttpStatusCode.Conflict, "status");
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"agent_id\": 0}")]
    [InlineData("{\"agent_id\": \"7\"}")]
    [InlineData("[]")]
    public async Task AMalformedTransferIs400(string json)
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant);
        var session = await server.TenantUser(tenant).StartSessionAsync(agent.UserId);
        var reply = await agent.PostAsync($"/livechat/sessions/{session}/transfer", json);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal(agent.UserId, AgentOf(await SessionAsync(agent, session)));
    }

    [Fact]
    public async Task TransferIsForAgentsAndAnUnknownSessionIs404()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant);
        var user = server.TenantUser(tenant);
        var session = await user.StartSessionAsync(agent.UserId);
        (await user.PostAsync($"/livechat/sessions/{session}/transfer", new { agent_id = (long?)null })).AssertError(HttpStatusCode.Forbidden, "request");
        (await agent.PostAsync($"/livechat/sessions/{Guid.NewGuid()}/transfer", new { agent_id = (long?)null })).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.PostAsync("/livechat/sessions/not-a-uuid/transfer", new { agent_id = (long?)null })).AssertError(HttpStatusCode.BadRequest, "id");
        (await user.GetAsync("/livechat/queue")).AssertError(HttpStatusCode.Forbidden, "request");
    }

    [Fact]
    public async Task HandingBackRoutesAwayFromTheGiverOrWaitsAtTheHeadOfTheQueue()
    {
        var tenant = await server.NewTenantAsync();
        var giver = await OnlineAgentAsync(tenant);
        var session = (await StartRoutedAsync(server.TenantUser(tenant))).Text("id");
        var queuedEarlier = await StartRoutedAsync(server.TenantUser(tenant));
        Assert.Equal(1, PositionOf(queuedEarlier));

        // Nobody else ONLINE: it waits at the head, and the giver's freed slot goes to the next chat, not back to it.
        var handed = (await giver.PostAsync($"/livechat/sessions/{session}/transfer", new { agent_id = (long?)null })).AssertStatus(HttpStatusCode.OK);
        Assert.Null(AgentOf(handed.Data));
        Assert.Equal(1, PositionOf(handed.Data));
        Assert.Equal(giver.UserId, AgentOf(await SessionAsync(giver, queuedEarlier.Text("id"))));
        Assert.Null(AgentOf(await SessionAsync(giver, session)));

        // Someone else comes online: it gets the handed-back chat.
        var other = await OnlineAgentAsync(tenant);
        Assert.Equal(other.UserId, AgentOf(await SessionAsync(giver, session)));
    }

    // --- no stranded chats ---

    [Fact]
    public async Task AnAgentOfflineForTheRequeueDelayGivesItsChatsBackOldestFirstToTheHeadOfTheQueue()
    {
        var tenant = await server.NewTenantAsync();
        var leaving = await OnlineAgentAsync(tenant, maxSessions: 2);
        var older = (await StartRoutedAsync(server.TenantUser(tenant))).Text("id");
        var newer = (await StartRoutedAsync(server.TenantUser(tenant))).Text("id");
        var waiting = (await StartRoutedAsync(server.TenantUser(tenant))).Text("id");
        Assert.Equal(1, PositionOf(await SessionAsync(leaving, waiting)));

        (await leaving.PutAsync("/livechat/agents/me/presence", new { status = "OFFLINE" })).AssertStatus(HttpStatusCode.OK);
        await Eventually.Async(async () => Assert.Null(AgentOf(await SessionAsync(leaving, older))), seconds: 15);

        var queue = (await leaving.GetAsync("/livechat/queue")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().Select(s => s.Text("id")).ToList();
        Assert.Equal([older, newer, waiting], queue);
        Assert.Equal(0, (await AgentsAsync(leaving))[leaving.UserId].GetProperty("open_sessions").GetInt32());

        // Whoever comes online next takes them from the head.
        var next = await OnlineAgentAsync(tenant, maxSessions: 2);
        Assert.Equal(next.UserId, AgentOf(await SessionAsync(next, older)));
        Assert.Equal(next.UserId, AgentOf(await SessionAsync(next, newer)));
        Assert.Null(AgentOf(await SessionAsync(next, waiting)));
    }

    // An away agent keeping its chats: RequeueTests, on a clock the test moves.

    // --- one open routed chat per user (contract 10.6) ---

    [Fact]
    public async Task AUserWithAnOpenRoutedChatGetsItBackQueuedOrAssignedAndNothingNewIsStored()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant);
        var assignedUser = server.TenantUser(tenant);
        var assigned = await StartRoutedAsync(assignedUser);
        var waitingUser = server.TenantUser(tenant);
        var waiting = await StartRoutedAsync(waitingUser);
        Assert.Equal(1, PositionOf(waiting));

        for (var i = 0; i < 3; i++)
        {
            var again = (await waitingUser.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.OK).Data;
            Assert.Equal(waiting.Text("id"), again.Text("id"));
            Assert.Equal(1, PositionOf(again));
            var mine = (await assignedUser.PostAsync("/livechat/sessions", new { agent_id = (long?)null })).AssertStatus(HttpStatusCode.OK).Data;
            Assert.Equal(assigned.Text("id"), mine.Text("id"));
            Assert.Equal(agent.UserId, AgentOf(mine));
        }
        Assert.Single((await agent.GetAsync("/livechat/queue")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        await Invariant.AssertAsync(agent, new() { [agent.UserId] = 1 }, expectedOpen: 2);

        // Once it is closed, the next start is a new chat.
        (await agent.PatchAsync($"/livechat/sessions/{assigned.Text("id")}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var next = (await assignedUser.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.NotEqual(assigned.Text("id"), next.Text("id"));
    }

    [Fact]
    public async Task AUserWithAnOpenRoutedChatGetsItBackEvenWhenNobodyIsOnlineAndNoTicketIsOpened()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant);
        var user = server.TenantUser(tenant);
        var open = await StartRoutedAsync(user);
        (await agent.PutAsync("/livechat/agents/me/presence", new { status = "AWAY" })).AssertStatus(HttpStatusCode.OK);
        var again = (await user.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(open.Text("id"), again.Text("id"));
        Assert.Empty((await agent.GetAsync("/tickets")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
    }

    [Theory]
    [InlineData(1)] // the agent is full: the race is for a place in the queue
    [InlineData(5)] // the agent has room: the race is for its slots
    public async Task ConcurrentRoutedStartsOfOneUserOpenExactlyOneSession(int capacity)
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant, maxSessions: capacity);
        if (capacity == 1) await StartRoutedAsync(server.TenantUser(tenant));
        var user = server.TenantUser(tenant);
        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => user.PostAsync("/livechat/sessions", new { })));
        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.All(replies, r => Assert.True(r.Status is HttpStatusCode.Created or HttpStatusCode.OK, $"{(int)r.Status} {r.Text}"));
        Assert.Single(replies.Select(r => r.AssertStatus(r.Status).Data.Text("id")).Distinct());
        await Invariant.AssertAsync(agent, new() { [agent.UserId] = capacity }, expectedOpen: capacity == 1 ? 2 : 1);
    }

    [Fact]
    public async Task StartsWithAnAgentAreNotLimitedToOneOpenSessionPerUser()
    {
        // Only routed starts are one per user: a start for a named agent, or an agent's own, is bounded by capacity.
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant, maxSessions: 4);
        await agent.StartSessionAsync();
        await agent.StartSessionAsync();
        var user = server.TenantUser(tenant);
        var routed = await StartRoutedAsync(user);
        var named = await user.StartSessionAsync(agent.UserId);
        Assert.NotEqual(routed.Text("id"), named);
        await Invariant.AssertAsync(agent, new() { [agent.UserId] = 4 }, expectedOpen: 4);
    }

    // --- never over capacity, never two owners ---

    [Fact]
    public async Task DozensOfConcurrentRoutedStartsNeverOverfillAnAgentAndQueueTheRest()
    {
        var tenant = await server.NewTenantAsync();
        var a = await OnlineAgentAsync(tenant, maxSessions: 3);
        var b = await OnlineAgentAsync(tenant, maxSessions: 2);
        var replies = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => server.TenantUser(tenant).PostAsync("/livechat/sessions", new { })));
        Assert.All(replies, r => r.AssertStatus(HttpStatusCode.Created));
        await Invariant.AssertAsync(a, new() { [a.UserId] = 3, [b.UserId] = 2 }, expectedOpen: 40);
        var assigned = replies.Count(r => AgentOf(r.Data) is not null);
        Assert.Equal(5, assigned);
        Assert.Equal(Enumerable.Range(1, 35), (await a.GetAsync("/livechat/queue")).Data.EnumerateArray().Select(s => PositionOf(s)!.Value));
    }

    [Fact]
    public async Task ConcurrentClosesTransfersAndStartsKeepEveryAgentWithinCapacityAndEveryChatWithOneOwner()
    {
        var tenant = await server.NewTenantAsync();
        var a = await OnlineAgentAsync(tenant, maxSessions: 2);
        var b = await OnlineAgentAsync(tenant, maxSessions: 2);
        var sessions = new List<string>();
        for (var i = 0; i < 12; i++) sessions.Add((await StartRoutedAsync(server.TenantUser(tenant))).Text("id"));

        var work = new List<Task<Reply>>();
        for (var i = 0; i < 4; i++) work.Add(a.PatchAsync($"/livechat/sessions/{sessions[i]}", new { status = "CLOSED" }));
        for (var i = 4; i < 8; i++) work.Add(b.PostAsync($"/livechat/sessions/{sessions[i]}/transfer", new { agent_id = i % 2 == 0 ? a.UserId : b.UserId }));
        for (var i = 8; i < 12; i++) work.Add(a.PostAsync($"/livechat/sessions/{sessions[i]}/transfer", new { agent_id = (long?)null }));
        for (var i = 0; i < 10; i++) work.Add(server.TenantUser(tenant).PostAsync("/livechat/sessions", new { }));
        var replies = await Task.WhenAll(work);
        Assert.All(replies, r => Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.Conflict, $"{(int)r.Status} {r.Text}"));
        await Invariant.AssertAsync(a, new() { [a.UserId] = 2, [b.UserId] = 2 }, expectedOpen: 18);
    }

    [Fact]
    public async Task APushedSessionUpdateCarriesTheQueuePositionToTheWaitingUser()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OnlineAgentAsync(tenant);
        var first = await StartRoutedAsync(server.TenantUser(tenant));
        var waitingUser = server.TenantUser(tenant);
        var waiting = await StartRoutedAsync(server.TenantUser(tenant));
        var mine = await StartRoutedAsync(waitingUser);
        await using var hub = await HubClient.ConnectAsync(server, waitingUser);
        await hub.Connection.InvokeAsync("JoinSession", mine.Text("id"));

        (await agent.PatchAsync($"/livechat/sessions/{first.Text("id")}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var update = await hub.NextAsync("sessionUpdated", s => s.Text("id") == mine.Text("id"));
        Assert.Equal(1, PositionOf(update));
        _ = waiting;
        (await agent.PatchAsync($"/livechat/sessions/{waiting.Text("id")}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var joined = await hub.NextAsync("sessionUpdated", s => s.Text("id") == mine.Text("id") && AgentOf(s) is not null);
        Assert.Equal(agent.UserId, AgentOf(joined));
        Assert.Null(PositionOf(joined));
    }
}

/// <summary>What must hold whatever the races: open ≤ max for every agent, and every OPEN session has one owner or one queue place.</summary>
internal static class Invariant
{
    public static async Task AssertAsync(Caller agent, Dictionary<long, int> capacities, int expectedOpen)
    {
        var open = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = (await agent.GetAsync($"/livechat/sessions?status=OPEN&limit=100{(cursor is null ? "" : $"&cursor={cursor}")}")).AssertStatus(HttpStatusCode.OK);
            open.AddRange(page.Data.EnumerateArray().Select(s => s.Clone()));
            cursor = page.Pagination.TryGetProperty("next_cursor", out var next) ? next.GetString() : null;
        } while (cursor is not null);
        Assert.Equal(expectedOpen, open.Count);
        foreach (var session in open)
        {
            // Exactly one of: an agent, or a place in the queue.
            Assert.True(session.TryGetProperty("agent_id", out _) ^ session.TryGetProperty("queue_position", out _), session.ToString());
        }
        var agents = (await agent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        foreach (var (agentId, max) in capacities)
        {
            var held = open.Count(s => s.TryGetProperty("agent_id", out var a) && a.GetInt64() == agentId);
            Assert.True(held <= max, $"agent {agentId} holds {held} > {max}");
            var shown = agents.Single(a => a.GetProperty("agent_id").GetInt64() == agentId).GetProperty("open_sessions").GetInt32();
            Assert.Equal(held, shown);
        }
        // Capacity left while chats wait would be a stranded chat.
        var queued = open.Count(s => s.TryGetProperty("queue_position", out _));
        if (queued > 0)
            Assert.All(capacities, c => Assert.Equal(c.Value, open.Count(s => s.TryGetProperty("agent_id", out var a) && a.GetInt64() == c.Key)));
        var positions = open.Where(s => s.TryGetProperty("queue_position", out _)).Select(s => s.GetProperty("queue_position").GetInt32()).Order();
        Assert.Equal(Enumerable.Range(1, queued), positions);
    }
}

public sealed class RoutingTestsOnSqlite(RoutingSqliteServer server) : RoutingTests(server), IClassFixture<RoutingSqliteServer>;

public sealed class RoutingTestsOnPostgres(RoutingPostgresServer server) : RoutingTests(server), IClassFixture<RoutingPostgresServer>;
