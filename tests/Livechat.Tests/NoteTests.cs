using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Livechat.Tests;

/// <summary>
/// Contract section 16: an internal note is a message only agents read. Every route a message takes to the tenant
/// side is tried here; each "nothing came" is proven by an ordinary message that comes after it.
/// </summary>
public abstract class NoteTests(LivechatServer server)
{
    private static string Messages(string session) => $"/livechat/sessions/{session}/messages";

    private static async Task<JsonElement> NoteAsync(Caller agent, string session, string text) =>
        (await agent.PostAsync(Messages(session), new { message = text, @internal = true })).AssertStatus(HttpStatusCode.Created).Data;

    private static async Task<List<string>> TextsAsync(Caller caller, string session) =>
        (await caller.WalkAsync($"{Messages(session)}?limit=2")).Select(m => m.Text("message")).ToList();

    [Fact]
    public async Task AnAgentsNoteIsAMessageOnlyAgentsReadInTheSessionsOrder()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        await customer.SendMessageAsync(session, "hello");
        var note = await NoteAsync(agent, session, "customer seems upset, be gentle");
        Assert.True(note.GetProperty("internal").GetBoolean());
        await agent.SendMessageAsync(session, "how can I help?");

        Assert.Equal(["hello", "customer seems upset, be gentle", "how can I help?"], await TextsAsync(agent, session));
        Assert.Equal(["hello", "how can I help?"], await TextsAsync(customer, session));
        // Another agent of the tenant reads it too; an ordinary message has no internal field at all.
        var colleague = server.Agent(agent.TenantId);
        var page = (await colleague.GetAsync($"{Messages(session)}?limit=10")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.True(page[1].GetProperty("internal").GetBoolean());
        Assert.False(page[0].TryGetProperty("internal", out _));
        Assert.False(page[2].TryGetProperty("internal", out _));
    }

    [Fact]
    public async Task ANoteIsNoCursorForATenantUserAndBackwardPagesSkipIt()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        var first = await customer.SendMessageAsync(session, "one");
        var note = await NoteAsync(agent, session, "note");
        await agent.SendMessageAsync(session, "two");
        (await customer.GetAsync($"{Messages(session)}?limit=10&cursor={note.Text("id")}")).AssertError(HttpStatusCode.BadRequest, "cursor");
        var after = (await agent.GetAsync($"{Messages(session)}?limit=10&cursor={note.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(["two"], after.EnumerateArray().Select(m => m.Text("message")));
        var newest = (await customer.GetAsync($"{Messages(session)}?limit=2&direction=backward")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(["one", "two"], newest.EnumerateArray().Select(m => m.Text("message")));
        Assert.Equal(first.Text("id"), newest[0].Text("id"));
    }

    [Fact]
    public async Task LastMessageAndUnreadCountOfATenantUserLeaveNotesOut()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        var reply = await agent.SendMessageAsync(session, "a reply");
        await NoteAsync(agent, session, "note one");
        await NoteAsync(agent, session, "note two");

        var forCustomer = (await customer.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(reply.Text("id"), forCustomer.GetProperty("last_message").Text("id"));
        Assert.Equal(1, forCustomer.GetProperty("unread_count").GetInt64());
        var listed = (await customer.GetAsync("/livechat/sessions?limit=50")).Data.EnumerateArray().Single(s => s.Text("id") == session);
        Assert.Equal(reply.Text("id"), listed.GetProperty("last_message").Text("id"));
        Assert.Equal(1, listed.GetProperty("unread_count").GetInt64());

        var forColleague = (await server.Agent(agent.TenantId).GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("note two", forColleague.GetProperty("last_message").Text("message"));
        Assert.True(forColleague.GetProperty("last_message").GetProperty("internal").GetBoolean());
        Assert.Equal(3, forColleague.GetProperty("unread_count").GetInt64());

        // The customer reads the reply: nothing is left for it, though two notes came after.
        (await customer.PostAsync($"/livechat/sessions/{session}/read", new { message_id = reply.Text("id") })).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, (await customer.GetAsync($"/livechat/sessions/{session}")).Data.GetProperty("unread_count").GetInt64());
    }

    [Fact]
    public async Task OnTheHubAndBothStreamsOnlyAgentsHearANote()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        await using var customerHub = await HubClient.ConnectAsync(server, customer);
        await customerHub.Connection.InvokeAsync("JoinSession", session);
        await using var agentHub = await HubClient.ConnectAsync(server, server.Agent(agent.TenantId, agent.UserId));
        await agentHub.Connection.InvokeAsync("JoinSession", session);
        await using var customerStream = await SseClient.OpenUserStreamAsync(server, customer);
        await using var customerSessionStream = await SseClient.OpenAsync(server, customer, session);
        await using var agentSessionStream = await SseClient.OpenAsync(server, agent, session);

        var note = await NoteAsync(agent, session, "only for agents");
        var control = await agent.SendMessageAsync(session, "for everyone");

        Assert.Equal(note.ToString(), (await agentHub.NextAsync("messageCreated")).ToString());
        Assert.Equal(note.Text("id"), (await agentSessionStream.NextAsync()).Id);
        var heard = await customerHub.BeforeAsync("messageCreated", "messageCreated", m => m.Text("id") == control.Text("id"));
        Assert.Empty(heard);
        var streamed = await customerStream.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("id") == control.Text("id"));
        Assert.DoesNotContain(streamed, e => e.Data.ToString().Contains(note.Text("id"), StringComparison.Ordinal));
        Assert.Equal(control.Text("id"), (await customerSessionStream.NextAsync()).Id);
    }

