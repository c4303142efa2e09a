using System.Net;
using System.Text.Json;
using Livechat.Realtime;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using HubException = Microsoft.AspNetCore.SignalR.HubException;

namespace Livechat.Tests;

/// <summary>A realtime server whose typing indicators run on a fake clock the tests move.</summary>
public abstract class TypingServer : RealtimeServer
{
    protected TypingServer(DatabaseProvider provider) : base(provider) =>
        ConfigureServices = services => services.AddKeyedSingleton<TimeProvider>(TypingIndicators.ClockKey, Clock);

    public FakeTimeProvider Clock { get; } = new();
}

public sealed class TypingSqliteServer() : TypingServer(DatabaseProvider.Sqlite);

public sealed class TypingPostgresServer() : TypingServer(DatabaseProvider.Postgres);

/// <summary>Contract section 11: typing, over HTTP and the hub, to the others only, throttled, ended by the server.</summary>
public abstract class TypingTests(TypingServer server)
{
    private static bool IsFrom(JsonElement typing, Caller caller) => typing.GetProperty("user_id").GetInt64() == caller.UserId;

    /// <summary>
    /// The control of a check that nothing (more) arrived: a colleague's <c>false</c>, forwarded at once, indicator or not,
    /// reaches every connection of the session after whatever the steps before sent it.
    /// </summary>
    private Task<Caller> ControlAsync(long tenant, string session) => ControlAsync(server.Agent(tenant), session);

    private static async Task<Caller> ControlAsync(Caller colleague, string session)
    {
        (await TypeAsync(colleague, session, false)).AssertStatus(HttpStatusCode.Accepted);
        return colleague;
    }

    private static void AssertTyping(JsonElement typing, string session, long userId, bool isTyping)
    {
        Assert.Equal(session, typing.Text("session_id"));
        Assert.Equal(userId, typing.GetProperty("user_id").GetInt64());
        Assert.Equal(isTyping, typing.GetProperty("is_typing").GetBoolean());
    }

    private static async Task<HubClient> JoinedAsync(LivechatServer server, Caller caller, string session)
    {
        var hub = await HubClient.ConnectAsync(server, caller);
        await hub.Connection.InvokeAsync("JoinSession", session);
        return hub;
    }

    private static Task<Reply> TypeAsync(Caller caller, string session, bool isTyping = true) =>
        caller.PostAsync($"/livechat/sessions/{session}/typing", new { is_typing = isTyping });

    [Fact]
    public async Task TypingOverHttpIs202AndReachesTheOthersButNeverTheTypistsOwnConnections()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await using var agentHub = await JoinedAsync(server, agent, session);
        await using var agentSessionStream = await SseClient.OpenAsync(server, agent, session);
        await using var agentStream = await SseClient.OpenUserStreamAsync(server, agent);
        await using var userHub = await JoinedAsync(server, user, session);
        await using var userOtherTab = await JoinedAsync(server, user, session);
        await using var userSessionStream = await SseClient.OpenAsync(server, user, session);
        await using var userStream = await SseClient.OpenUserStreamAsync(server, user);
        // All live: a hub client once it joined, a stream once its headers came (its first byte is written once it is subscribed).

        var accepted = (await TypeAsync(user, session)).AssertStatus(HttpStatusCode.Accepted).Data;
        AssertTyping(accepted, session, user.UserId, true);
        AssertTyping(await agentHub.NextAsync("typing"), session, user.UserId, true);
        var (name, id, data) = await agentSessionStream.NextNamedAsync();
        Assert.Equal(("typing", (string?)null), (name, id));
        AssertTyping(data, session, user.UserId, true);
        AssertTyping(await agentStream.NextNamedAsync("typing"), session, user.UserId, true);

