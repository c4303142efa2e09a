using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract sections 5 and 7: an agent's reply notifies the tenant side; listing and marking notifications read.</summary>
public abstract class NotificationTests(LivechatServer server)
{
    /// <summary>A tenant user that has called the API in <paramref name="tenant"/>, so it is known there.</summary>
    private async Task<Caller> KnownUserAsync(long tenant)
    {
        var user = server.TenantUser(tenant);
        (await user.GetAsync("/notifications")).AssertStatus(HttpStatusCode.OK);
        return user;
    }

    private static async Task<List<JsonElement>> NotificationsAsync(Caller caller, string query = "limit=100") =>
        await caller.WalkAsync($"/notifications?{query}");

    [Fact]
    public async Task AnAgentsReplyNotifiesTheTenantUserWhoStartedTheSession()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var bystander = await KnownUserAsync(user.TenantId);

        var message = await agent.SendMessageAsync(session, "Halo, ada yang bisa dibantu?");

        var notification = Assert.Single(await NotificationsAsync(user));
        var names = notification.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "id", "type", "session_id", "message_id", "preview", "created_at", "read_at" }, names);
        Assert.Matches(Formats.UuidV7, notification.Text("id"));
        Assert.Equal("LIVECHAT_REPLY", notification.Text("type"));
        Assert.Equal(session, notification.Text("session_id"));
        Assert.Equal(message.Text("id"), notification.Text("message_id"));
        Assert.Equal("Halo, ada yang bisa dibantu?", notification.Text("preview"));
        Assert.Matches(Formats.Timestamp, notification.Text("created_at"));
        Assert.Equal(JsonValueKind.Null, notification.GetProperty("read_at").ValueKind);

        // Only participants are notified once there are any; the agent's own reply notifies it of nothing (it was
        // told only that the customer's start gave it the chat).
        Assert.Empty(await NotificationsAsync(bystander));
        Assert.Equal(["LIVECHAT_ASSIGNED"], (await NotificationsAsync(agent)).Select(n => n.Text("type")));
    }

    [Fact]
    public async Task EachReplyNotifiesEveryParticipant()
    {
        var (agent, starter, session) = await server.ConversationAsync();
        var writer = server.TenantUser(agent.TenantId);
        await writer.SendMessageAsync(session, "I have a question too");

        var first = (await agent.SendMessageAsync(session, "first answer")).Text("id");
        var second = (await agent.SendMessageAsync(session, "second answer")).Text("id");

        foreach (var user in new[] { starter, writer })
        {
            var notifications = await NotificationsAsync(user);
            Assert.Equal([second, first], notifications.Select(n => n.Text("message_id")));
            Assert.All(notifications, n => Assert.Equal(session, n.Text("session_id")));
        }
    }

    [Fact]
    public async Task ATenantUserTakesPartInEachSessionTheyWriteIn()
    {
        // The service remembers who already takes part where (KnownParticipants): per session, not per user.
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var bystander = await KnownUserAsync(tenant);
        var user = server.TenantUser(tenant);
        var first = await agent.StartSessionAsync();
        await user.SendMessageAsync(first, "one");
        await user.SendMessageAsync(first, "two");
        var reply = (await agent.SendMessageAsync(first, "answer in the first")).Text("id");
        (await agent.PatchAsync($"/livechat/sessions/{first}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);

        var second = await agent.StartSessionAsync();
        await user.SendMessageAsync(second, "and a new question");
        var secondReply = (await agent.SendMessageAsync(second, "answer in the second")).Text("id");

        Assert.Equal([secondReply, reply], (await NotificationsAsync(user)).Select(n => n.Text("message_id")));
        // The second session has a participant, so the tenant's other users are not notified of its reply.
        Assert.Empty(await NotificationsAsync(bystander));
    }

    [Fact]
    public async Task WithoutParticipantsEveryKnownTenantUserIsNotified()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var known = new[] { await KnownUserAsync(tenant), await KnownUserAsync(tenant) };
        var foreigner = await KnownUserAsync(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();

        var message = (await agent.SendMessageAsync(session, "Is anyone there?")).Text("id");

        foreach (var user in known)
            Assert.Equal([message], (await NotificationsAsync(user)).Select(n => n.Text("message_id")));
        Assert.Empty(await NotificationsAsync(foreigner));
        // A user who had never called the API was not known when the reply was sent.
        Assert.Empty(await NotificationsAsync(server.TenantUser(tenant)));
        Assert.Empty(await NotificationsAsync(agent));
    }

    [Fact]
    public async Task OnceATenantUserHasWrittenOnlyParticipantsAreNotified()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var writer = await KnownUserAsync(tenant);
        var bystander = await KnownUserAsync(tenant);
        var session = await agent.StartSessionAsync();
        var broadcast = (await agent.SendMessageAsync(session, "Hello everyone")).Text("id");

        await writer.SendMessageAsync(session, "Hi, it's me");
        var reply = (await agent.SendMessageAsync(session, "Hi you")).Text("id");

        Assert.Equal([reply, broadcast], (await NotificationsAsync(writer)).Select(n => n.Text("message_id")));
        Assert.Equal([broadcast], (await NotificationsAsync(bystander)).Select(n => n.Text("message_id")));
    }

    [Fact]
    public async Task ATenantUsersOwnMessagesNotifyNoTenantUserButTheSessionsAgent()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var colleague = await KnownUserAsync(user.TenantId);
        await user.SendMessageAsync(session, "my own words");
        await colleague.SendMessageAsync(session, "and mine");

        Assert.Empty(await NotificationsAsync(user));
        Assert.Empty(await NotificationsAsync(colleague));
        var forAgent = (await agent.GetAsync("/notifications?limit=100")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray()
            .Where(n => n.Text("type") == "LIVECHAT_MESSAGE").Select(n => n.Text("preview")).ToList();
        Assert.Equal(["and mine", "my own words"], forAgent);
    }

    [Fact]
    public async Task AgentsAreNotifiedOfTheirCustomersMessagesAndOfSessionsAssignedToThem()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant, name: "Budi");
        await using var stream = await SseClient.OpenUserStreamAsync(server, agent);

        // A routed start assigns the chat to the agent: a notification without a message.
        var session = (await customer.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        var assigned = await stream.NextNamedAsync("notificationCreated");
        Assert.Equal("LIVECHAT_ASSIGNED", assigned.Text("type"));
        Assert.Equal(session, assigned.Text("session_id"));
        Assert.False(assigned.TryGetProperty("message_id", out _));
        Assert.Equal("New chat with Budi", assigned.Text("preview"));

        // The customer writes: the agent hears it with the message's preview; the agent's own reply and note notify it of nothing.
        var message = await customer.SendMessageAsync(session, "my invoice is wrong");
        var heard = await stream.NextNamedAsync("notificationCreated");
        Assert.Equal("LIVECHAT_MESSAGE", heard.Text("type"));
        Assert.Equal(message.Text("id"), heard.Text("message_id"));
        Assert.Equal("my invoice is wrong", heard.Text("preview"));
        await agent.SendMessageAsync(session, "let me check");
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "note", @internal = true })).AssertStatus(HttpStatusCode.Created);
        var control = await customer.SendMessageAsync(session, "thanks");
        var next = await stream.NextNamedAsync("notificationCreated");
        Assert.Equal(control.Text("id"), next.Text("message_id"));

        var listed = (await agent.GetAsync("/notifications?limit=100")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal(["LIVECHAT_MESSAGE", "LIVECHAT_MESSAGE", "LIVECHAT_ASSIGNED"], listed.Select(n => n.Text("type")));
        Assert.Equal(agent.UserId, listed[0].GetProperty("user_id").GetInt64());
    }

    [Fact]
    public async Task AnAgentWhoTakesAChatItselfIsNotNotifiedAndAColleagueWhoGetsItIs()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var colleague = server.Agent(tenant);
        await agent.GoOnlineAsync();
        await colleague.GoOnlineAsync();
        var own = await agent.StartSessionAsync(); // its own start: nothing to tell it
        (await agent.PatchAsync($"/livechat/sessions/{own}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var session = await agent.StartSessionAsync();
        (await agent.PostAsync($"/livechat/sessions/{session}/transfer", new { agent_id = colleague.UserId })).AssertStatus(HttpStatusCode.OK);

        Assert.Empty((await agent.GetAsync("/notifications?limit=100")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        var forColleague = (await colleague.GetAsync("/notifications?limit=100")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal(["LIVECHAT_ASSIGNED"], forColleague.Select(n => n.Text("type")));
        Assert.Equal(session, forColleague[0].Text("session_id"));
        Assert.Equal("A chat was assigned to you", forColleague[0].Text("preview"));
    }

    public static TheoryData<string, string> LongMessages()
    {
        var words = string.Concat(Enumerable.Range(0, 30).Select(i => $"word{i:D2} ab ")).TrimEnd();
        return new()
        {
            { "words", words + new string('z', 300 - words.Length) },
            { "one letter", new string('a', 300) },
            // Characters are Unicode characters: an emoji is one, and it is never cut in half.
            { "emoji", string.Concat(Enumerable.Repeat("\U0001F600", 300)) },
            { "lines", string.Join('\n', Enumerable.Repeat("line of text", 25)) },
        };
    }

    [Theory]
    [MemberData(nameof(LongMessages))]
    public async Task ALongMessageGivesAPreviewOfAtMost141CharactersEndingWithAnEllipsis(string why, string text)
    {
        Assert.True(text.EnumerateRunes().Count() >= 300, why);
        var (agent, user, session) = await server.ConversationAsync();

        var message = (await agent.SendMessageAsync(session, text)).Text("id");

        var notification = Assert.Single(await NotificationsAsync(user));
        Assert.Equal(message, notification.Text("message_id"));
        var preview = notification.Text("preview");
        var characters = preview.EnumerateRunes().Count();
        Assert.True(characters is > 100 and <= 141, $"{why}: {characters} characters: {preview}");
        Assert.EndsWith("\u2026", preview, StringComparison.Ordinal);
        Assert.DoesNotContain('\uFFFD', preview);
        var start = preview[..^1].TrimEnd();
        Assert.StartsWith(start, text.ReplaceLineEndings(" "), StringComparison.Ordinal);

        // The message itself is stored whole.
        var page = (await user.GetAsync($"/livechat/sessions/{session}/messages?limit=1")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(text, page.Data[0].Text("message"));
    }

    [Fact]
    public async Task UnreadTrueListsOnlyUnreadNotifications()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var first = (await agent.SendMessageAsync(session, "one")).Text("id");
        var second = (await agent.SendMessageAsync(session, "two")).Text("id");
        var all = await NotificationsAsync(user);
        var read = all.Single(n => n.Text("message_id") == first).Text("id");
        (await user.PostAsync($"/notifications/{read}/read", null)).AssertStatus(HttpStatusCode.OK);

        Assert.Equal([second], (await NotificationsAsync(user, "unread=true")).Select(n => n.Text("message_id")));
        Assert.Equal([second, first], (await NotificationsAsync(user, "unread=false")).Select(n => n.Text("message_id")));
        Assert.Equal([second, first], (await NotificationsAsync(user)).Select(n => n.Text("message_id")));
    }

    [Theory]
    [InlineData("unread=maybe")]
    [InlineData("unread=1")]
    [InlineData("unread=yes")]
    public async Task AnUnreadThatIsNotABooleanIs400(string query)
    {
        var (_, user, _) = await server.ConversationAsync();
        (await user.GetAsync($"/notifications?{query}")).AssertError(HttpStatusCode.BadRequest, "unread");
    }

    [Fact]
    public async Task NotificationsAreNewestFirstWithCursorPagination()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var messages = new List<string>();
        for (var i = 0; i < 5; i++) messages.Add((await agent.SendMessageAsync(session, $"reply {i}")).Text("id"));
        var newestFirst = Enumerable.Reverse(messages).ToList();

        var first = (await user.GetAsync("/notifications?limit=2")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(newestFirst[..2], first.Data.EnumerateArray().Select(n => n.Text("message_id")));
        Assert.True(first.Pagination.GetProperty("has_next").GetBoolean());
        Assert.False(first.Pagination.GetProperty("has_prev").GetBoolean());
        Assert.Equal(first.Ids()[1], first.Cursor("next_cursor"));

        var second = (await user.GetAsync($"/notifications?limit=2&cursor={first.Cursor("next_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(newestFirst[2..4], second.Data.EnumerateArray().Select(n => n.Text("message_id")));
        Assert.True(second.Pagination.GetProperty("has_prev").GetBoolean());

        Assert.Equal(newestFirst, (await NotificationsAsync(user, "limit=2")).Select(n => n.Text("message_id")));
        Assert.Equal(newestFirst, (await NotificationsAsync(user, "limit=1&unread=true")).Select(n => n.Text("message_id")));

        (await user.GetAsync("/notifications?limit=0")).AssertError(HttpStatusCode.BadRequest, "limit");
        (await user.GetAsync($"/notifications?cursor={Guid.CreateVersion7()}")).AssertError(HttpStatusCode.BadRequest, "cursor");
    }

    [Fact]
    public async Task AnotherUsersNotificationIsNotACursor()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var colleague = server.TenantUser(user.TenantId);
        await colleague.SendMessageAsync(session, "me too");
        await agent.SendMessageAsync(session, "answer");
        var theirs = Assert.Single(await NotificationsAsync(colleague)).Text("id");
        (await user.GetAsync($"/notifications?cursor={theirs}")).AssertError(HttpStatusCode.BadRequest, "cursor");
    }

    [Fact]
    public async Task MarkingReadSetsReadAtOnceAndAgainChangesNothing()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await agent.SendMessageAsync(session, "ping");
        var notification = Assert.Single(await NotificationsAsync(user));
        var id = notification.Text("id");

        var read = (await user.PostAsync($"/notifications/{id}/read", null)).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(id, read.Text("id"));
        Assert.Matches(Formats.Timestamp, read.Text("read_at"));
        Assert.True(string.CompareOrdinal(read.Text("read_at"), read.Text("created_at")) >= 0, read.ToString());
        Assert.Equal(notification.Text("message_id"), read.Text("message_id"));

        var again = (await user.PostAsync($"/notifications/{id}/read", null)).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(read.Text("read_at"), again.Text("read_at"));
        Assert.Equal(read.ToString(), again.ToString());
        Assert.Equal(read.ToString(), Assert.Single(await NotificationsAsync(user)).ToString());
    }

    [Fact]
    public async Task SomeoneElsesNotificationIs404AndAMalformedIdIs400()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await agent.SendMessageAsync(session, "for you only");
        var id = Assert.Single(await NotificationsAsync(user)).Text("id");

        var colleague = server.TenantUser(user.TenantId);
        (await colleague.PostAsync($"/notifications/{id}/read", null)).AssertError(HttpStatusCode.NotFound, "request");
        (await server.TenantUser(await server.NewTenantAsync()).PostAsync($"/notifications/{id}/read", null)).AssertError(HttpStatusCode.NotFound, "request");
        // The same user id acting in another tenant is someone else too.
        (await server.TenantUser(await server.NewTenantAsync(), user.UserId).PostAsync($"/notifications/{id}/read", null)).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.PostAsync($"/notifications/{id}/read", null)).AssertError(HttpStatusCode.NotFound, "request");
        (await user.PostAsync($"/notifications/{Guid.CreateVersion7()}/read", null)).AssertError(HttpStatusCode.NotFound, "request");
        (await user.PostAsync("/notifications/not-a-uuid/read", null)).AssertError(HttpStatusCode.BadRequest, "id");

        Assert.Equal(JsonValueKind.Null, Assert.Single(await NotificationsAsync(user)).GetProperty("read_at").ValueKind);
    }

    [Fact]
    public async Task ReadAllMarksEveryUnreadNotificationAndCountsThem()
    {
        var (agent, user, session) = await server.ConversationAsync();
        for (var i = 0; i < 3; i++) await agent.SendMessageAsync(session, $"reply {i}");
        var first = (await NotificationsAsync(user)).Last().Text("id");
        var firstRead = (await user.PostAsync($"/notifications/{first}/read", null)).AssertStatus(HttpStatusCode.OK).Data.Text("read_at");
        var colleague = server.TenantUser(user.TenantId);
        await colleague.SendMessageAsync(session, "me too");
        await agent.SendMessageAsync(session, "for both of you");

        var marked = (await user.PostAsync("/notifications/read-all", null)).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(3, marked.Data.GetProperty("marked").GetInt32());

        Assert.Empty(await NotificationsAsync(user, "unread=true"));
        var all = await NotificationsAsync(user);
        Assert.Equal(4, all.Count);
        Assert.All(all, n => Assert.Matches(Formats.Timestamp, n.Text("read_at")));
        Assert.Equal(firstRead, all.Single(n => n.Text("id") == first).Text("read_at"));

        // Nobody else's notifications were touched, and a second read-all has nothing left to do.
        Assert.Single(await NotificationsAsync(colleague, "unread=true"));
        var again = (await user.PostAsync("/notifications/read-all", null)).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, again.Data.GetProperty("marked").GetInt32());
    }

    [Fact]
    public async Task NotificationsStayInTheirTenant()
    {
        var userId = LivechatServer.NewUserId();
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var here = server.TenantUser(tenant, userId);
        var there = await KnownUserAsync(await server.NewTenantAsync());
        var sameUserThere = server.TenantUser(there.TenantId, userId);
        var session = await here.StartSessionAsync(agent.UserId);
        await agent.SendMessageAsync(session, "hello");

        Assert.Single(await NotificationsAsync(here));
        Assert.Empty(await NotificationsAsync(sameUserThere));
        Assert.Empty(await NotificationsAsync(there));
        Assert.Equal(0, (await sameUserThere.PostAsync("/notifications/read-all", null)).AssertStatus(HttpStatusCode.OK).Data.GetProperty("marked").GetInt32());
        Assert.Single(await NotificationsAsync(here, "unread=true"));
    }
}

public sealed class NotificationTestsOnSqlite(SqliteServer server) : NotificationTests(server), IClassFixture<SqliteServer>;

public sealed class NotificationTestsOnPostgres(PostgresServer server) : NotificationTests(server), IClassFixture<PostgresServer>;
