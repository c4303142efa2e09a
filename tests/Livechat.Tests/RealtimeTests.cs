using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using HubException = Microsoft.AspNetCore.SignalR.HubException;

namespace Livechat.Tests;

/// <summary>A server whose realtime timings are short enough to observe in a test.</summary>
public abstract class RealtimeServer : LivechatServer
{
    protected RealtimeServer(DatabaseProvider provider) : base(provider)
    {
        Settings["Livechat:Presence:GraceSeconds"] = "1";
        Settings["Livechat:Realtime:KeepAliveSeconds"] = "1";
        Settings["Livechat:Realtime:TenantCheckSeconds"] = "1";
    }
}

public sealed class RealtimeSqliteServer() : RealtimeServer(DatabaseProvider.Sqlite);

public sealed class RealtimePostgresServer() : RealtimeServer(DatabaseProvider.Postgres);

/// <summary>Contract section 6 over the hub, with the official .NET SignalR client on a real Kestrel.</summary>
public abstract class RealtimeTests(RealtimeServer server)
{
    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task AMessagePostedOverHttpArrivesAtAJoinedClientWithTheRestPayload(HttpTransportType transport)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        await using var client = await HubClient.ConnectAsync(server, agent, transport);
        await client.Connection.InvokeAsync("JoinSession", session);