        // The control: the agent types too, and the user's connections hear that before anything of their own.
        (await TypeAsync(agent, session)).AssertStatus(HttpStatusCode.Accepted);
        Assert.Empty(await userHub.BeforeAsync("typing", "typing", t => IsFrom(t, agent)));
        Assert.Empty(await userOtherTab.BeforeAsync("typing", "typing", t => IsFrom(t, agent)));
        var sessionEvents = await userSessionStream.NamedUntilAsync(e => e.Name == "typing" && IsFrom(e.Data, agent));
        Assert.Empty(sessionEvents.SkipLast(1).Select(e => $"{e.Name} {e.Data}"));
        var userEvents = await userStream.NamedUntilAsync(e => e.Name == "typing" && IsFrom(e.Data, agent));
        Assert.Single(userEvents, e => e.Name == "typing");
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"is_typing\":null}")]
    [InlineData("{\"is_typing\":\"yes\"}")]
    [InlineData("{\"is_typing\":1}")]
    public async Task AMissingOrNonBooleanIsTypingIs400(string body)
    {
        var (_, user, session) = await server.ConversationAsync();
        (await user.PostAsync($"/livechat/sessions/{session}/typing", body)).AssertError(HttpStatusCode.BadRequest, "is_typing");
    }

    [Fact]
    public async Task ABodyThatIsNotAJsonObjectIs400()
    {
        var (_, user, session) = await server.ConversationAsync();
        (await user.PostAsync($"/livechat/sessions/{session}/typing", "true")).AssertError(HttpStatusCode.BadRequest, "body");
        (await user.PostAsync($"/livechat/sessions/{session}/typing", "{oops")).AssertError(HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task AnotherTenantsSessionIs404AndAMalformedIdIs400()
    {
        var (_, _, session) = await server.ConversationAsync();
        var stranger = server.Agent(await server.NewTenantAsync());
        (await TypeAsync(stranger, session)).AssertError(HttpStatusCode.NotFound, "request");
        (await TypeAsync(stranger, "not-a-uuid")).AssertError(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task AtMostOneTruePerUserAndSessionIsForwardedEveryTwoSeconds()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await using var agentHub = await JoinedAsync(server, agent, session);

        (await TypeAsync(user, session)).AssertStatus(HttpStatusCode.Accepted);
        (await TypeAsync(user, session)).AssertStatus(HttpStatusCode.Accepted); // dropped quietly, still 202
        server.Clock.Advance(TimeSpan.FromSeconds(1.9));
        (await TypeAsync(user, session)).AssertStatus(HttpStatusCode.Accepted);
        AssertTyping(await agentHub.NextAsync("typing"), session, user.UserId, true);
        var control = await ControlAsync(agent.TenantId, session);
        Assert.Empty(await agentHub.BeforeAsync("typing", "typing", t => IsFrom(t, control)));

        server.Clock.Advance(TimeSpan.FromSeconds(0.2));
        (await TypeAsync(user, session)).AssertStatus(HttpStatusCode.Accepted);
        AssertTyping(await agentHub.NextAsync("typing"), session, user.UserId, true);

        // Another user's indicator has its own throttle.
        var colleague = server.Agent(agent.TenantId);
        (await TypeAsync(colleague, session)).AssertStatus(HttpStatusCode.Accepted);
        AssertTyping(await agentHub.NextAsync("typing"), session, colleague.UserId, true);
    }

    [Fact]
    public async Task TheServerSendsFalseSixSecondsAfterTheLastRefresh()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await using var agentHub = await JoinedAsync(server, agent, session);
        (await TypeAsync(user, session)).AssertStatus(HttpStatusCode.Accepted);
        AssertTyping(await agentHub.NextAsync("typing"), session, user.UserId, true);

        server.Clock.Advance(TimeSpan.FromSeconds(1));
        (await TypeAsync(user, session)).AssertStatus(HttpStatusCode.Accepted); // a refresh, dropped by the throttle
        server.Clock.Advance(TimeSpan.FromSeconds(5.5)); // a timer that fires runs within Advance, before the control
        var control = await ControlAsync(agent.TenantId, session);
        Assert.Empty(await agentHub.BeforeAsync("typing", "typing", t => IsFrom(t, control))); // 6.5 s after the first, 5.5 s after the refresh

        server.Clock.Advance(TimeSpan.FromSeconds(0.6));
        AssertTyping(await agentHub.NextAsync("typing"), session, user.UserId, false);
        await ControlAsync(control, session);
        Assert.Empty(await agentHub.BeforeAsync("typing", "typing", t => IsFrom(t, control)));
    }

    [Fact]
    public async Task AMessageFromTheTypistEndsItsTyping()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await using var agentHub = await JoinedAsync(server, agent, session);
        (await TypeAsync(user, session)).AssertStatus(HttpStatusCode.Accepted);
        AssertTyping(await agentHub.NextAsync("typing"), session, user.UserId, true);

        await user.SendMessageAsync(session, "done typing");
        await agentHub.NextAsync("messageCreated");
        AssertTyping(await agentHub.NextAsync("typing"), session, user.UserId, false);

        // Ended: the expiry sends nothing more.
        server.Clock.Advance(TimeSpan.FromSeconds(7));
        var control = await ControlAsync(agent.TenantId, session);
        Assert.Empty(await agentHub.BeforeAsync("typing", "typing", t => IsFrom(t, control)));
    }

    [Fact]
    public async Task FalseIsForwardedAtOnce()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await using var agentHub = await JoinedAsync(server, agent, session);
        (await TypeAsync(user, session)).AssertStatus(HttpStatusCode.Accepted);
        AssertTyping(await agentHub.NextAsync("typing"), session, user.UserId, true);
        (await TypeAsync(user, session, false)).AssertStatus(HttpStatusCode.Accepted);
        AssertTyping(await agentHub.NextAsync("typing"), session, user.UserId, false);
    }

    [Fact]
    public async Task TheHubMethodTypingReachesTheOthersButNotTheTypistsOtherConnections()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await using var userHub = await JoinedAsync(server, user, session);
        await using var userOtherTab = await JoinedAsync(server, user, session);
        await using var agentHub = await JoinedAsync(server, agent, session);

        await agentHub.Connection.InvokeAsync("Typing", session, true);
        AssertTyping(await userHub.NextAsync("typing"), session, agent.UserId, true);
        AssertTyping(await userOtherTab.NextAsync("typing"), session, agent.UserId, true);
        await userHub.Connection.InvokeAsync("Typing", session, true); // no join needed either way
        AssertTyping(await agentHub.NextAsync("typing"), session, user.UserId, true);
        var control = await ControlAsync(agent.TenantId, session);
        Assert.Empty(await userOtherTab.BeforeAsync("typing", "typing", t => IsFrom(t, control)));
        Assert.Empty(await agentHub.BeforeAsync("typing", "typing", t => IsFrom(t, control)));
    }

    [Fact]
    public async Task TheHubMethodRefusesAnotherTenantsSessionAndAMalformedId()
    {
        var (_, _, session) = await server.ConversationAsync();
        var stranger = server.Agent(await server.NewTenantAsync());
        await using var hub = await HubClient.ConnectAsync(server, stranger);
        await Assert.ThrowsAsync<HubException>(() => hub.Connection.InvokeAsync("Typing", session, true));
        await Assert.ThrowsAsync<HubException>(() => hub.Connection.InvokeAsync("Typing", "nope", true));
    }

    [Fact]
    public async Task TypingNeverReachesAnotherTenant()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var strangerTenant = await server.NewTenantAsync();
        var stranger = server.Agent(strangerTenant, agent.UserId); // the same user id, in another tenant
        var theirs = await stranger.StartSessionAsync(); // the stranger's own session, for the control
        await using var strangerStream = await SseClient.OpenUserStreamAsync(server, stranger);
        await using var strangerHub = await JoinedAsync(server, stranger, theirs);
        await using var agentHub = await JoinedAsync(server, agent, session);

        (await TypeAsync(user, session)).AssertStatus(HttpStatusCode.Accepted);
        await agentHub.NextAsync("typing");

        // The control: typing in the stranger's own session reaches its hub and stream after anything the other tenant's did.
        var control = await ControlAsync(server.Agent(strangerTenant), theirs);
        Assert.Empty(await strangerHub.BeforeAsync("typing", "typing", t => IsFrom(t, control)));
        var events = await strangerStream.NamedUntilAsync(e => e.Name == "typing" && IsFrom(e.Data, control));
        Assert.Single(events, e => e.Name == "typing");
    }
}

