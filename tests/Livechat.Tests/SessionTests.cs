using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 4: starting and reading sessions.</summary>
public abstract class SessionTests(LivechatServer server)
{
    [Fact]
    public async Task StartingWithoutAgentIdOpensASessionForTheCaller()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = (await agent.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created);
        Assert.Equal(agent.UserId, reply.Data.GetProperty("agent_id").GetInt64());
        Assert.Equal("OPEN", reply.Data.GetProperty("status").GetString());
        Assert.Equal(reply.Data.GetProperty("created_at").GetString(), reply.Data.GetProperty("updated_at").GetString());
    }

    [Fact]
    public async Task NullAgentIdMeansTheCaller()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = (await agent.PostAsync("/livechat/sessions", "{\"agent_id\": null}")).AssertStatus(HttpStatusCode.Created);
        Assert.Equal(agent.UserId, reply.Data.GetProperty("agent_id").GetInt64());
    }

    [Fact]
    public async Task NamingYourselfAsAgentOpensASession()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = (await agent.PostAsync("/livechat/sessions", new { agent_id = agent.UserId })).AssertStatus(HttpStatusCode.Created);
        Assert.Equal(agent.UserId, reply.Data.GetProperty("agent_id").GetInt64());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1.5")]
    [InlineData("\"12\"")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("1e40")]
    public async Task AgentIdThatIsNotAPositiveIntegerIs400(string value)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = await agent.PostAsync("/livechat/sessions", $"{{\"agent_id\": {value}}}");
        reply.AssertError(HttpStatusCode.BadRequest, "agent_id");
        var sessions = (await agent.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, sessions.Data.GetArrayLength());
    }

    [Fact]
    public async Task AnAgentUnknownToTheTenantIs400()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var reply = await agent.PostAsync("/livechat/sessions", new { agent_id = 424242 });
        reply.AssertError(HttpStatusCode.BadRequest, "agent_id");
    }

    [Fact]
    public async Task AnAgentKnownOnlyInAnotherTenantIsUnknownHere()
    {
        var other = server.Agent(await server.NewTenantAsync());
        await other.GoOnlineAsync();
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = await agent.PostAsync("/livechat/sessions", new { agent_id = other.UserId });
        reply.AssertError(HttpStatusCode.BadRequest, "agent_id");
    }

    [Fact]
    public async Task ASecondStartWhileOpenIs400NamingTheOpenSession()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var first = await agent.StartSessionAsync();
        var reply = await agent.PostAsync("/livechat/sessions", new { });
        reply.AssertError(HttpStatusCode.BadRequest, "agent_id");
        Assert.Equal(first, reply.Meta.GetProperty("session_id").GetString());
    }

    [Fact]
    public async Task TheSameAgentMayHaveOneOpenSessionInEachTenant()
    {
        var userId = LivechatServer.NewUserId();
        var first = server.Agent(await server.NewTenantAsync(), userId);
        var second = server.Agent(await server.NewTenantAsync(), userId);
        await first.StartSessionAsync();
        await second.StartSessionAsync();
    }

    [Fact]
    public async Task ASessionCanBeReadBack()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var started = (await agent.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created);
        var id = started.Data.GetProperty("id").GetString();
        var read = (await agent.GetAsync($"/livechat/sessions/{id}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(started.Data.WithoutCallerFields(), read.Data.WithoutCallerFields());
        Assert.Equal(0, read.Data.GetProperty("unread_count").GetInt64()); // the caller's, an extension of contract section 11
    }

    [Fact]
    public async Task AMalformedSessionIdIs400()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        (await agent.GetAsync("/livechat/sessions/not-a-uuid")).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.GetAsync("/livechat/sessions/not-a-uuid/messages?limit=5")).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.PostAsync("/livechat/sessions/not-a-uuid/messages", new { message = "hi" })).AssertError(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task AnUnknownSessionIs404()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        (await agent.GetAsync($"/livechat/sessions/{Guid.CreateVersion7()}")).AssertError(HttpStatusCode.NotFound, "request");
    }

    [Fact]
    public async Task AnotherTenantsSessionIs404OnEveryEndpoint()
    {
        var owner = server.Agent(await server.NewTenantAsync());
        var session = await owner.StartSessionAsync();
        var message = await owner.SendMessageAsync(session, "secret");
        var stranger = server.Agent(await server.NewTenantAsync());

        (await stranger.GetAsync($"/livechat/sessions/{session}")).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.GetAsync($"/livechat/sessions/{session}/messages?limit=10&cursor={message.GetProperty("id").GetString()}")).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.PostAsync($"/livechat/sessions/{session}/messages", new { message = "intrusion" })).AssertError(HttpStatusCode.NotFound, "request");

        var page = (await owner.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(1, page.Data.GetArrayLength());
    }
}

public sealed class SessionTestsOnSqlite(SqliteServer server) : SessionTests(server), IClassFixture<SqliteServer>;

public sealed class SessionTestsOnPostgres(PostgresServer server) : SessionTests(server), IClassFixture<PostgresServer>;
