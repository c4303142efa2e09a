using System.Net;
using Livechat.Auth;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>
/// An expected outcome is a value, not a failure (ADR 0029): a send to a closed session inside a busy batch writes
/// nothing of its own (no message, no notification, no outbox row, no read-marker move) and answers 409, while
/// every write around it commits as it ran. On PostgreSQL no batch is rolled back and run again for it.
/// </summary>
public abstract class ExpectedOutcomeTests(LivechatServer server)
{
    private const string Hook = "https://93.184.215.14/hook";

    /// <summary>How many batches the PostgreSQL engine ran again write by write (SQLite never does).</summary>
    private long BatchesRunAlone => server.Services.GetRequiredService<Database>() is PostgresDatabase postgres ? postgres.BatchesRunAlone : 0;

    private Task<int> CountAsync(string table, long tenant, string where = "TRUE") =>
        // An update that changes nothing answers how many rows it matched: a count through the service's own writer.
        server.ExecuteSqlAsync($"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = @tenant AND {where}", ("tenant", tenant));

    [Fact]
    public async Task ASendToAClosedSessionInABusyBatchStoresNothingAndItsNeighboursCommit()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var user = server.TenantUser(tenant);
        var admin = new Caller(server, LivechatServer.NewUserId(), tenant, [Roles.SupportAdmin]);
        (await admin.PostAsync("/webhooks", new { url = Hook, events = new[] { "*" } })).AssertStatus(HttpStatusCode.Created);
        // The closed session has a participant (a reply there would notify it) and one message the agent has not read.
        var closed = await user.StartSessionAsync(agent.UserId);
        await user.SendMessageAsync(closed, "before it closed");
        (await agent.PatchAsync($"/livechat/sessions/{closed}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var session = await user.StartSessionAsync(agent.UserId);
        var notificationsBefore = await CountAsync("notifications", tenant);
        var closedNotificationsBefore = await CountAsync("notifications", tenant, $"session_id = '{closed}'");
        var eventsBefore = await CountAsync("webhook_events", tenant, "type = 'message.created'");
        var deliveriesBefore = await CountAsync("webhook_deliveries", tenant, "event_type = 'message.created'");
        var runAlone = BatchesRunAlone;

        // 40 sends to the open session, both sides, and the agent's reply to the closed one in the middle of them.
        var texts = Enumerable.Range(0, 40).Select(i => $"busy {i}").ToList();
        var sends = texts.Select((text, i) => (i % 2 == 0 ? agent : user).PostAsync($"/livechat/sessions/{session}/messages", new { message = text })).ToList();
        var toClosed = agent.PostAsync($"/livechat/sessions/{closed}/messages", new { message = "too late" });
        sends.AddRange(texts.Select((text, i) => (i % 2 == 0 ? user : agent).PostAsync($"/livechat/sessions/{session}/messages", new { message = text + " again" })));

        (await toClosed).AssertError(HttpStatusCode.Conflict, "request");
        foreach (var reply in await Task.WhenAll(sends)) reply.AssertStatus(HttpStatusCode.Created);

        // The neighbours committed, each once.
        var stored = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK).Data
            .EnumerateArray().Select(m => m.GetProperty("message").GetString()).ToList();
        Assert.Equal(texts.Concat(texts.Select(t => t + " again")).Order(), stored.Order());
        Assert.Equal(runAlone, BatchesRunAlone);
        // Nothing of the failed send: no message, no read-marker move, and only the neighbours' notifications and outbox rows.
        Assert.Equal(["before it closed"], (await agent.GetAsync($"/livechat/sessions/{closed}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data
            .EnumerateArray().Select(m => m.GetProperty("message").GetString()));
        Assert.Equal(1, (await agent.GetAsync($"/livechat/sessions/{closed}")).AssertStatus(HttpStatusCode.OK).Data.GetProperty("unread_count").GetInt64());
        // Each send notifies the other side: the agent's replies the user, the user's messages the agent (section 18).
        Assert.Equal(notificationsBefore + 2 * texts.Count, await CountAsync("notifications", tenant));
        Assert.Equal(closedNotificationsBefore, await CountAsync("notifications", tenant, $"session_id = '{closed}'"));
        Assert.Equal(eventsBefore + 2 * texts.Count, await CountAsync("webhook_events", tenant, "type = 'message.created'"));
        Assert.Equal(deliveriesBefore + 2 * texts.Count, await CountAsync("webhook_deliveries", tenant, "event_type = 'message.created'"));
    }

    /// <summary>
    /// The event of a send that did not happen is not published: a participant of the closed session, who would
    /// hear its messages on their stream, gets nothing of it before the control that follows it on the same stream.
    /// </summary>
    [Fact]
    public async Task ASendToAClosedSessionIsPushedToNobody()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var user = server.TenantUser(tenant);
        var closed = await user.StartSessionAsync(agent.UserId);
        await user.SendMessageAsync(closed, "before it closed");
        (await agent.PatchAsync($"/livechat/sessions/{closed}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var session = await user.StartSessionAsync(agent.UserId);
        await using var stream = await SseClient.OpenUserStreamAsync(server, user);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);

        (await agent.PostAsync($"/livechat/sessions/{closed}/messages", new { message = "too late" })).AssertError(HttpStatusCode.Conflict, "request");
        var control = await agent.SendMessageAsync(session, "the control");

        var events = await stream.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("id") == control.Text("id"));
        Assert.DoesNotContain(events, e => e.Data.ToString().Contains(closed, StringComparison.Ordinal));
    }

    /// <summary>
    /// Plain messages of a tenant this process saw without a webhook send no outbox rows; one enabled behind its
    /// back is found by the batch's check, whose reader adds the skipped rows as follow-ups before the commit: every
    /// message of the burst gets its event, and no batch runs again for it.
    /// </summary>
    [Fact]
    public async Task AWebhookEnabledBehindTheServicesBackGetsEveryMessageOfTheNextBurstWithoutABatchRunAgain()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var tenant = agent.TenantId;
        var admin = new Caller(server, LivechatServer.NewUserId(), tenant, [Roles.SupportAdmin]);
        var webhook = (await admin.PostAsync("/webhooks", new { url = Hook, events = new[] { "message.created" } })).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        (await admin.PatchAsync($"/webhooks/{webhook}", new { enabled = false })).AssertStatus(HttpStatusCode.OK);
        for (var i = 0; i < 3; i++) await user.SendMessageAsync(session, $"while it is disabled {i}");
        Assert.Equal(1, await server.ExecuteSqlAsync("UPDATE webhooks SET enabled = TRUE WHERE tenant_id = @tenant", ("tenant", tenant)));
        var runAlone = BatchesRunAlone;

        var sends = Enumerable.Range(0, 30).Select(i => (i % 2 == 0 ? agent : user).PostAsync($"/livechat/sessions/{session}/messages", new { message = $"after {i}" }));
        foreach (var reply in await Task.WhenAll(sends)) reply.AssertStatus(HttpStatusCode.Created);

        Assert.Equal(30, await CountAsync("webhook_events", tenant, "type = 'message.created'"));
        Assert.Equal(30, await CountAsync("webhook_deliveries", tenant, "event_type = 'message.created'"));
        Assert.Equal(runAlone, BatchesRunAlone);
    }
}

public sealed class ExpectedOutcomeTestsOnSqlite(SqliteServer server) : ExpectedOutcomeTests(server), IClassFixture<SqliteServer>;

public sealed class ExpectedOutcomeTestsOnPostgres(PostgresServer server) : ExpectedOutcomeTests(server), IClassFixture<PostgresServer>;
