using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Livechat.Tests;

/// <summary>
/// Contract sections 6 and 12 (v1.2): once a hub's <c>start()</c> resolved, or a per-user stream's first byte
/// arrived, no later event for the caller is missed; the per-user stream resumes with <c>Last-Event-ID</c>, exactly.
/// The races are run many times: a miss that happens one time in forty shows.
/// </summary>
public abstract class NoEventMissedTests(RealtimeServer server)
{
    private const int Rounds = 200;

    [Theory]
    [InlineData(HttpTransportType.WebSockets, false, Rounds)]
    [InlineData(HttpTransportType.WebSockets, true, Rounds)]
    [InlineData(HttpTransportType.ServerSentEvents, false, 40)]
    [InlineData(HttpTransportType.LongPolling, false, 20)]
    public async Task ATenantUsersHubHearsTheReplyThatFollowsStartEveryTime(HttpTransportType transport, bool skipNegotiation, int rounds)
    {
        var (agent, user, session) = await server.ConversationAsync();
        for (var round = 0; round < rounds; round++)
        {
            await using var hub = await HubClient.ConnectAsync(server, user, transport, skipNegotiation);
            var sent = await agent.SendMessageAsync(session, $"round {round}");
            await hub.NextAsync("notificationCreated", n => n.Text("message_id") == sent.Text("id"));
        }
    }

