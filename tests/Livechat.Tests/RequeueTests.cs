using System.Net;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Livechat.Tests;

/// <summary>
/// A server on a clock the tests move, so that several agents go offline at one instant and the requeue job
/// gives all their chats back in one pass.
/// </summary>
public abstract class RequeueServer : LivechatServer
{
    protected RequeueServer(DatabaseProvider provider) : base(provider)
    {
        RoutingTests.Configure(Settings);
        ConfigureServices = services => services.AddSingleton<TimeProvider>(Clock);
    }

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
}

public sealed class RequeueSqliteServer() : RequeueServer(DatabaseProvider.Sqlite);

public sealed class RequeuePostgresServer() : RequeueServer(DatabaseProvider.Postgres);

/// <summary>Contract section 10, no stranded chats: a requeue tells each waiting user once where they stand.</summary>
public abstract class RequeueTests(RequeueServer server)
{
    [Fact]
    public async Task AgentsLeavingTogetherGiveTheirChatsBackWithOneUpdateEach()
    {
        var tenant = await server.NewTenantAsync();
        var hubs = new List<(HubClient Hub, string Session)>();
        var users = new List<Caller>();
        try
        {
            var agents = new List<Caller>();
            for (var i = 0; i < 3; i++)
            {
                var agent = server.Agent(tenant);
                await agent.GoOnlineAsync();
                (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 1 })).AssertStatus(HttpStatusCode.OK);
                agents.Add(agent);
            }
            for (var i = 0; i < 3; i++)
            {
                var user = server.TenantUser(tenant);
                var session = (await user.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;
                Assert.True(session.TryGetProperty("agent_id", out _), "each chat starts with an agent of its own");
                var hub = await HubClient.ConnectAsync(server, user);
                hubs.Add((hub, session.Text("id")));
                users.Add(user);
                await hub.Connection.InvokeAsync("JoinSession", session.Text("id"));
            }

            // All three leave at the same instant; past the requeue delay, one pass of the job finds them all.
            foreach (var agent in agents)
                (await agent.PutAsync("/livechat/agents/me/presence", new { status = "OFFLINE" })).AssertStatus(HttpStatusCode.OK);
            foreach (var (hub, _) in hubs) hub.Drain("sessionUpdated");
            server.Clock.Advance(TimeSpan.FromSeconds(2));

            var positions = new List<int>();
            foreach (var (hub, session) in hubs)
            {
                var queued = await hub.NextAsync("sessionUpdated", s => s.Text("id") == session);
                Assert.False(queued.TryGetProperty("agent_id", out _));
                positions.Add(queued.GetProperty("queue_position").GetInt32());
            }
            Assert.Equal([1, 2, 3], positions.Order());
            // Each user heard it once: the job raised "the queue moved" once per departed agent, and each of
            // those pushed every waiting chat's position again. The control: each user's own message comes after those pushes.
            for (var i = 0; i < hubs.Count; i++)
            {
                var (hub, session) = hubs[i];
                var control = await users[i].SendMessageAsync(session, "still there?");
                Assert.DoesNotContain(await hub.BeforeAsync("sessionUpdated", "messageCreated", m => m.Text("id") == control.Text("id")),
                    s => s.Text("id") == session);
            }
        }
        finally
        {
            foreach (var (hub, _) in hubs) await hub.DisposeAsync();
        }
    }

    /// <summary>
    /// AWAY is not OFFLINE: past the requeue delay the away agent keeps its chat. The control: an agent that went
    /// OFFLINE at the same instant loses its chat in that same pass of the job (one transaction looks at both).
    /// </summary>
    [Fact]
    public async Task AnAwayAgentKeepsItsChats()
    {
        var tenant = await server.NewTenantAsync();
        var away = server.Agent(tenant);
        await away.GoOnlineAsync();
        var kept = (await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal(away.UserId, kept.GetProperty("agent_id").GetInt64());
        (await away.PutAsync("/livechat/agents/me/presence", new { status = "AWAY" })).AssertStatus(HttpStatusCode.OK);
        var gone = server.Agent(tenant);
        await gone.GoOnlineAsync();
        var requeued = (await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal(gone.UserId, requeued.GetProperty("agent_id").GetInt64());
        (await gone.PutAsync("/livechat/agents/me/presence", new { status = "OFFLINE" })).AssertStatus(HttpStatusCode.OK);

        server.Clock.Advance(TimeSpan.FromSeconds(2)); // past the 1 s requeue delay, twice over
        await Eventually.Async(async () => Assert.False(
            (await gone.GetAsync($"/livechat/sessions/{requeued.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data.TryGetProperty("agent_id", out _)));
        var session = (await away.GetAsync($"/livechat/sessions/{kept.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(away.UserId, session.GetProperty("agent_id").GetInt64());
    }
}

public sealed class RequeueTestsOnSqlite(RequeueSqliteServer server) : RequeueTests(server), IClassFixture<RequeueSqliteServer>;

public sealed class RequeueTestsOnPostgres(RequeuePostgresServer server) : RequeueTests(server), IClassFixture<RequeuePostgresServer>;
