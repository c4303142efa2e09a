using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 18: <c>GET /livechat/sessions/{id}/read</c>, every participant's read marker.</summary>
public abstract class EveryonesReadMarkersTests(LivechatServer server)
{
    private static string Id(JsonElement message) => message.GetProperty("id").GetString()!;

    private static async Task<List<JsonElement>> MarkersAsync(Caller caller, string session) =>
        (await caller.GetAsync($"/livechat/sessions/{session}/read")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();

    private static (long User, string? LastRead, long Unread) Of(JsonElement state) =>
        (state.GetProperty("user_id").GetInt64(),
         state.GetProperty("last_read_message_id").ValueKind == JsonValueKind.Null ? null : state.Text("last_read_message_id"),
         state.GetProperty("unread_count").GetInt64());

    [Fact]
    public async Task EveryParticipantsMarkerIsListedByUserId()
    {
        var (agent, user, session) = await server.ConversationAsync();
        Assert.Equal(
            new[] { (agent.UserId, (string?)null, 0L), (user.UserId, null, 0L) }.OrderBy(s => s.Item1),
            (await MarkersAsync(agent, session)).Select(Of));

        var first = await agent.SendMessageAsync(session, "one");
        await agent.SendMessageAsync(session, "two");
        var third = await agent.SendMessageAsync(session, "three");
        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(first) })).AssertStatus(HttpStatusCode.OK);

        var markers = await MarkersAsync(agent, session);
        Assert.All(markers, m => Assert.Equal(session, m.Text("session_id")));
        Assert.Equal(
            new[] { (agent.UserId, (string?)Id(third), 0L), (user.UserId, Id(first), 2L) }.OrderBy(s => s.Item1),
            markers.Select(Of));
        // The tenant user reads the same list.
        Assert.Equal(markers.Select(Of), (await MarkersAsync(user, session)).Select(Of));
    }

    [Fact]
    public async Task WhoeverReadOrWroteInTheSessionIsAParticipant()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var colleague = server.TenantUser(agent.TenantId);
        var message = await colleague.SendMessageAsync(session, "me too");
        var otherAgent = server.Agent(agent.TenantId);
        (await otherAgent.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(message) })).AssertStatus(HttpStatusCode.OK);

        var users = (await MarkersAsync(agent, session)).Select(Of).ToList();
        Assert.Equal(new[] { agent.UserId, user.UserId, colleague.UserId, otherAgent.UserId }.Order(), users.Select(u => u.User));
        Assert.Contains((colleague.UserId, Id(message), 0L), users);
        Assert.Contains((otherAgent.UserId, Id(message), 0L), users);
        Assert.Contains((user.UserId, null, 1L), users);
    }

    [Fact]
    public async Task AnotherTenantsSessionIs404AndAMalformedIdIs400()
    {
        var (_, _, session) = await server.ConversationAsync();
        var tenant = await server.NewTenantAsync();
        (await server.Agent(tenant).GetAsync($"/livechat/sessions/{session}/read")).AssertError(HttpStatusCode.NotFound, "request");
        (await server.TenantUser(tenant).GetAsync($"/livechat/sessions/{session}/read")).AssertError(HttpStatusCode.NotFound, "request");
        (await server.Agent(tenant).GetAsync($"/livechat/sessions/{Guid.CreateVersion7()}/read")).AssertError(HttpStatusCode.NotFound, "request");
        (await server.Agent(tenant).GetAsync("/livechat/sessions/nope/read")).AssertError(HttpStatusCode.BadRequest, "id");
    }
}

public sealed class EveryonesReadMarkersTestsOnSqlite(SqliteServer server) : EveryonesReadMarkersTests(server), IClassFixture<SqliteServer>;

public sealed class EveryonesReadMarkersTestsOnPostgres(PostgresServer server) : EveryonesReadMarkersTests(server), IClassFixture<PostgresServer>;