    [Fact]
    public async Task ResumingStreamsReplayNoNoteToATenantUserAndANoteIsNoLastEventIdForIt()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        var before = await agent.SendMessageAsync(session, "before");
        string resumeAt;
        await using (var stream = await SseClient.OpenUserStreamAsync(server, customer))
        {
            await agent.SendMessageAsync(session, "seen live");
            resumeAt = (await stream.NextNamedAsync(10)).Id!;
        }
        var note = await NoteAsync(agent, session, "while away");
        var after = await agent.SendMessageAsync(session, "after");

        await using (var resumed = await SseClient.OpenUserStreamAsync(server, customer, resumeAt))
        {
            var replayed = await resumed.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("id") == after.Text("id"));
            Assert.DoesNotContain(replayed, e => e.Data.ToString().Contains(note.Text("id"), StringComparison.Ordinal));
        }
        await using (var replay = await SseClient.OpenAsync(server, customer, session, lastEventId: before.Text("id")))
        {
            var ids = new List<string?>();
            while (ids.LastOrDefault() != after.Text("id")) ids.Add((await replay.NextAsync()).Id);
            Assert.DoesNotContain(note.Text("id"), ids);
        }
        var refused = await server.SendAsync(HttpMethod.Get, $"/livechat/sessions/{session}/events", customer.Token, customer.TenantId.ToString(),
            configure: r => r.Headers.Add("Last-Event-ID", note.Text("id")));
        refused.AssertError(HttpStatusCode.BadRequest, "last_event_id");
        // An agent replays it.
        await using var agentReplay = await SseClient.OpenAsync(server, agent, session, lastEventId: before.Text("id"));
        var agentIds = new List<string?>();
        while (agentIds.LastOrDefault() != after.Text("id")) agentIds.Add((await agentReplay.NextAsync()).Id);
        Assert.Contains(note.Text("id"), agentIds);
    }

    [Fact]
    public async Task ANoteNotifiesNobody()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        await NoteAsync(agent, session, "no notification");
        var reply = await agent.SendMessageAsync(session, "a notification");
        var notifications = (await customer.GetAsync("/notifications?limit=100")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal([reply.Text("id")], notifications.Select(n => n.Text("message_id")));
    }

    [Fact]
    public async Task ReadMarksOnANoteStayOnTheAgentsSide()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        var reply = await agent.SendMessageAsync(session, "reply");
        var note = await NoteAsync(agent, session, "note");
        await using var customerHub = await HubClient.ConnectAsync(server, customer);
        await customerHub.Connection.InvokeAsync("JoinSession", session);
        var colleague = server.Agent(agent.TenantId);

        // A tenant user cannot mark a note read: to it, the note is not a message of the session.
        (await customer.PostAsync($"/livechat/sessions/{session}/read", new { message_id = note.Text("id") })).AssertError(HttpStatusCode.BadRequest, "message_id");
        // A colleague marks the note read: the customer does not hear it; the customer's own mark after it is the control.
        (await colleague.PostAsync($"/livechat/sessions/{session}/read", new { message_id = note.Text("id") })).AssertStatus(HttpStatusCode.OK);
        (await customer.PostAsync($"/livechat/sessions/{session}/read", new { message_id = reply.Text("id") })).AssertStatus(HttpStatusCode.OK);
        var heard = await customerHub.BeforeAsync("messagesRead", "messagesRead", r => r.GetProperty("user_id").GetInt64() == customer.UserId);
        Assert.Empty(heard);

        // Everyone's markers: the tenant user sees the colleague's mark on the newest message it reads, and no notes in any count.
        var forCustomer = (await customer.GetAsync($"/livechat/sessions/{session}/read")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray()
            .ToDictionary(s => s.GetProperty("user_id").GetInt64());
        Assert.Equal(reply.Text("id"), forCustomer[colleague.UserId].Text("last_read_message_id"));
        Assert.Equal(0, forCustomer[colleague.UserId].GetProperty("unread_count").GetInt64());
        Assert.Equal(0, forCustomer[customer.UserId].GetProperty("unread_count").GetInt64());
        Assert.DoesNotContain(note.Text("id"), (await customer.GetAsync($"/livechat/sessions/{session}/read")).Body.ToString());
        // Agents see the mark where it is; the customer's count is its own (no notes), the agents' their own.
        var forAgent = (await agent.GetAsync($"/livechat/sessions/{session}/read")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray()
            .ToDictionary(s => s.GetProperty("user_id").GetInt64());
        Assert.Equal(note.Text("id"), forAgent[colleague.UserId].Text("last_read_message_id"));
        Assert.Equal(0, forAgent[customer.UserId].GetProperty("unread_count").GetInt64());
    }

    [Theory]
    [InlineData("""{"message":"x","internal":"yes"}""", HttpStatusCode.BadRequest, "internal")]
    [InlineData("""{"message":"x","internal":1}""", HttpStatusCode.BadRequest, "internal")]
    [InlineData("""{"message":"","internal":true}""", HttpStatusCode.BadRequest, "message")]
    public async Task AMalformedNoteIs400AndStoresNothing(string json, HttpStatusCode status, string key)
    {
        var (agent, _, session) = await server.ConversationAsync();
        var before = await TextsAsync(agent, session);
        (await agent.PostAsync(Messages(session), json)).AssertError(status, key);
        Assert.Equal(before, await TextsAsync(agent, session));
    }

    [Fact]
    public async Task ATenantUserWhoSendsInternalGets403AndNothingIsStored()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        var before = await TextsAsync(agent, session);
        (await customer.PostAsync(Messages(session), new { message = "let me in", @internal = true })).AssertError(HttpStatusCode.Forbidden, "internal");
        Assert.Equal(before, await TextsAsync(agent, session));
        // internal: false is an ordinary message, from anyone.
        var plain = (await customer.PostAsync(Messages(session), new { message = "plain", @internal = false })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.False(plain.TryGetProperty("internal", out _));
    }

    [Fact]
    public async Task AResendOfANoteAnswersTheNoteAndTheSameIdForAnOrdinaryMessageIs422()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var first = (await agent.PostAsync(Messages(session), new { message = "n", @internal = true, client_message_id = "c-1" })).AssertStatus(HttpStatusCode.Created).Data;
        var again = (await agent.PostAsync(Messages(session), new { message = "n", @internal = true, client_message_id = "c-1" })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal(first.ToString(), again.ToString());
        (await agent.PostAsync(Messages(session), new { message = "n", client_message_id = "c-1" })).AssertError(HttpStatusCode.UnprocessableEntity, "client_message_id");
    }
}

public sealed class NoteTestsOnSqlite(SqliteServer server) : NoteTests(server), IClassFixture<SqliteServer>;

public sealed class NoteTestsOnPostgres(PostgresServer server) : NoteTests(server), IClassFixture<PostgresServer>;