    [Fact]
    public async Task AnAgentsHubHearsTheAssignmentThatFollowsStartEveryTime()
    {
        for (var round = 0; round < 40; round++)
        {
            var tenant = await server.NewTenantAsync();
            var agent = server.Agent(tenant);
            // The hub connection itself makes the agent ONLINE (once the hub has heard of it, just after start()
            // resolved): the routed start that follows goes to it.
            await using var hub = await HubClient.ConnectAsync(server, agent);
            await hub.NextAsync("presenceUpdated", p => p.GetProperty("agent_id").GetInt64() == agent.UserId && p.Text("presence") == "ONLINE");
            var started = await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { });
            started.AssertStatus(HttpStatusCode.Created);
            Assert.Equal(agent.UserId, started.Data.GetProperty("agent_id").GetInt64());
            await hub.NextAsync("sessionAssigned", s => s.Text("id") == started.Data.Text("id"));
        }
    }

    [Fact]
    public async Task AUserStreamHearsTheMessageThatFollowsItsFirstByteEveryTime()
    {
        var (agent, user, session) = await server.ConversationAsync();
        for (var round = 0; round < Rounds; round++)
        {
            await using var stream = await SseClient.OpenUserStreamAsync(server, user);
            Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
            var sent = await agent.SendMessageAsync(session, $"round {round}");
            Assert.Equal(sent.Text("id"), (await stream.NextNamedAsync("messageCreated")).Text("id"));
        }
    }

    [Fact]
    public async Task StreamsOpeningWhileOthersOfTheirTenantCloseHearEveryMessage()
    {
        // Eight users of one tenant open and close their streams over and over at once: a stream that opens
        // while the tenant's last other stream closes must not land in a registry entry that is being dropped.
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 8 })).AssertStatus(HttpStatusCode.OK);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async worker =>
        {
            var user = server.TenantUser(tenant);
            var session = await user.StartSessionAsync(agent.UserId);
            for (var round = 0; round < 40; round++)
            {
                await using var stream = await SseClient.OpenUserStreamAsync(server, user);
                var sent = await agent.SendMessageAsync(session, $"worker {worker} round {round}");
                Assert.Equal(sent.Text("id"), (await stream.NextNamedAsync("messageCreated")).Text("id"));
            }
        }));
    }

    [Fact]
    public async Task AResumedStreamGetsExactlyTheEventsItMissedInOrderThenLiveOnes()
    {
        var (agent, user, session) = await server.ConversationAsync();
        // A stream that never drops: what the resumed one must get, event for event.
        await using var witness = await SseClient.OpenUserStreamAsync(server, user);
        string lastSeen;
        await using (var first = await SseClient.OpenUserStreamAsync(server, user))
        {
            await agent.SendMessageAsync(session, "before the drop");
            await first.NextNamedAsync("messageCreated");
            var notification = await NextWithIdAsync(first, "notificationCreated");
            lastSeen = notification.Id!;
        }

        // While it is away: messages and a read mark in its session, typing (never replayed), and another
        // session of the tenant that it does not take part in; last, a read mark of its own (on another tab).
        var missed = new List<string>();
        for (var i = 0; i < 3; i++) missed.Add((await agent.SendMessageAsync(session, $"missed {i}")).Text("id"));
        (await agent.PostAsync($"/livechat/sessions/{session}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
        var colleague = server.Agent(agent.TenantId);
        await colleague.GoOnlineAsync();
        var other = await server.TenantUser(agent.TenantId).StartSessionAsync(colleague.UserId);
        await colleague.SendMessageAsync(other, "not for this user");
        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = missed[^1] })).AssertStatus(HttpStatusCode.OK);

        await SkipPastAsync(witness, lastSeen);
        var expected = new List<(string Name, string? Id, string Data)>();
        await CollectUntilReadAsync(witness, expected, missed[^1]);
        await using var resumed = await SseClient.OpenUserStreamAsync(server, user, lastSeen);
        var replayed = await ReadAsync(resumed, expected.Count);
        Assert.Equal(expected, replayed);
        Assert.DoesNotContain(replayed, e => e.Name is "typing" or "reset");
        Assert.Equal(missed, replayed.Where(e => e.Name == "messageCreated").Select(e => JsonDocument.Parse(e.Data).RootElement.Text("id")));

        // Then live, with nothing replayed twice in between.
        var live = await agent.SendMessageAsync(session, "after the resume");
        var after = await resumed.NextNamedAsync();
        Assert.Equal(("messageCreated", live.Text("id")), (after.Name, after.Data.Text("id")));
    }

    [Fact]
    public async Task ResumingFromTheLastEventMissesNothingAndRepeatsNothing()
    {
        var (agent, user, session) = await server.ConversationAsync();
        string last;
        await using (var first = await SseClient.OpenUserStreamAsync(server, user))
        {
            var newest = await agent.SendMessageAsync(session, "the newest");
            while (true)
            {
                var heard = await first.NextNamedAsync();
                if (heard.Name != "notificationCreated" || heard.Data.Text("message_id") != newest.Text("id")) continue;
                last = heard.Id!; // the newest message's last event
                break;
            }
        }
        // Nothing happened since: the stream goes straight on, live.
        await using var resumed = await SseClient.OpenPathAsync(server, user, $"/livechat/stream?last_event_id={last}");
        var live = await agent.SendMessageAsync(session, "live");
        var next = await resumed.NextNamedAsync();
        Assert.Equal(("messageCreated", live.Text("id")), (next.Name, next.Data.Text("id")));
    }

    [Theory]
    [InlineData("1-0")] // an id the log never held, or long forgotten
    [InlineData("99999999999999-0")]
    [InlineData("not-an-id")]
    [InlineData("0192d1c4-7b3e-7cde-8f00-000000000000")] // a message id is the per-session stream's, not this one's
    public async Task AnIdTheLogDoesNotHoldBeginsTheStreamWithReset(string lastEventId)
    {
        var (agent, user, session) = await server.ConversationAsync();
        await using var stream = await SseClient.OpenUserStreamAsync(server, user, lastEventId);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        var live = await agent.SendMessageAsync(session, "after the reset");
        var reset = await stream.NextNamedAsync();
        Assert.Equal(("reset", (string?)null, "{}"), (reset.Name, reset.Id, reset.Data.ToString()));
        Assert.Equal(live.Text("id"), (await stream.NextNamedAsync("messageCreated")).Text("id"));
    }

    [Fact]
    public async Task TypingInAClosedSessionIsConflictAndReachesNobody()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await using var stream = await SseClient.OpenUserStreamAsync(server, user);
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        await stream.NextNamedAsync("sessionUpdated");
        var second = await agent.StartSessionAsync();

        (await agent.PostAsync($"/livechat/sessions/{session}/typing", new { is_typing = true })).AssertError(HttpStatusCode.Conflict, "status");
        await using var agentHub = await HubClient.ConnectAsync(server, agent);
        var refused = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() =>
            Microsoft.AspNetCore.SignalR.Client.HubConnectionExtensions.InvokeAsync(agentHub.Connection, "Typing", session, true));
        Assert.Contains("closed", refused.Message, StringComparison.OrdinalIgnoreCase);

        // Positive control on the same stream: typing that is allowed arrives, and it is the first typing there.
        await user.PostAsync($"/livechat/sessions/{second}/messages", new { message = "so the user takes part" });
        (await agent.PostAsync($"/livechat/sessions/{second}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
        var typing = await stream.NextNamedAsync("typing");
        Assert.Equal(second, typing.Text("session_id"));
    }

    /// <summary>The next event called <paramref name="name"/>, with its id.</summary>
    internal static async Task<(string Name, string? Id, JsonElement Data)> NextWithIdAsync(SseClient stream, string name)
    {
        while (true)
        {
            var next = await stream.NextNamedAsync();
            if (next.Name == name) return next;
        }
    }

    /// <summary>Reads <paramref name="stream"/> up to and including the event <paramref name="id"/>.</summary>
    internal static async Task SkipPastAsync(SseClient stream, string id)
    {
        while ((await stream.NextNamedAsync()).Id != id) { }
    }

    /// <summary>Adds what <paramref name="stream"/> gets (typing aside: never replayed) up to the read mark at <paramref name="messageId"/>.</summary>
    internal static async Task CollectUntilReadAsync(SseClient stream, List<(string Name, string? Id, string Data)> into, string messageId)
    {
        while (true)
        {
            var next = await stream.NextNamedAsync();
            if (next.Name == "typing") continue;
            into.Add((next.Name, next.Id, next.Data.ToString()));
            if (next.Name == "messagesRead" && next.Data.Text("last_read_message_id") == messageId) return;
        }
    }

    internal static async Task<List<(string Name, string? Id, string Data)>> ReadAsync(SseClient stream, int count)
    {
        var events = new List<(string, string?, string)>();
        while (events.Count < count)
        {
            var next = await stream.NextNamedAsync();
            events.Add((next.Name, next.Id, next.Data.ToString()));
        }
        return events;
    }
}

