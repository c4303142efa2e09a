using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>
/// Contract sections 4 and 8: naming an agent that is not ONLINE refuses the session and opens a support
/// ticket instead, one per agent while it is unresolved.
/// </summary>
public abstract class UnavailableAgentTests(LivechatServer server)
{
    /// <summary>An agent of <paramref name="tenant"/> that has called the API (so it is known) and is <paramref name="presence"/>, or OFFLINE by default.</summary>
    private async Task<Caller> KnownAgentAsync(long tenant, string? presence = null)
    {
        var agent = server.Agent(tenant);
        if (presence is null) (await agent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        else (await agent.PutAsync("/livechat/agents/me/presence", new { status = presence })).AssertStatus(HttpStatusCode.OK);
        return agent;
    }

    private Caller Requester(long tenant, string kind) => kind == "agent" ? server.Agent(tenant) : server.TenantUser(tenant);

    /// <summary>Asserts the refusal: 400 on agent_id naming a ticket; returns the ticket id.</summary>
    private static string AssertRefusedWithTicket(Reply reply)
    {
        reply.AssertError(HttpStatusCode.BadRequest, "agent_id");
        Assert.True(reply.Meta.TryGetProperty("ticket_id", out var ticket), $"Expected meta.ticket_id: {reply.Text}");
        Assert.False(reply.Meta.TryGetProperty("session_id", out _));
        return ticket.GetString()!;
    }

    private static async Task<List<string>> TicketIdsAsync(Caller agent) =>
        (await agent.WalkAsync("/tickets?limit=100")).Select(t => t.Text("id")).ToList();

    [Theory]
    [InlineData("agent", null)]
    [InlineData("agent", "OFFLINE")]
    [InlineData("agent", "AWAY")]
    [InlineData("tenant user", null)]
    [InlineData("tenant user", "OFFLINE")]
    [InlineData("tenant user", "AWAY")]
    public async Task NamingAnAgentThatIsNotOnlineIs400WithAnOpenTicketAndNoSession(string requesterKind, string? presence)
    {
        var tenant = await server.NewTenantAsync();
        var named = await KnownAgentAsync(tenant, presence);
        var requester = Requester(tenant, requesterKind);

        var ticketId = AssertRefusedWithTicket(await requester.PostAsync("/livechat/sessions", new { agent_id = named.UserId }));

        var ticket = (await named.GetAsync($"/tickets/{ticketId}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(ticketId, ticket.Text("id"));
        Assert.Equal(tenant, ticket.GetProperty("tenant_id").GetInt64());
        Assert.Equal("open", ticket.Text("status"));
        Assert.Equal(named.UserId, ticket.GetProperty("agent_id").GetInt64());
        foreach (var text in new[] { ticket.Text("title"), ticket.Text("description") })
        {
            Assert.Contains($"Tenant {tenant}", text, StringComparison.Ordinal);
            Assert.Contains(named.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
        }
        Assert.Equal([ticketId], await TicketIdsAsync(named));

        var sessions = (await named.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, sessions.Data.GetArrayLength());
    }

    [Fact]
    public async Task ARepeatedAttemptWhileTheTicketIsOpenReusesIt()
    {
        var tenant = await server.NewTenantAsync();
        var named = await KnownAgentAsync(tenant);
        var first = AssertRefusedWithTicket(await server.Agent(tenant).PostAsync("/livechat/sessions", new { agent_id = named.UserId }));
        var again = AssertRefusedWithTicket(await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { agent_id = named.UserId }));
        var third = AssertRefusedWithTicket(await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { agent_id = named.UserId }));

        Assert.Equal(first, again);
        Assert.Equal(first, third);
        Assert.Equal([first], await TicketIdsAsync(named));
    }

    [Fact]
    public async Task AnInProgressTicketIsStillReused()
    {
        var tenant = await server.NewTenantAsync();
        var named = await KnownAgentAsync(tenant);
        var first = AssertRefusedWithTicket(await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { agent_id = named.UserId }));
        (await named.PatchAsync($"/tickets/{first}", new { status = "in_progress" })).AssertStatus(HttpStatusCode.OK);

        var again = AssertRefusedWithTicket(await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { agent_id = named.UserId }));
        Assert.Equal(first, again);
        Assert.Equal([first], await TicketIdsAsync(named));
    }

    [Fact]
    public async Task TenConcurrentAttemptsOpenExactlyOneTicket()
    {
        var tenant = await server.NewTenantAsync();
        var named = await KnownAgentAsync(tenant);
        var requesters = Enumerable.Range(0, 10).Select(i => Requester(tenant, i % 2 == 0 ? "agent" : "tenant user")).ToList();

        var replies = await Task.WhenAll(requesters.Select(r => r.PostAsync("/livechat/sessions", new { agent_id = named.UserId })));

        var ticketIds = replies.Select(AssertRefusedWithTicket).Distinct().ToList();
        Assert.Single(ticketIds);
        Assert.Equal(ticketIds, await TicketIdsAsync(named));
        var sessions = (await named.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, sessions.Data.GetArrayLength());
    }

