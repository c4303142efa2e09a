using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Livechat.Tests;

/// <summary>Contract section 11: read markers, unread counts, the list's last message, and messagesRead.</summary>
public abstract class ReadStateTests(RealtimeServer server)
{
    private static string Id(JsonElement message) => message.GetProperty("id").GetString()!;

    private static async Task<JsonElement> SessionAsync(Caller caller, string session) =>
        (await caller.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data;

    [Fact]
    public async Task ReadingAMessageMovesTheCallersMarkerAndAnswersItsReadState()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var first = await agent.SendMessageAsync(session, "one");
        await agent.SendMessageAsync(session, "two");
        var third = await agent.SendMessageAsync(session, "three");
        Assert.Equal(3, (await SessionAsync(user, session)).GetProperty("unread_count").GetInt64());

        var read = (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(first) })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(session, read.Text("session_id"));
        Assert.Equal(user.UserId, read.GetProperty("user_id").GetInt64());
        Assert.Equal(Id(first), read.Text("last_read_message_id"));
        Assert.Equal(2, read.GetProperty("unread_count").GetInt64());

        read = (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(third) })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(0, read.GetProperty("unread_count").GetInt64());
        Assert.Equal(0, (await SessionAsync(user, session)).GetProperty("unread_count").GetInt64());
    }

    [Fact]
    public async Task AnOlderMessageLeavesTheMarkerWhereItIsAndIsStill200()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var first = await agent.SendMessageAsync(session, "one");
        var second = await agent.SendMessageAsync(session, "two");
        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(second) })).AssertStatus(HttpStatusCode.OK);

        var back = (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(first) })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(Id(second), back.Text("last_read_message_id"));
        Assert.Equal(0, back.GetProperty("unread_count").GetInt64());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"message_id\":null}")]
    [InlineData("{\"message_id\":42}")]
    [InlineData("{\"message_id\":\"not-a-uuid\"}")]
    public async Task AMissingOrMalformedMessageIdIs400(string body)
    {
        var (_, user, session) = await server.ConversationAsync();
        (await user.PostAsync($"/livechat/sessions/{session}/read", body)).AssertError(HttpStatusCode.BadRequest, "message_id");
    }

    /// <summary>
    /// Migration 0031: messages sent before read markers existed left their senders without a marker. They get
    /// the one sending gives, so an unread count (last_seq minus the marker) never counts a caller's own.
    /// </summary>
    [Fact]
    public async Task SendersOfMessagesFromBeforeMarkersGetTheMarkerSendingGives()
    {
        await using var older = new LivechatServer(server.Provider);
        await older.StartAsync();
        var (agent, user, session) = await older.ConversationAsync();
        var usersFirst = await user.SendMessageAsync(session, "before markers 1");
        var agentsLast = await agent.SendMessageAsync(session, "before markers 2");
        await user.SendMessageAsync(session, "before markers 3");
        var usersLast = await user.SendMessageAsync(session, "before markers 4");
        // The database as one from before markers: none kept, the sender index there, and 0031 still to run.
        await older.ExecuteSqlAsync("DELETE FROM read_markers");
        await older.ExecuteSqlAsync("CREATE INDEX ix_chat_messages_sender ON chat_messages (tenant_id, session_id, sender_id, seq)");
        Assert.Equal(1, await older.ExecuteSqlAsync("DELETE FROM schemaversions WHERE scriptname LIKE '%0031_senders_markers.sql'"));
        await older.StopAsync();

        await older.StartAsync();
        Assert.Equal(2, (await SessionAsync(agent, session)).GetProperty("unread_count").GetInt64());
        Assert.Equal(0, (await SessionAsync(user, session)).GetProperty("unread_count").GetInt64());
        var agentsState = (await agent.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(usersFirst) })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(Id(agentsLast), agentsState.Text("last_read_message_id"));
        var usersState = (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(usersFirst) })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(Id(usersLast), usersState.Text("last_read_message_id"));

        // And from here on as always: the agent's reply moves its marker past what it had not read.
        await agent.SendMessageAsync(session, "after markers");
        Assert.Equal(0, (await SessionAsync(agent, session)).GetProperty("unread_count").GetInt64());
        Assert.Equal(1, (await SessionAsync(user, session)).GetProperty("unread_count").GetInt64());
    }

    [Fact]
    public async Task AMessageOfAnotherSessionOrAnUnknownOneIs400AndMovesNothing()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await agent.SendMessageAsync(session, "unread");
        var otherAgent = server.Agent(agent.TenantId);
        var otherSession = await otherAgent.StartSessionAsync();
        var elsewhere = await otherAgent.SendMessageAsync(otherSession, "elsewhere");

        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(elsewhere) })).AssertError(HttpStatusCode.BadRequest, "message_id");
        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Guid.CreateVersion7() })).AssertError(HttpStatusCode.BadRequest, "message_id");
        Assert.Equal(1, (await SessionAsync(user, session)).GetProperty("unread_count").GetInt64());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1]")]
    public async Task ABodyThatIsNotAJsonObjectIs400(string body)
    {
        var (_, user, session) = await server.ConversationAsync();
        (await user.PostAsync($"/livechat/sessions/{session}/read", body)).AssertError(HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task AMalformedSessionIdIs400()
    {
        var (_, user, _) = await server.ConversationAsync();
        (await user.PostAsync("/livechat/sessions/nope/read", new { message_id = Guid.CreateVersion7() })).AssertError(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task AnotherTenantsSessionIs404()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var message = await agent.SendMessageAsync(session, "mine");
        var stranger = server.Agent(await server.NewTenantAsync());
        (await stranger.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(message) })).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.GetAsync($"/livechat/sessions/{session}")).AssertError(HttpStatusCode.NotFound, "request");
    }

    [Fact]
    public async Task SendingAMessageMovesTheSendersOwnMarkerAndCountsOnlyOtherUsersMessages()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await agent.SendMessageAsync(session, "agent one");
        await agent.SendMessageAsync(session, "agent two");
        Assert.Equal(2, (await SessionAsync(user, session)).GetProperty("unread_count").GetInt64());

        // Answering means having read what came before.
        await user.SendMessageAsync(session, "user answers");
        Assert.Equal(0, (await SessionAsync(user, session)).GetProperty("unread_count").GetInt64());
        Assert.Equal(1, (await SessionAsync(agent, session)).GetProperty("unread_count").GetInt64());
        await agent.SendMessageAsync(session, "agent three");
        Assert.Equal(0, (await SessionAsync(agent, session)).GetProperty("unread_count").GetInt64());
        Assert.Equal(1, (await SessionAsync(user, session)).GetProperty("unread_count").GetInt64());
    }

    [Fact]
    public async Task EveryListRowCarriesTheCallersUnreadCountAndItsLastMessage()
    {
        var tenant = await server.NewTenantAsync();
        var user = server.TenantUser(tenant);
        var sessions = new List<string>();
        var agents = new List<Caller>();
        for (var i = 0; i < 3; i++)
        {
            var agent = server.Agent(tenant);
            await agent.GoOnlineAsync();
            agents.Add(agent);
            sessions.Add(await user.StartSessionAsync(agent.UserId));
        }
        await agents[0].SendMessageAsync(sessions[0], "a");
        var last = await agents[0].SendMessageAsync(sessions[0], "b");
        await user.SendMessageAsync(sessions[1], "mine only");
        var rows = (await user.GetAsync("/livechat/sessions?limit=10")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray()
            .ToDictionary(row => row.Text("id"));

        Assert.Equal(2, rows[sessions[0]].GetProperty("unread_count").GetInt64());
        Assert.Equal(last.ToString(), rows[sessions[0]].GetProperty("last_message").ToString());
        Assert.Equal(0, rows[sessions[1]].GetProperty("unread_count").GetInt64());
        Assert.Equal("mine only", rows[sessions[1]].GetProperty("last_message").Text("message"));
        Assert.Equal(0, rows[sessions[2]].GetProperty("unread_count").GetInt64());
        Assert.False(rows[sessions[2]].TryGetProperty("last_message", out _));

        // Computed for the caller: the agent of the first session has read its own messages.
        var agentRow = (await agents[0].GetAsync("/livechat/sessions?limit=10")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray()
            .Single(row => row.Text("id") == sessions[0]);
        Assert.Equal(0, agentRow.GetProperty("unread_count").GetInt64());
    }

    [Fact]
    public async Task TheSeedsSessionShapesElsewhereCarryNoUnreadCount()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var started = (await agent.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.False(started.TryGetProperty("unread_count", out _));
        Assert.False(started.TryGetProperty("last_message", out _));
        var closed = (await agent.PatchAsync($"/livechat/sessions/{started.Text("id")}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.False(closed.TryGetProperty("unread_count", out _));
    }

    [Fact]
    public async Task AMovedMarkerIsPushedAsMessagesReadToJoinedHubConnectionsAndTheSessionStreamWithoutAnId()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var message = await agent.SendMessageAsync(session, "read me");
        await using var hub = await HubClient.ConnectAsync(server, agent);
        await hub.Connection.InvokeAsync("JoinSession", session);
        await using var stream = await SseClient.OpenAsync(server, agent, session); // live: its headers come after its first byte, written once subscribed

        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(message) })).AssertStatus(HttpStatusCode.OK);
        var pushed = await hub.NextAsync("messagesRead");
        Assert.Equal(session, pushed.Text("session_id"));
        Assert.Equal(user.UserId, pushed.GetProperty("user_id").GetInt64());
        Assert.Equal(Id(message), pushed.Text("last_read_message_id"));
        Assert.Matches(Formats.Timestamp, pushed.Text("read_at"));

        var (name, id, data) = await stream.NextNamedAsync();
        Assert.Equal("messagesRead", name);
        Assert.Null(id);
        Assert.Equal(pushed.ToString(), data.ToString());

        // Forward only: reading it again moves nothing and pushes nothing.
        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(message) })).AssertStatus(HttpStatusCode.OK);
        // The control: reading a newer message moves the marker, and that push is the next one on both.
        var newer = await agent.SendMessageAsync(session, "and me");
        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(newer) })).AssertStatus(HttpStatusCode.OK);
        Assert.Empty(await hub.BeforeAsync("messagesRead", "messagesRead", m => m.Text("last_read_message_id") == Id(newer)));
        var events = await stream.NamedUntilAsync(e => e.Name == "messagesRead" && e.Data.Text("last_read_message_id") == Id(newer));
        Assert.Empty(events.SkipLast(1).Select(e => $"{e.Name} {e.Data}"));
    }

    [Fact]
    public async Task MessagesReadNeverReachesAnotherTenant()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var message = await agent.SendMessageAsync(session, "secret");
        var strangerTenant = await server.NewTenantAsync();
        var stranger = server.Agent(strangerTenant, agent.UserId); // even the same user id, in another tenant
        // The stranger's own conversation, for the control.
        await stranger.GoOnlineAsync();
        var strangerUser = server.TenantUser(strangerTenant, user.UserId);
        var theirs = await strangerUser.StartSessionAsync(stranger.UserId);
        var theirMessage = await stranger.SendMessageAsync(theirs, "theirs");
        await using var strangerHub = await HubClient.ConnectAsync(server, stranger);
        await strangerHub.Connection.InvokeAsync("JoinSession", theirs);
        await using var strangerStream = await SseClient.OpenUserStreamAsync(server, stranger);
        await using var hub = await HubClient.ConnectAsync(server, agent);
        await hub.Connection.InvokeAsync("JoinSession", session);

        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = Id(message) })).AssertStatus(HttpStatusCode.OK);
        await hub.NextAsync("messagesRead");

        // The control: a read in the stranger's own session reaches its hub and stream after anything the other tenant's did.
        (await strangerUser.PostAsync($"/livechat/sessions/{theirs}/read", new { message_id = Id(theirMessage) })).AssertStatus(HttpStatusCode.OK);
        Assert.Empty(await strangerHub.BeforeAsync("messagesRead", "messagesRead", m => m.Text("session_id") == theirs));
        var events = await strangerStream.NamedUntilAsync(e => e.Name == "messagesRead" && e.Data.Text("session_id") == theirs);
        Assert.Single(events, e => e.Name == "messagesRead");
    }
}

public sealed class ReadStateTestsOnSqlite(RealtimeSqliteServer server) : ReadStateTests(server), IClassFixture<RealtimeSqliteServer>;

public sealed class ReadStateTestsOnPostgres(RealtimePostgresServer server) : ReadStateTests(server), IClassFixture<RealtimePostgresServer>;
