using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 8: reading and updating support tickets.</summary>
public abstract class TicketTests(LivechatServer server)
{
    /// <summary>An agent of <paramref name="tenant"/> that is known and OFFLINE.</summary>
    private async Task<Caller> OfflineAgentAsync(long tenant)
    {
        var agent = server.Agent(tenant);
        (await agent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        return agent;
    }

    /// <summary>Opens a ticket the way the service does: a tenant user asks for an offline agent.</summary>
    private async Task<string> OpenTicketAsync(long tenant, Caller offlineAgent)
    {
        var reply = await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { agent_id = offlineAgent.UserId });
        reply.AssertError(HttpStatusCode.BadRequest, "agent_id");
        return reply.Meta.GetProperty("ticket_id").GetString()!;
    }

    /// <summary>A tenant with <paramref name="count"/> tickets (one per offline agent), oldest first, and an agent to read them.</summary>
    private async Task<(long Tenant, Caller Reader, List<Caller> Agents, List<string> Tickets)> TicketsAsync(int count)
    {
        var tenant = await server.NewTenantAsync();
        var agents = new List<Caller>();
        var tickets = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var agent = await OfflineAgentAsync(tenant);
            agents.Add(agent);
            tickets.Add(await OpenTicketAsync(tenant, agent));
        }
        return (tenant, server.Agent(tenant), agents, tickets);
    }

    private static async Task<JsonElement> TicketAsync(Caller reader, string id) =>
        (await reader.GetAsync($"/tickets/{id}")).AssertStatus(HttpStatusCode.OK).Data;

    [Fact]
    public async Task ATicketHasTheContractsFields()
    {
        var (tenant, reader, agents, tickets) = await TicketsAsync(1);
        var ticket = await TicketAsync(reader, tickets[0]);
        var names = ticket.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.True(names.SetEquals(["id", "tenant_id", "agent_id", "title", "category", "priority", "status", "description", "created_at", "updated_at"]),
            $"Ticket members: {string.Join(",", names)}");
        Assert.Matches(Formats.UuidV7, ticket.Text("id"));
        Assert.Equal(tenant, ticket.GetProperty("tenant_id").GetInt64());
        Assert.Equal(agents[0].UserId, ticket.GetProperty("agent_id").GetInt64());
        Assert.Equal("open", ticket.Text("status"));
        Assert.False(string.IsNullOrWhiteSpace(ticket.Text("category")));
        Assert.False(string.IsNullOrWhiteSpace(ticket.Text("priority")));
        Assert.Matches(Formats.Timestamp, ticket.Text("created_at"));
        Assert.Equal(ticket.Text("created_at"), ticket.Text("updated_at"));
    }

    [Fact]
    public async Task ListingIsNewestFirstWithCursorPagination()
    {
        var (_, reader, _, tickets) = await TicketsAsync(5);
        var newestFirst = Enumerable.Reverse(tickets).ToList();

        var first = (await reader.GetAsync("/tickets?limit=2")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(newestFirst[..2], first.Ids());
        Assert.True(first.Pagination.GetProperty("has_next").GetBoolean());
        Assert.False(first.Pagination.GetProperty("has_prev").GetBoolean());
        Assert.Equal(newestFirst[1], first.Cursor("next_cursor"));

        var second = (await reader.GetAsync($"/tickets?limit=2&cursor={first.Cursor("next_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(newestFirst[2..4], second.Ids());
        Assert.True(second.Pagination.GetProperty("has_prev").GetBoolean());

        Assert.Equal(newestFirst, (await reader.WalkAsync("/tickets?limit=2")).Select(t => t.Text("id")));
        Assert.Equal(newestFirst, (await reader.WalkAsync("/tickets?limit=1")).Select(t => t.Text("id")));
    }

    [Fact]
    public async Task ListingShowsOnlyTheCallersTenantsTickets()
    {
        var (_, reader, _, tickets) = await TicketsAsync(2);
        await TicketsAsync(2);
        Assert.Equal(Enumerable.Reverse(tickets), (await reader.WalkAsync("/tickets?limit=100")).Select(t => t.Text("id")));
    }

    [Fact]
    public async Task TheStatusFilterListsTicketsInThatStatus()
    {
        var (_, reader, _, tickets) = await TicketsAsync(4);
        (await reader.PatchAsync($"/tickets/{tickets[0]}", new { status = "resolved" })).AssertStatus(HttpStatusCode.OK);
        (await reader.PatchAsync($"/tickets/{tickets[2]}", new { status = "in_progress" })).AssertStatus(HttpStatusCode.OK);

        Assert.Equal([tickets[3], tickets[1]], (await reader.WalkAsync("/tickets?status=open&limit=1")).Select(t => t.Text("id")));
        Assert.Equal([tickets[2]], (await reader.WalkAsync("/tickets?status=in_progress&limit=1")).Select(t => t.Text("id")));
        Assert.Equal([tickets[0]], (await reader.WalkAsync("/tickets?status=resolved&limit=1")).Select(t => t.Text("id")));
        Assert.Empty(await reader.WalkAsync("/tickets?status=closed&limit=1"));
    }

    [Theory]
    [InlineData("status=OPEN")]
    [InlineData("status=done")]
    [InlineData("status=open,resolved")]
    public async Task AnInvalidStatusFilterIs400(string query)
    {
        var (_, reader, _, _) = await TicketsAsync(1);
        (await reader.GetAsync($"/tickets?{query}")).AssertError(HttpStatusCode.BadRequest, "status");
    }

    [Fact]
    public async Task AnInvalidLimitOrCursorIs400()
    {
        var (_, reader, _, _) = await TicketsAsync(1);
        var (_, _, _, foreign) = await TicketsAsync(1);
        (await reader.GetAsync("/tickets?limit=0")).AssertError(HttpStatusCode.BadRequest, "limit");
        (await reader.GetAsync("/tickets?limit=101")).AssertError(HttpStatusCode.BadRequest, "limit");
        (await reader.GetAsync("/tickets?cursor=nope")).AssertError(HttpStatusCode.BadRequest, "cursor");
        (await reader.GetAsync($"/tickets?cursor={Guid.CreateVersion7()}")).AssertError(HttpStatusCode.BadRequest, "cursor");
        (await reader.GetAsync($"/tickets?cursor={foreign[0]}")).AssertError(HttpStatusCode.BadRequest, "cursor");
    }

    [Fact]
    public async Task ReadingATicketChecksTheId()
    {
        var (_, reader, _, tickets) = await TicketsAsync(1);
        var (_, stranger, _, _) = await TicketsAsync(1);
        (await reader.GetAsync("/tickets/not-a-uuid")).AssertError(HttpStatusCode.BadRequest, "id");
        (await reader.GetAsync($"/tickets/{Guid.CreateVersion7()}")).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.GetAsync($"/tickets/{tickets[0]}")).AssertError(HttpStatusCode.NotFound, "request");
    }

    [Theory]
    [InlineData("in_progress")]
    [InlineData("resolved")]
    [InlineData("closed")]
    public async Task PatchingTheStatusChangesItAndUpdatedAt(string status)
    {
        var (_, reader, agents, tickets) = await TicketsAsync(1);
        var before = await TicketAsync(reader, tickets[0]);

        var updated = (await reader.PatchAsync($"/tickets/{tickets[0]}", new { status })).AssertStatus(HttpStatusCode.OK).Data;

        Assert.Equal(status, updated.Text("status"));
        Assert.Equal(agents[0].UserId, updated.GetProperty("agent_id").GetInt64());
        Assert.Equal(before.Text("created_at"), updated.Text("created_at"));
        Assert.True(string.CompareOrdinal(updated.Text("updated_at"), before.Text("updated_at")) > 0, updated.ToString());
        Assert.Equal(updated.ToString(), (await TicketAsync(reader, tickets[0])).ToString());
    }

    [Fact]
    public async Task PatchingAgentIdReassignsTheTicket()
    {
        var (tenant, reader, _, tickets) = await TicketsAsync(1);
        var colleague = await OfflineAgentAsync(tenant);

        var updated = (await reader.PatchAsync($"/tickets/{tickets[0]}", new { agent_id = colleague.UserId })).AssertStatus(HttpStatusCode.OK).Data;

        Assert.Equal(colleague.UserId, updated.GetProperty("agent_id").GetInt64());
        Assert.Equal("open", updated.Text("status"));
        Assert.Equal(updated.ToString(), (await TicketAsync(reader, tickets[0])).ToString());
    }

    [Fact]
    public async Task PatchingStatusAndAgentIdTogetherChangesBoth()
    {
        var (_, reader, _, tickets) = await TicketsAsync(1);

        var updated = (await reader.PatchAsync($"/tickets/{tickets[0]}", new { status = "in_progress", agent_id = reader.UserId })).AssertStatus(HttpStatusCode.OK).Data;

        Assert.Equal("in_progress", updated.Text("status"));
        Assert.Equal(reader.UserId, updated.GetProperty("agent_id").GetInt64());
        Assert.Equal(updated.ToString(), (await TicketAsync(reader, tickets[0])).ToString());
    }

    [Fact]
    public async Task AgentIdNullUnassignsTheTicket()
    {
        var (_, reader, _, tickets) = await TicketsAsync(1);

        var updated = (await reader.PatchAsync($"/tickets/{tickets[0]}", "{\"agent_id\": null}")).AssertStatus(HttpStatusCode.OK).Data;

        Assert.False(updated.TryGetProperty("agent_id", out var agent) && agent.ValueKind != JsonValueKind.Null, updated.ToString());
        Assert.Equal("open", updated.Text("status"));
        Assert.Equal(updated.ToString(), (await TicketAsync(reader, tickets[0])).ToString());
    }

    [Fact]
    public async Task AnUnknownAgentIs400OnAgentIdAndChangesNothing()
    {
        var (_, reader, _, tickets) = await TicketsAsync(1);
        var foreigner = await OfflineAgentAsync(await server.NewTenantAsync());
        var before = await TicketAsync(reader, tickets[0]);

        (await reader.PatchAsync($"/tickets/{tickets[0]}", new { agent_id = 424242 })).AssertError(HttpStatusCode.BadRequest, "agent_id");
        (await reader.PatchAsync($"/tickets/{tickets[0]}", new { agent_id = foreigner.UserId, status = "resolved" })).AssertError(HttpStatusCode.BadRequest, "agent_id");

        Assert.Equal(before.ToString(), (await TicketAsync(reader, tickets[0])).ToString());
    }

    [Theory]
    [InlineData("{\"agent_id\": 0}")]
    [InlineData("{\"agent_id\": -3}")]
    [InlineData("{\"agent_id\": \"12\"}")]
    [InlineData("{\"agent_id\": 1.5}")]
    public async Task AnAgentIdThatIsNotAPositiveIntegerIs400(string json)
    {
        var (_, reader, _, tickets) = await TicketsAsync(1);
        (await reader.PatchAsync($"/tickets/{tickets[0]}", json)).AssertError(HttpStatusCode.BadRequest, "agent_id");
    }

    [Fact]
    public async Task AnEmptyPatchIs400()
    {
        var (_, reader, _, tickets) = await TicketsAsync(1);
        var before = await TicketAsync(reader, tickets[0]);
        (await reader.PatchAsync($"/tickets/{tickets[0]}", "{}")).AssertError(HttpStatusCode.BadRequest, "body");
        Assert.Equal(before.ToString(), (await TicketAsync(reader, tickets[0])).ToString());
    }

    [Theory]
    [InlineData("{\"status\": \"OPEN\"}")]
    [InlineData("{\"status\": \"done\"}")]
    [InlineData("{\"status\": \"\"}")]
    [InlineData("{\"status\": 5}")]
    [InlineData("{\"status\": null}")]
    [InlineData("{\"status\": \"done\", \"agent_id\": null}")]
    public async Task AnInvalidStatusIs400OnStatusAndChangesNothing(string json)
    {
        var (_, reader, _, tickets) = await TicketsAsync(1);
        var before = await TicketAsync(reader, tickets[0]);
        (await reader.PatchAsync($"/tickets/{tickets[0]}", json)).AssertError(HttpStatusCode.BadRequest, "status");
        Assert.Equal(before.ToString(), (await TicketAsync(reader, tickets[0])).ToString());
    }

    [Fact]
    public async Task PatchingAnUnknownMalformedOrForeignTicketFails()
    {
        var (_, reader, _, tickets) = await TicketsAsync(1);
        var (_, stranger, _, _) = await TicketsAsync(1);
        var before = await TicketAsync(reader, tickets[0]);

        (await reader.PatchAsync($"/tickets/{Guid.CreateVersion7()}", new { status = "resolved" })).AssertError(HttpStatusCode.NotFound, "request");
        (await reader.PatchAsync("/tickets/not-a-uuid", new { status = "resolved" })).AssertError(HttpStatusCode.BadRequest, "id");
        (await stranger.PatchAsync($"/tickets/{tickets[0]}", new { status = "resolved" })).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.PatchAsync($"/tickets/{tickets[0]}", "{\"agent_id\": null}")).AssertError(HttpStatusCode.NotFound, "request");

        Assert.Equal(before.ToString(), (await TicketAsync(reader, tickets[0])).ToString());
    }

    [Fact]
    public async Task ReopeningOntoAnAgentThatHasAnotherOpenTicketIs409()
    {
        var tenant = await server.NewTenantAsync();
        var agent = await OfflineAgentAsync(tenant);
        var first = await OpenTicketAsync(tenant, agent);
        (await agent.PatchAsync($"/tickets/{first}", new { status = "resolved" })).AssertStatus(HttpStatusCode.OK);
        var second = await OpenTicketAsync(tenant, agent);
        Assert.NotEqual(first, second);

        (await agent.PatchAsync($"/tickets/{first}", new { status = "open" })).AssertError(HttpStatusCode.Conflict, "status");
        Assert.Equal("resolved", (await TicketAsync(agent, first)).Text("status"));

        // Reassigning another agent's open ticket onto it is the same conflict.
        var other = await OfflineAgentAsync(tenant);
        var third = await OpenTicketAsync(tenant, other);
        (await agent.PatchAsync($"/tickets/{third}", new { agent_id = agent.UserId })).AssertError(HttpStatusCode.Conflict, "agent_id");
        Assert.Equal(other.UserId, (await TicketAsync(agent, third)).GetProperty("agent_id").GetInt64());
    }

    [Fact]
    public async Task TenantUsersGet403OnEveryTicketEndpoint()
    {
        var (tenant, _, _, tickets) = await TicketsAsync(1);
        var user = server.TenantUser(tenant);
        (await user.GetAsync("/tickets")).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.GetAsync($"/tickets/{tickets[0]}")).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.PatchAsync($"/tickets/{tickets[0]}", new { status = "resolved" })).AssertError(HttpStatusCode.Forbidden, "request");
        Assert.Equal("open", (await TicketAsync(server.Agent(tenant), tickets[0])).Text("status"));
    }
}

public sealed class TicketTestsOnSqlite(SqliteServer server) : TicketTests(server), IClassFixture<SqliteServer>;

public sealed class TicketTestsOnPostgres(PostgresServer server) : TicketTests(server), IClassFixture<PostgresServer>;