    [Theory]
    [InlineData("resolved")]
    [InlineData("closed")]
    public async Task OnceTheTicketIsDoneANewAttemptOpensANewTicket(string done)
    {
        var tenant = await server.NewTenantAsync();
        var named = await KnownAgentAsync(tenant);
        var requester = server.TenantUser(tenant);
        var first = AssertRefusedWithTicket(await requester.PostAsync("/livechat/sessions", new { agent_id = named.UserId }));
        (await named.PatchAsync($"/tickets/{first}", new { status = done })).AssertStatus(HttpStatusCode.OK);

        var second = AssertRefusedWithTicket(await requester.PostAsync("/livechat/sessions", new { agent_id = named.UserId }));

        Assert.NotEqual(first, second);
        var ticket = (await named.GetAsync($"/tickets/{second}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("open", ticket.Text("status"));
        Assert.Equal(done, (await named.GetAsync($"/tickets/{first}")).AssertStatus(HttpStatusCode.OK).Data.Text("status"));
        Assert.Equal([second, first], await TicketIdsAsync(named));

        // And the new ticket is reused in turn.
        var third = AssertRefusedWithTicket(await requester.PostAsync("/livechat/sessions", new { agent_id = named.UserId }));
        Assert.Equal(second, third);
    }

    [Fact]
    public async Task TicketsAreOnePerAgent()
    {
        var tenant = await server.NewTenantAsync();
        var one = await KnownAgentAsync(tenant);
        var other = await KnownAgentAsync(tenant, "AWAY");
        var requester = server.TenantUser(tenant);
        var first = AssertRefusedWithTicket(await requester.PostAsync("/livechat/sessions", new { agent_id = one.UserId }));
        var second = AssertRefusedWithTicket(await requester.PostAsync("/livechat/sessions", new { agent_id = other.UserId }));
        Assert.NotEqual(first, second);
        Assert.Equal(other.UserId, (await one.GetAsync($"/tickets/{second}")).AssertStatus(HttpStatusCode.OK).Data.GetProperty("agent_id").GetInt64());
    }

    [Theory]
    [InlineData("agent")]
    [InlineData("tenant user")]
    public async Task OnceTheAgentIsOnlineTheStartSucceeds(string requesterKind)
    {
        var tenant = await server.NewTenantAsync();
        var named = await KnownAgentAsync(tenant);
        var requester = Requester(tenant, requesterKind);
        AssertRefusedWithTicket(await requester.PostAsync("/livechat/sessions", new { agent_id = named.UserId }));

        await named.GoOnlineAsync();
        var reply = (await requester.PostAsync("/livechat/sessions", new { agent_id = named.UserId })).AssertStatus(HttpStatusCode.Created);

        Assert.Equal(named.UserId, reply.Data.GetProperty("agent_id").GetInt64());
        Assert.Equal("OPEN", reply.Data.Text("status"));
        Assert.False(reply.Meta.TryGetProperty("ticket_id", out _));
        var sessions = (await named.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([reply.Data.Text("id")], sessions.Ids());
    }

    [Fact]
    public async Task AnAgentThatWentAwayIsUnavailableAgain()
    {
        var tenant = await server.NewTenantAsync();
        var named = await KnownAgentAsync(tenant, "ONLINE");
        (await named.PutAsync("/livechat/agents/me/presence", new { status = "AWAY" })).AssertStatus(HttpStatusCode.OK);
        AssertRefusedWithTicket(await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { agent_id = named.UserId }));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"agent_id\": null}")]
    public async Task ARoutedStartWithNoAgentOnlineIs400WithATicketReusedForThatUser(string json)
    {
        var tenant = await server.NewTenantAsync();
        await KnownAgentAsync(tenant, "AWAY"); // AWAY is not ONLINE: nobody can take the chat
        var user = server.TenantUser(tenant);
        var reply = await user.PostAsync("/livechat/sessions", json);
        reply.AssertError(HttpStatusCode.BadRequest, "agent_id");
        var ticket = reply.Meta.GetProperty("ticket_id").GetString();
        Assert.Equal(0, (await user.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());

        // The same user again: the same unresolved ticket. Another user: a ticket of its own.
        Assert.Equal(ticket, (await user.PostAsync("/livechat/sessions", json)).AssertError(HttpStatusCode.BadRequest, "agent_id").Meta.GetProperty("ticket_id").GetString());
        var other = (await server.TenantUser(tenant).PostAsync("/livechat/sessions", json)).AssertError(HttpStatusCode.BadRequest, "agent_id");
        Assert.NotEqual(ticket, other.Meta.GetProperty("ticket_id").GetString());
    }

    [Fact]
    public async Task ATenantUserNamingItselfIsNotAnAgent()
    {
        var tenant = await server.NewTenantAsync();
        var user = server.TenantUser(tenant);
        var reply = await user.PostAsync("/livechat/sessions", new { agent_id = user.UserId });
        reply.AssertError(HttpStatusCode.BadRequest, "agent_id");
        Assert.False(reply.Meta.TryGetProperty("ticket_id", out _));
    }
}

public sealed class UnavailableAgentTestsOnSqlite(SqliteServer server) : UnavailableAgentTests(server), IClassFixture<SqliteServer>;

public sealed class UnavailableAgentTestsOnPostgres(PostgresServer server) : UnavailableAgentTests(server), IClassFixture<PostgresServer>;
