using System.Net;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Livechat.Tests;

/// <summary>
/// Two service instances sharing one database and one Redis: what a deployment behind a load balancer is.
/// </summary>
public sealed class TwoInstances : IAsyncLifetime
{
    public LivechatServer A { get; } = new(DatabaseProvider.Postgres);
    public LivechatServer B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        A.Settings["Livechat:Redis:Configuration"] = RedisServer.Configuration;
        A.Settings["Livechat:Redis:ChannelPrefix"] = $"livechat-test-{Guid.NewGuid():N}";
        A.Settings["Livechat:Presence:GraceSeconds"] = "1";
        await A.InitializeAsync();
        B = LivechatServer.SecondInstanceOf(A);
        await B.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}

public sealed class MultiInstanceTests(TwoInstances instances) : IClassFixture<TwoInstances>
{
    private LivechatServer A => instances.A;
    private LivechatServer B => instances.B;

    [Fact]
    public async Task RoutedStartsAndClosesRacingOnTwoInstancesNeverOverfillAnAgentNorGiveAChatTwoOwners()
    {
        var tenant = await A.NewTenantAsync();
        var a = A.Agent(tenant);
        var b = B.Agent(tenant);
        foreach (var (agent, max) in new[] { (a, 3), (b, 2) })
        {
            await agent.GoOnlineAsync();
            (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = max })).AssertStatus(HttpStatusCode.OK);
        }
        var starts = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? A : B).TenantUser(tenant).PostAsync("/livechat/sessions", new { })));
        Assert.All(starts, r => r.AssertStatus(HttpStatusCode.Created));
        await Invariant.AssertAsync(a, new() { [a.UserId] = 3, [b.UserId] = 2 }, expectedOpen: 40);

        // Every assigned chat closes at once, half through each instance: each freed slot takes one queued chat.
        var assigned = starts.Where(r => r.Data.TryGetProperty("agent_id", out _)).Select(r => r.Data.Text("id")).ToList();
        var closes = await Task.WhenAll(assigned.Select((id, i) => (i % 2 == 0 ? a : B.Agent(tenant, a.UserId)).PatchAsync($"/livechat/sessions/{id}", new { status = "CLOSED" })));
        Assert.All(closes, r => r.AssertStatus(HttpStatusCode.OK));
        await Invariant.AssertAsync(a, new() { [a.UserId] = 3, [b.UserId] = 2 }, expectedOpen: 35);
    }

    [Fact]
    public async Task AMessagePostedToAReachesAHubClientOnB()
    {
        var tenant = await A.NewTenantAsync();
        var agentOnA = A.Agent(tenant);
        var session = await agentOnA.StartSessionAsync();
        var agentOnB = B.Agent(tenant, agentOnA.UserId);
        await using var client = await HubClient.ConnectAsync(B, agentOnB);
        await client.Connection.InvokeAsync("JoinSession", session);

        var sent = await agentOnA.SendMessageAsync(session, "from A to B");
        var pushed = await client.NextAsync("messageCreated");
        Assert.Equal(sent.ToString(), pushed.ToString());
    }

    [Fact]
    public async Task AMessageSentOnAIsFoundOnBRightAfterIts201()
    {
        var tenant = await A.NewTenantAsync();
        var agentOnA = A.Agent(tenant);
        var agentOnB = B.Agent(tenant, agentOnA.UserId);
        var session = await agentOnA.StartSessionAsync();
        for (var i = 0; i < 5; i++)
        {
            var word = $"zebra{i}x{Guid.NewGuid():N}";
            var sent = await agentOnA.SendMessageAsync(session, $"the {word} crossed");
            // No wait, no retry: the 201 means the entry was committed with the message.
            var hits = (await agentOnB.GetAsync($"/livechat/search?q={word}")).AssertStatus(HttpStatusCode.OK).Data;
            Assert.Equal(sent.GetProperty("id").GetString(), hits.EnumerateArray().Single().GetProperty("message").GetProperty("id").GetString());
        }
    }

    [Fact]
    public async Task AMessagePostedToAReachesAnSseStreamOnB()
    {
        var tenant = await A.NewTenantAsync();
        var agentOnA = A.Agent(tenant);
        var session = await agentOnA.StartSessionAsync();
        await using var stream = await SseClient.OpenAsync(B, B.Agent(tenant, agentOnA.UserId), session);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);

        var sent = await agentOnA.SendMessageAsync(session, "streamed across instances");
        var (id, data) = await stream.NextAsync();
        Assert.Equal(sent.GetProperty("id").GetString(), id);
        Assert.Equal(sent.ToString(), data.ToString());
    }

    [Fact]
    public async Task ReadinessReportsTheDatabaseAndRedis()
    {
        var ready = (await B.SendAsync(HttpMethod.Get, "/health/ready")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Healthy", ready.Data.GetProperty("checks").GetProperty("database").GetString());
        Assert.Equal("Healthy", ready.Data.GetProperty("checks").GetProperty("redis").GetString());
    }

    [Fact]
    public async Task ConcurrentStartsForOneAgentOnBothInstancesOpenExactlyOneSession()
    {
        var tenant = await A.NewTenantAsync();
        var onA = A.Agent(tenant);
        var onB = B.Agent(tenant, onA.UserId);
        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? onA : onB).PostAsync("/livechat/sessions", new { })));
        var winner = Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        var id = winner.Data.GetProperty("id").GetString();
        Assert.All(replies.Where(r => r != winner), r =>
        {
            r.AssertError(HttpStatusCode.BadRequest, "agent_id");
            Assert.Equal(id, r.Meta.GetProperty("session_id").GetString());
        });
    }

    [Fact]
    public async Task AnAgentConnectedOnlyToBIsOnlineForAStartIssuedOnA()
    {
        var tenant = await A.NewTenantAsync();
        var agentOnB = B.Agent(tenant);
        await using var connection = await HubClient.ConnectAsync(B, agentOnB);
        // The handshake completes before the hub's OnConnected has recorded the connection: wait for it on A.
        await WaitForPresenceAsync(A.Agent(tenant), agentOnB.UserId, "ONLINE");
        var user = A.TenantUser(tenant);
        var started = (await user.PostAsync("/livechat/sessions", new { agent_id = agentOnB.UserId })).AssertStatus(HttpStatusCode.Created);
        Assert.Equal(agentOnB.UserId, started.Data.GetProperty("agent_id").GetInt64());
    }

    [Fact]
    public async Task ClosingTheConnectionOnOneInstanceKeepsAnAgentConnectedOnTheOtherOnline()
    {
        var tenant = await A.NewTenantAsync();
        var agentOnA = A.Agent(tenant);
        var agentOnB = B.Agent(tenant, agentOnA.UserId);
        await using var onA = await HubClient.ConnectAsync(A, agentOnA);
        await WaitForPresenceAsync(agentOnA, agentOnA.UserId, "ONLINE");
        var onB = await HubClient.ConnectAsync(B, agentOnB);
        await ConnectionRowsAsync(agentOnA, 2); // B recorded its connection (the handshake completes before it does)
        await onB.DisposeAsync();
        await ConnectionRowsAsync(agentOnA, 1); // B handled the close
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the behaviour under test: still ONLINE once the 1 s grace of that close has passed
        var listed = (await agentOnA.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("ONLINE", listed.Data.EnumerateArray().Single(a => a.GetProperty("agent_id").GetInt64() == agentOnA.UserId).GetProperty("presence").GetString());
        var user = B.TenantUser(tenant);
        (await user.PostAsync("/livechat/sessions", new { agent_id = agentOnA.UserId })).AssertStatus(HttpStatusCode.Created);
    }

    /// <summary>Waits until the agent has connection rows on exactly <paramref name="count"/> instances: what each instance records on open and close.</summary>
    private async Task ConnectionRowsAsync(Caller agent, int count) =>
        await Eventually.Async(async () => Assert.Equal(count, await A.ExecuteSqlAsync(
            "UPDATE agent_connections SET connections = connections WHERE tenant_id = @tenant AND user_id = @user",
            ("tenant", agent.TenantId), ("user", agent.UserId))));

    private static async Task WaitForPresenceAsync(Caller viewer, long agentId, string presence)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var listed = (await viewer.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
            if (listed.Data.EnumerateArray().Any(a => a.GetProperty("agent_id").GetInt64() == agentId && a.GetProperty("presence").GetString() == presence)) return;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"Agent {agentId} never became {presence}.");
    }
}
