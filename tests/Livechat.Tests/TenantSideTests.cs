using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 7: what a tenant user (any role but SUPPORT_AGENT) may and may not do.</summary>
public abstract class TenantSideTests(LivechatServer server)
{
    [Fact]
    public async Task ATenantUserListsItsTenantsSessionsOnly()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var agentsOwn = await server.Agent(agent.TenantId).StartSessionAsync();
        var foreign = await server.Agent(await server.NewTenantAsync()).StartSessionAsync();

        var listed = (await user.WalkAsync("/livechat/sessions?limit=1")).Select(s => s.Text("id")).ToList();

        Assert.Equal([agentsOwn, session], listed);
        Assert.DoesNotContain(foreign, listed);
        var read = (await user.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(agent.UserId, read.GetProperty("agent_id").GetInt64());
        Assert.Equal([session], (await user.GetAsync("/livechat/sessions?status=OPEN&limit=1&cursor=" + agentsOwn)).AssertStatus(HttpStatusCode.OK).Ids());
    }

    [Fact]
    public async Task ATenantUserSendsMessagesAsItself()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var reply = (await user.PostAsync($"/livechat/sessions/{session}/messages", new { message = "Selamat pagi", sender_id = agent.UserId }))
            .AssertStatus(HttpStatusCode.Created);
        Assert.Equal(user.UserId, reply.Data.GetProperty("sender_id").GetInt64());
        Assert.Equal(session, reply.Data.Text("session_id"));
        Assert.Equal("Selamat pagi", reply.Data.Text("message"));

        var seenByAgent = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(reply.Data.ToString(), Assert.Single(seenByAgent.Data.EnumerateArray()).ToString());
    }

    [Fact]
    public async Task ATenantUserReadsTheConversationWithPagination()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var writer = i % 2 == 0 ? agent : user;
            ids.Add((await writer.SendMessageAsync(session, $"message {i}")).Text("id"));
        }
        // A colleague who took no part in the conversation may read it too.
        var colleague = server.TenantUser(user.TenantId);

        foreach (var reader in new[] { user, colleague })
        {
            var first = (await reader.GetAsync($"/livechat/sessions/{session}/messages?limit=2")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal(ids[..2], first.Ids());
            Assert.True(first.Pagination.GetProperty("has_next").GetBoolean());
            var walked = (await reader.WalkAsync($"/livechat/sessions/{session}/messages?limit=2")).Select(m => m.Text("id"));
            Assert.Equal(ids, walked);
            var newest = (await reader.GetAsync($"/livechat/sessions/{session}/messages?limit=2&direction=backward")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal(ids[3..], newest.Ids());
        }

        (await user.GetAsync($"/livechat/sessions/{session}/messages")).AssertError(HttpStatusCode.BadRequest, "limit");
        (await user.GetAsync($"/livechat/sessions/{session}/messages?limit=5&cursor={Guid.CreateVersion7()}")).AssertError(HttpStatusCode.BadRequest, "cursor");
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"message\": \"\"}")]
    [InlineData("{\"message\": \"   \"}")]
    [InlineData("{\"message\": 42}")]
    public async Task ATenantUsersInvalidMessageIs400AndStoresNothing(string json)
    {
        var (agent, user, session) = await server.ConversationAsync();
        (await user.PostAsync($"/livechat/sessions/{session}/messages", json)).AssertError(HttpStatusCode.BadRequest, "message");
        (await user.PostAsync($"/livechat/sessions/{session}/messages", $"{{\"message\": \"{new string('x', 5001)}\"}}")).AssertError(HttpStatusCode.BadRequest, "message");
        var page = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, page.Data.GetArrayLength());
    }

    [Fact]
    public async Task ATenantUserCannotCloseSessionsSetPresenceOrSeeTickets()
    {
        var (agent, user, session) = await server.ConversationAsync();
        (await user.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.PutAsync("/livechat/agents/me/presence", new { status = "ONLINE" })).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.GetAsync("/livechat/agents")).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.GetAsync("/tickets")).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.GetAsync($"/tickets/{Guid.CreateVersion7()}")).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.PatchAsync($"/tickets/{Guid.CreateVersion7()}", new { status = "resolved" })).AssertError(HttpStatusCode.Forbidden, "request");

        Assert.Equal("OPEN", (await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data.Text("status"));
    }

    [Fact]
    public async Task AnotherTenantsSessionIs404ForATenantUser()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var message = (await agent.SendMessageAsync(session, "private")).Text("id");
        var stranger = server.TenantUser(await server.NewTenantAsync());

        (await stranger.GetAsync($"/livechat/sessions/{session}")).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.GetAsync($"/livechat/sessions/{session}/messages?limit=10&cursor={message}")).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.PostAsync($"/livechat/sessions/{session}/messages", new { message = "intrusion" })).AssertError(HttpStatusCode.NotFound, "request");
        Assert.Equal(0, (await stranger.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());

        var page = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([message], page.Ids());
    }

    [Fact]
    public async Task ATenantUserGets409OnAClosedSession()
    {
        var (agent, user, session) = await server.ConversationAsync();
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        (await user.PostAsync($"/livechat/sessions/{session}/messages", new { message = "hello?" })).AssertStatus(HttpStatusCode.Conflict);
        Assert.Equal(0, (await user.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
    }
}

public sealed class TenantSideTestsOnSqlite(SqliteServer server) : TenantSideTests(server), IClassFixture<SqliteServer>;

public sealed class TenantSideTestsOnPostgres(PostgresServer server) : TenantSideTests(server), IClassFixture<PostgresServer>;