        var sent = await agent.SendMessageAsync(session, "pushed in real time");
        var pushed = await client.NextAsync("messageCreated");
        Assert.Equal(sent.ToString(), pushed.ToString());
    }

    [Fact]
    public async Task AClientOfAnotherTenantCannotJoinAndReceivesNothing()
    {
        var owner = server.Agent(await server.NewTenantAsync());
        var session = await owner.StartSessionAsync();
        var stranger = server.Agent(await server.NewTenantAsync());
        var strangerSession = await stranger.StartSessionAsync();
        await using var ownerClient = await HubClient.ConnectAsync(server, owner);
        await using var strangerClient = await HubClient.ConnectAsync(server, stranger);
        await ownerClient.Connection.InvokeAsync("JoinSession", session);

        var refused = await Assert.ThrowsAsync<HubException>(() => strangerClient.Connection.InvokeAsync("JoinSession", session));
        Assert.Contains("not found", refused.Message, StringComparison.OrdinalIgnoreCase);
        await strangerClient.Connection.InvokeAsync("JoinSession", strangerSession);

        await owner.SendMessageAsync(session, "for tenant one only");
        await owner.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" });
        await ownerClient.NextAsync("messageCreated");
        // Pushes leave in one queue: once the stranger's own later message arrives, a leak would have arrived first.
        await stranger.SendMessageAsync(strangerSession, "sentinel");
        var own = await strangerClient.NextAsync("messageCreated");
        Assert.Equal("sentinel", own.GetProperty("message").GetString());
        Assert.Empty(strangerClient.Drain("messageCreated"));
        Assert.All(strangerClient.Drain("sessionUpdated"), s => Assert.Equal(stranger.TenantId, s.GetProperty("tenant_id").GetInt64()));
    }

    [Fact]
    public async Task AConnectionIsClosedWhenItsTokenExpires()
    {
        var tenant = await server.NewTenantAsync();
        var token = LivechatServer.Token(LivechatServer.NewUserId(), [tenant], ["SUPPORT_AGENT"], TimeSpan.FromSeconds(2));
        await using var client = await HubClient.ConnectAsync(server, token, tenant.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var closed = new TaskCompletionSource();
        client.Connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        Assert.Equal(HubConnectionState.Connected, client.Connection.State);
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(HubConnectionState.Disconnected, client.Connection.State);
    }

    [Fact]
    public async Task DeactivatingATenantClosesItsOpenConnectionsAndTheDoorStaysShut()
    {
        var tenant = await server.NewTenantAsync();
        var other = server.Agent(await server.NewTenantAsync());
        var agent = server.Agent(tenant);
        await using var client = await HubClient.ConnectAsync(server, agent);
        await using var bystander = await HubClient.ConnectAsync(server, other);
        var closed = new TaskCompletionSource();
        client.Connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };

        await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Livechat.Tenants.TenantStore>(server.Services).DeactivateAsync(tenant, CancellationToken.None);
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => HubClient.ConnectAsync(server, agent));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HubConnectionState.Connected, bystander.Connection.State);
    }

    [Fact]
    public async Task JoiningAMalformedOrUnknownSessionFailsClearly()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        await using var client = await HubClient.ConnectAsync(server, agent);
        var malformed = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("JoinSession", "nope"));
        Assert.Contains("UUID", malformed.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("JoinSession", Guid.CreateVersion7().ToString()));
    }

    [Fact]
    public async Task ConnectingNeedsTheSameTokenTenantAndGrantAsHttp()
    {
        var tenant = await server.NewTenantAsync();
        var other = await server.NewTenantAsync();
        var token = LivechatServer.Token(LivechatServer.NewUserId(), [tenant], ["SUPPORT_AGENT"]);
        var t = tenant.ToString(System.Globalization.CultureInfo.InvariantCulture);

        async Task<HttpStatusCode?> RefusalAsync(string withToken, string withTenant)
        {
            var e = await Assert.ThrowsAsync<HttpRequestException>(() => HubClient.ConnectAsync(server, withToken, withTenant));
            return e.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await RefusalAsync("not-a-token", t));
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusalAsync(LivechatServer.Token(1, [tenant], ["SUPPORT_AGENT"], TimeSpan.FromSeconds(-120)), t));
        Assert.Equal(HttpStatusCode.Forbidden, await RefusalAsync(token, other.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(HttpStatusCode.Forbidden, await RefusalAsync(token, "999999999"));
        Assert.Equal(HttpStatusCode.BadRequest, await RefusalAsync(token, "abc"));
        await using var admitted = await HubClient.ConnectAsync(server, token, t);
    }

    [Fact]
    public async Task ATenantUserReceivesNotificationCreatedWhenAnAgentReplies()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var user = server.TenantUser(tenant);
        var session = await user.StartSessionAsync(agent.UserId);
        await using var userClient = await HubClient.ConnectAsync(server, user);

        var reply = await agent.SendMessageAsync(session, "We are on it.");
        var notification = await userClient.NextAsync("notificationCreated");
        Assert.Equal("LIVECHAT_REPLY", notification.GetProperty("type").GetString());
        Assert.Equal(reply.GetProperty("id").GetString(), notification.GetProperty("message_id").GetString());
        Assert.Equal(session, notification.GetProperty("session_id").GetString());
        Assert.Equal(user.UserId, notification.GetProperty("user_id").GetInt64());

        var listed = (await user.GetAsync("/notifications?unread=true")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(notification.ToString(), listed.Data[0].ToString());
    }

    [Fact]
    public async Task AgentsReceiveSessionUpdatedForEveryTenantSessionWithoutJoining()
    {
        var tenant = await server.NewTenantAsync();
        var watcher = server.Agent(tenant);
        await using var client = await HubClient.ConnectAsync(server, watcher);
        var colleague = server.Agent(tenant);
        var session = await colleague.StartSessionAsync();

        var opened = await client.NextAsync("sessionUpdated");
        Assert.Equal(session, opened.GetProperty("id").GetString());
        Assert.Equal("OPEN", opened.GetProperty("status").GetString());
        await colleague.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" });
        var closed = await client.NextAsync("sessionUpdated");
        Assert.Equal("CLOSED", closed.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AClientThatMissed50MessagesCatchesUpFromTheListEndpointWithNoGapOrDuplicate()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var seen = new List<string>();
        var client = await HubClient.ConnectAsync(server, agent);
        await client.Connection.InvokeAsync("JoinSession", session);
        for (var i = 0; i < 5; i++) await agent.SendMessageAsync(session, $"before {i}");
        for (var i = 0; i < 5; i++) seen.Add((await client.NextAsync("messageCreated")).GetProperty("id").GetString()!);
        await client.DisposeAsync();

        var all = new List<string>(seen);
        var senders = Enumerable.Range(0, 5).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++) await agent.SendMessageAsync(session, $"while away {w}/{i}");
        }));
        await Task.WhenAll(senders);

        // The recipe of docs/realtime.md: reconnect, join, fetch after the last id seen, merge by id.
        await using var again = await HubClient.ConnectAsync(server, agent);
        await again.Connection.InvokeAsync("JoinSession", session);
        var cursor = seen[^1];
        while (true)
        {
            var page = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=20&cursor={cursor}")).AssertStatus(HttpStatusCode.OK);
            foreach (var message in page.Data.EnumerateArray())
            {
                var id = message.GetProperty("id").GetString()!;
                if (!seen.Contains(id)) seen.Add(id);
                cursor = id;
            }
            if (!page.Pagination.GetProperty("has_next").GetBoolean()) break;
        }
        var live = await agent.SendMessageAsync(session, "after the catch-up");
        var pushed = await again.NextAsync("messageCreated");
        Assert.Equal(live.GetProperty("id").GetString(), pushed.GetProperty("id").GetString());
        seen.Add(pushed.GetProperty("id").GetString()!);

        var truth = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK);
        var expected = truth.Data.EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToList();
        Assert.Equal(56, expected.Count);
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task PushesForOneSessionArriveInTheSessionsOrder()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        await using var client = await HubClient.ConnectAsync(server, agent);
        await client.Connection.InvokeAsync("JoinSession", session);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++) await agent.SendMessageAsync(session, $"{w}/{i}");
        })));
        var pushed = new List<string>();
        for (var i = 0; i < 40; i++) pushed.Add((await client.NextAsync("messageCreated")).GetProperty("id").GetString()!);
        var stored = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(stored.Data.EnumerateArray().Select(m => m.GetProperty("id").GetString()!), pushed);
    }

    [Fact]
    public async Task PresenceIsOnlineWhileConnectedAndOfflineAfterTheGracePeriod()
    {
        var tenant = await server.NewTenantAsync();
        var watcher = server.Agent(tenant);
        await using var watching = await HubClient.ConnectAsync(server, watcher);
        var agent = server.Agent(tenant);
        (await agent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK); // known, OFFLINE

        var connection = await HubClient.ConnectAsync(server, agent);
        var online = await watching.NextAsync("presenceUpdated", p => p.GetProperty("agent_id").GetInt64() == agent.UserId);
        Assert.Equal(agent.UserId, online.GetProperty("agent_id").GetInt64());
        Assert.Equal("ONLINE", online.GetProperty("presence").GetString());
        Assert.Equal("ONLINE", await PresenceOfAsync(watcher, agent.UserId));

        // A tenant user can start a chat with it now, and still within the grace period after it drops.
        var user = server.TenantUser(tenant);
        await user.StartSessionAsync(agent.UserId);
        await connection.DisposeAsync();
        Assert.Equal("ONLINE", await PresenceOfAsync(watcher, agent.UserId));

        var offline = await watching.NextAsync("presenceUpdated", p => p.GetProperty("agent_id").GetInt64() == agent.UserId);
        Assert.Equal(agent.UserId, offline.GetProperty("agent_id").GetInt64());
        Assert.Equal("OFFLINE", offline.GetProperty("presence").GetString());
        Assert.Equal("OFFLINE", await PresenceOfAsync(watcher, agent.UserId));
    }

    [Fact]
    public async Task AReconnectWithinTheGracePeriodKeepsTheAgentOnline()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var watcher = server.Agent(tenant);
        await using var watching = await HubClient.ConnectAsync(server, watcher);
        var first = await HubClient.ConnectAsync(server, agent);
        await watching.NextAsync("presenceUpdated", p => p.GetProperty("agent_id").GetInt64() == agent.UserId);
        await first.DisposeAsync();
        await using var second = await HubClient.ConnectAsync(server, agent);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the 1 s grace of the first connection
        Assert.Equal("ONLINE", await PresenceOfAsync(agent, agent.UserId));
        // Without the grace period the drop would have been announced (OFFLINE, then ONLINE again): the
        // watcher saw the agent stay ONLINE throughout. The control: a colleague coming online is announced after
        // anything the drop announced, on the same connection.
        var colleague = server.Agent(tenant);
        await colleague.GoOnlineAsync();
        Assert.DoesNotContain(await watching.BeforeAsync("presenceUpdated", "presenceUpdated", p => p.GetProperty("agent_id").GetInt64() == colleague.UserId),
            p => p.GetProperty("agent_id").GetInt64() == agent.UserId && p.GetProperty("presence").GetString() == "OFFLINE");
    }

    private static async Task<string?> PresenceOfAsync(Caller viewer, long agentId)
    {
        var agents = (await viewer.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        return agents.Data.EnumerateArray().Single(a => a.GetProperty("agent_id").GetInt64() == agentId).GetProperty("presence").GetString();
    }
}

public sealed class RealtimeTestsOnSqlite(RealtimeSqliteServer server) : RealtimeTests(server), IClassFixture<RealtimeSqliteServer>;

public sealed class RealtimeTestsOnPostgres(RealtimePostgresServer server) : RealtimeTests(server), IClassFixture<RealtimePostgresServer>;