public sealed class TypingTestsOnSqlite(TypingSqliteServer server) : TypingTests(server), IClassFixture<TypingSqliteServer>;

public sealed class TypingTestsOnPostgres(TypingPostgresServer server) : TypingTests(server), IClassFixture<TypingPostgresServer>;

/// <summary>The hub's per-user rate limit covers Typing like every hub call.</summary>
public sealed class TypingLimitTests(LimitedServer server) : IClassFixture<LimitedServer>
{
    [Fact]
    public async Task AnAbusiveTypistMeetsTheHubsRateLimit()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        await using var client = await HubClient.ConnectAsync(server, agent);
        HubException? refused = null;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            try { await client.Connection.InvokeAsync("Typing", session, true); }
            catch (HubException e) { refused = e; }
        }
        Assert.NotNull(refused);
        Assert.Contains("Too many requests", refused.Message, StringComparison.Ordinal);
    }
}

/// <summary>
/// A clock whose timers fire a millisecond before its own time says they are due: what a real machine does now and
/// then (timers and the wall clock are different clocks, and the wall clock is slewed).
/// </summary>
public sealed class EarlyTimersClock : TimeProvider
{
    public FakeTimeProvider Fake { get; } = new(DateTimeOffset.UtcNow);

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        Fake.CreateTimer(callback, state, dueTime > TimeSpan.FromMilliseconds(1) ? dueTime - TimeSpan.FromMilliseconds(1) : dueTime, period);
}

public sealed class EarlyTimersServer : RealtimeServer
{
    public EarlyTimersServer() : base(DatabaseProvider.Sqlite) =>
        ConfigureServices = services => services.AddKeyedSingleton<TimeProvider>(TypingIndicators.ClockKey, Clock);

    public EarlyTimersClock Clock { get; } = new();
}

public sealed class TypingExpiryTests(EarlyTimersServer server) : IClassFixture<EarlyTimersServer>
{
    [Fact]
    public async Task TheServerEndsTypingEvenWhenItsTimerFiresBeforeTheDeadline()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await using var agentHub = await HubClient.ConnectAsync(server, agent);
        await agentHub.Connection.InvokeAsync("JoinSession", session);
        (await user.PostAsync($"/livechat/sessions/{session}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
        Assert.True((await agentHub.NextAsync("typing")).GetProperty("is_typing").GetBoolean());

        server.Clock.Fake.Advance(TimeSpan.FromSeconds(6) - TimeSpan.FromMilliseconds(1)); // the timer fires; the clock says 1 ms early
        server.Clock.Fake.Advance(TimeSpan.FromMilliseconds(1));
        var ended = await agentHub.NextAsync("typing");
        Assert.False(ended.GetProperty("is_typing").GetBoolean());
        Assert.Equal(user.UserId, ended.GetProperty("user_id").GetInt64());
    }
}