public sealed class NoEventMissedTestsOnSqlite(RealtimeSqliteServer server) : NoEventMissedTests(server), IClassFixture<RealtimeSqliteServer>;

public sealed class NoEventMissedTestsOnPostgres(RealtimePostgresServer server) : NoEventMissedTests(server), IClassFixture<RealtimePostgresServer>;

/// <summary>One instance without Redis, on a clock the test moves: the log holds events for the replay window.</summary>
public sealed class ResumeWindowServer : RealtimeServer
{
    public ResumeWindowServer() : base(DatabaseProvider.Sqlite)
    {
        Settings["Livechat:Realtime:ReplayMinutes"] = "10";
        ConfigureServices = services => services.AddSingleton<TimeProvider>(Clock);
    }

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
}

public sealed class ResumeWindowTests(ResumeWindowServer server) : IClassFixture<ResumeWindowServer>
{
    [Fact]
    public async Task AStreamResumesWithinTheWindowAndIsResetAfterIt()
    {
        var (agent, user, session) = await server.ConversationAsync();
        string last;
        await using (var first = await SseClient.OpenUserStreamAsync(server, user))
        {
            await agent.SendMessageAsync(session, "seen");
            last = (await NoEventMissedTests.NextWithIdAsync(first, "notificationCreated")).Id!; // the message's last event
        }
        var missed = await agent.SendMessageAsync(session, "missed");

        server.Clock.Advance(TimeSpan.FromMinutes(9));
        await using (var within = await SseClient.OpenUserStreamAsync(server, user, last))
            Assert.Equal(("messageCreated", missed.Text("id")), await NameAndMessageAsync(within));

        server.Clock.Advance(TimeSpan.FromMinutes(2)); // 11 minutes after: past the window
        await using var after = await SseClient.OpenUserStreamAsync(server, user, last);
        var live = await agent.SendMessageAsync(session, "live");
        Assert.Equal("reset", (await after.NextNamedAsync()).Name);
        Assert.Equal(("messageCreated", live.Text("id")), await NameAndMessageAsync(after));
    }

    private static async Task<(string, string)> NameAndMessageAsync(SseClient stream)
    {
        var next = await stream.NextNamedAsync();
        return (next.Name, next.Data.TryGetProperty("id", out var id) ? id.GetString()! : next.Data.ToString());
    }
}

/// <summary>The same guarantees across two instances sharing PostgreSQL and Redis, with no sticky sessions.</summary>
public sealed class NoEventMissedOnTwoInstancesTests(TwoInstances instances) : IClassFixture<TwoInstances>
{
    private LivechatServer A => instances.A;
    private LivechatServer B => instances.B;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AHubOnOneInstanceHearsTheReplySentThroughTheOtherRightAfterStartEveryTime(bool skipNegotiation)
    {
        var (agent, user, session) = await A.ConversationAsync();
        var agentOnB = B.Agent(agent.TenantId, agent.UserId);
        for (var round = 0; round < 100; round++)
        {
            await using var hub = await HubClient.ConnectAsync(A, user, HttpTransportType.WebSockets, skipNegotiation);
            var sent = await agentOnB.SendMessageAsync(session, $"round {round}");
            await hub.NextAsync("notificationCreated", n => n.Text("message_id") == sent.Text("id"));
        }
    }

    [Fact]
    public async Task AUserStreamOnOneInstanceHearsTheMessageSentThroughTheOtherRightAfterItsFirstByteEveryTime()
    {
        var (agent, user, session) = await A.ConversationAsync();
        var agentOnB = B.Agent(agent.TenantId, agent.UserId);
        for (var round = 0; round < 100; round++)
        {
            await using var stream = await SseClient.OpenUserStreamAsync(A, user);
            var sent = await agentOnB.SendMessageAsync(session, $"round {round}");
            Assert.Equal(sent.Text("id"), (await stream.NextNamedAsync("messageCreated")).Text("id"));
        }
    }

    [Fact]
    public async Task AStreamResumesOnTheOtherInstanceWithExactlyWhatItMissed()
    {
        var (agent, user, session) = await A.ConversationAsync();
        var agentOnB = B.Agent(agent.TenantId, agent.UserId);
        await using var witness = await SseClient.OpenUserStreamAsync(B, user);
        string last;
        await using (var onA = await SseClient.OpenUserStreamAsync(A, user))
        {
            await agent.SendMessageAsync(session, "seen on A");
            last = (await NoEventMissedTests.NextWithIdAsync(onA, "notificationCreated")).Id!;
        }
        var missed = new List<string>();
        for (var i = 0; i < 4; i++) missed.Add((await (i % 2 == 0 ? agent : agentOnB).SendMessageAsync(session, $"missed {i}")).Text("id"));
        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = missed[^1] })).AssertStatus(HttpStatusCode.OK);
        await NoEventMissedTests.SkipPastAsync(witness, last);
        var expected = new List<(string Name, string? Id, string Data)>();
        await NoEventMissedTests.CollectUntilReadAsync(witness, expected, missed[^1]);

        foreach (var instance in new[] { B, A })
        {
            await using var resumed = await SseClient.OpenUserStreamAsync(instance, user, last);
            Assert.Equal(expected, await NoEventMissedTests.ReadAsync(resumed, expected.Count));
            var live = await agentOnB.SendMessageAsync(session, "live");
            var after = await resumed.NextNamedAsync();
            Assert.Equal(("messageCreated", live.Text("id")), (after.Name, after.Data.Text("id")));
            // What happened since is missed by the next resume from the same id.
            (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = live.Text("id") })).AssertStatus(HttpStatusCode.OK);
            await NoEventMissedTests.CollectUntilReadAsync(witness, expected, live.Text("id"));
        }
    }

    [Fact]
    public async Task AnUnknownIdIsResetOnEitherInstance()
    {
        var (agent, user, session) = await A.ConversationAsync();
        await using var stream = await SseClient.OpenUserStreamAsync(B, user, "1-0");
        var live = await agent.SendMessageAsync(session, "after the reset");
        Assert.Equal("reset", (await stream.NextNamedAsync()).Name);
        Assert.Equal(live.Text("id"), (await stream.NextNamedAsync("messageCreated")).Text("id"));
    }
}
