using System.Globalization;
using System.Net;
using System.Text.Json;
using Livechat.Data;
using Microsoft.AspNetCore.SignalR.Client;
using Livechat.Tests.Infrastructure;
using Livechat.Tests.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using static Livechat.Tests.Attachments.AttachmentKit;

namespace Livechat.Tests.Attachments;

/// <summary>Attachment limits and loopback webhooks: SQLite with the disk store.</summary>
public sealed class SendingAttachmentsSqliteServer : WebhookServer
{
    public SendingAttachmentsSqliteServer() : base(DatabaseProvider.Sqlite) => AttachmentSettings.Apply(this, databaseStore: false);
}

/// <summary>Attachment limits and loopback webhooks: PostgreSQL with the database store.</summary>
public sealed class SendingAttachmentsPostgresServer : WebhookServer
{
    public SendingAttachmentsPostgresServer() : base(DatabaseProvider.Postgres) => AttachmentSettings.Apply(this, databaseStore: true);
}

/// <summary>Contract section 15, sending: <c>attachment_ids</c> on a message, and <c>ChatMessage.attachments</c> wherever a message appears.</summary>
public abstract class SendingAttachmentsTests(WebhookServer server)
{
    private static readonly string[] SeedMessageFields = ["id", "session_id", "sender_id", "message", "created_at"];

    private static async Task<string> UploadedAsync(Caller caller, string session, byte[] bytes, string fileName) =>
        (await caller.UploadAsync(session, bytes, fileName)).AssertStatus(HttpStatusCode.Created).Data.Text("id");

    private Task<Reply> SendAsync(Caller caller, string session, object body) => caller.PostAsync($"/livechat/sessions/{session}/messages", body);

    private async Task<long> CountAsync(string sql, params (string Name, object? Value)[] parameters) =>
        await server.Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql(sql);
            foreach (var (name, value) in parameters) command.With(name, value);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        }, CancellationToken.None);

    private Task<long> MessagesInAsync(string session) =>
        CountAsync("SELECT count(*) FROM chat_messages WHERE session_id = @session", ("session", Guid.Parse(session)));

    private Task<long> TakenAsync(long tenant) =>
        CountAsync("SELECT count(*) FROM attachments WHERE tenant_id = @tenant AND message_id IS NOT NULL", ("tenant", tenant));

    private static void AssertAttachments(JsonElement message, params (string Id, string Name)[] expected)
    {
        var attachments = message.GetProperty("attachments").EnumerateArray().ToList();
        Assert.Equal(expected.Select(e => e.Id), attachments.Select(a => a.Text("id")));
        Assert.Equal(expected.Select(e => e.Name), attachments.Select(a => a.Text("file_name")));
        foreach (var attachment in attachments)
        {
            Assert.Equal("ready", attachment.Text("status"));
            Assert.Matches("^/livechat/attachments/[0-9a-f-]{36}/content\\?expires=[0-9]+&sig=[0-9a-f]{64}$", attachment.Text("url"));
        }
    }

    private static long ExpiresOf(string url) =>
        long.Parse(System.Web.HttpUtility.ParseQueryString(url[url.IndexOf('?', StringComparison.Ordinal)..])["expires"]!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task AMessageCarriesItsAttachmentsInTheAnswerListsPushesStreamsReplaysAndWebhooks()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var admin = ((WebhookServer)server).Admin(user.TenantId);
        var hook = server.Receiver.NewEndpoint();
        await WebhookTests.CreateAsync(admin, hook, "message.created");
        var plain = await user.SendMessageAsync(session, "hello");
        // A message without files is the seed's shape, exactly.
        Assert.True(plain.EnumerateObject().Select(p => p.Name).ToHashSet().SetEquals(SeedMessageFields));

        await using var hub = await HubClient.ConnectAsync(server, agent);
        await hub.Connection.InvokeAsync("JoinSession", session);
        await using var sessionStream = await SseClient.OpenAsync(server, agent, session);
        await using var agentStream = await SseClient.OpenUserStreamAsync(server, agent);

        var picture = await UploadedAsync(user, session, Png, "screen.png");
        var invoice = await UploadedAsync(user, session, Pdf, "invoice.pdf");
        // Named in any order, carried in upload order; without a text, the names are the text.
        var sent = (await SendAsync(user, session, new { attachment_ids = new[] { invoice, picture } })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal("screen.png, invoice.pdf", sent.Text("message"));
        AssertAttachments(sent, (picture, "screen.png"), (invoice, "invoice.pdf"));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.InRange(ExpiresOf(sent.GetProperty("attachments")[0].Text("url")) - now, 14 * 60, 16 * 60);
        using (var download = await DownloadAsync(server, sent.GetProperty("attachments")[1].Text("url")))
            Assert.Equal(Pdf, await download.Content.ReadAsByteArrayAsync());
        // Sent, the session's participants see it: the agent, who could not while it was staged.
        (await agent.GetAsync($"/livechat/attachments/{picture}")).AssertStatus(HttpStatusCode.OK);

        var pushed = await hub.NextAsync("messageCreated", m => m.Text("id") == sent.Text("id"));
        AssertAttachments(pushed, (picture, "screen.png"), (invoice, "invoice.pdf"));
        var streamed = await sessionStream.NextAsync();
        while (streamed.Id != sent.Text("id")) streamed = await sessionStream.NextAsync();
        AssertAttachments(streamed.Data, (picture, "screen.png"), (invoice, "invoice.pdf"));
        var onUserStream = await agentStream.NextNamedAsync("messageCreated");
        while (onUserStream.Text("id") != sent.Text("id")) onUserStream = await agentStream.NextNamedAsync("messageCreated");
        AssertAttachments(onUserStream, (picture, "screen.png"), (invoice, "invoice.pdf"));

        var listed = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal(2, listed.Count);
        Assert.False(listed[0].TryGetProperty("attachments", out _));
        AssertAttachments(listed[1], (picture, "screen.png"), (invoice, "invoice.pdf"));
        var backward = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=1&direction=backward")).AssertStatus(HttpStatusCode.OK).Data[0];
        AssertAttachments(backward, (picture, "screen.png"), (invoice, "invoice.pdf"));

        // A stream resuming after the plain message replays this one from the database, with its files.
        await using (var resumed = await SseClient.OpenAsync(server, agent, session, lastEventId: plain.Text("id")))
        {
            var replayed = await resumed.NextAsync();
            Assert.Equal(sent.Text("id"), replayed.Id);
            AssertAttachments(replayed.Data, (picture, "screen.png"), (invoice, "invoice.pdf"));
        }

        // Webhooks: the same attachments, their links valid 24 h.
        var delivered = (await server.Receiver.WaitForAsync(hook, "message.created", count: 2))
            .Select(r => r.Json.GetProperty("data")).Single(d => d.Text("id") == sent.Text("id"));
        AssertAttachments(delivered, (picture, "screen.png"), (invoice, "invoice.pdf"));
        Assert.InRange(ExpiresOf(delivered.GetProperty("attachments")[0].Text("url")) - now, 24 * 3600 - 60, 24 * 3600 + 60);
        using (var download = await DownloadAsync(server, delivered.GetProperty("attachments")[0].Text("url")))
            Assert.Equal(Png, await download.Content.ReadAsByteArrayAsync());
    }

    /// <summary>A search hit's message is the message as every read shows it: with its files and fresh links; a hit without files has none.</summary>
    [Fact]
    public async Task ASearchHitCarriesItsMessagesAttachments()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var word = "invoice" + Guid.NewGuid().ToString("N")[..8];
        var picture = await UploadedAsync(user, session, Png, "invoice.png");
        var sent = (await SendAsync(user, session, new { message = $"the {word} as a picture", attachment_ids = new[] { picture } }))
            .AssertStatus(HttpStatusCode.Created).Data;
        await user.SendMessageAsync(session, $"and the {word} in words");

        var hits = (await agent.GetAsync($"/livechat/search?q={word}")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal(2, hits.Count);
        Assert.False(hits[0].GetProperty("message").TryGetProperty("attachments", out _)); // the newest, without files
        var carrying = hits[1].GetProperty("message");
        Assert.Equal(sent.Text("id"), carrying.Text("id"));
        AssertAttachments(carrying, (picture, "invoice.png"));
        var download = await DownloadAsync(server, carrying.GetProperty("attachments")[0].Text("url"));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(Png, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ATextIsKeptAndAResendByClientMessageIdAnswersTheFirstWithItsFiles()
    {
        var (_, user, session) = await server.ConversationAsync();
        var file = await UploadedAsync(user, session, Pdf, "manual.pdf");
        var body = new { message = "See the manual", attachment_ids = new[] { file }, client_message_id = "c-1" };
        var first = (await SendAsync(user, session, body)).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal("See the manual", first.Text("message"));
        AssertAttachments(first, (file, "manual.pdf"));
        var again = (await SendAsync(user, session, body)).AssertStatus(HttpStatusCode.Created);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Text("id"), again.Data.Text("id"));
        AssertAttachments(again.Data, (file, "manual.pdf"));
        Assert.Equal(1, await MessagesInAsync(session));
    }

    [Fact]
    public async Task BadAttachmentIdsAre400AndStoreNothing()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var mine = await UploadedAsync(user, session, Png, "a.png");
        var agents = await UploadedAsync(agent, session, Png, "b.png");
        var otherAgent = server.Agent(user.TenantId);
        await otherAgent.GoOnlineAsync();
        var otherSession = await server.TenantUser(user.TenantId).StartSessionAsync(otherAgent.UserId);
        var elsewhere = await UploadedAsync(agent, otherSession, Png, "c.png");
        var stranger = await server.ConversationAsync();
        var foreign = await UploadedAsync(stranger.User, stranger.Session, Png, "d.png");
        var sent = await UploadedAsync(user, session, Pdf, "e.pdf");
        (await SendAsync(user, session, new { attachment_ids = new[] { sent } })).AssertStatus(HttpStatusCode.Created);
        var messages = await MessagesInAsync(session);
        var many = Enumerable.Range(0, 11).Select(_ => Guid.CreateVersion7().ToString()).ToArray();

        object[] refused =
        [
            new { attachment_ids = mine }, // not a list
            new { attachment_ids = Array.Empty<string>() },
            new { attachment_ids = many },
            new { attachment_ids = new[] { "not-a-uuid" } },
            new { attachment_ids = new object[] { 42 } },
            new { attachment_ids = new[] { mine, mine } },
            new { attachment_ids = new[] { mine, Guid.CreateVersion7().ToString() } }, // unknown
            new { attachment_ids = new[] { mine, agents } }, // another user's
            new { attachment_ids = new[] { mine, foreign } }, // another tenant's
            new { attachment_ids = new[] { mine, sent } }, // already sent
        ];
        foreach (var body in refused)
        {
            var reply = await SendAsync(user, session, body);
            Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{JsonSerializer.Serialize(body)}: {(int)reply.Status} {reply.Text}");
            reply.AssertError(HttpStatusCode.BadRequest, "attachment_ids");
        }
        // Another session's upload, sent by its own uploader into this one.
        (await SendAsync(agent, session, new { attachment_ids = new[] { elsewhere } })).AssertError(HttpStatusCode.BadRequest, "attachment_ids");
        // Without attachments the text is still required.
        (await SendAsync(user, session, new { attachment_ids = (string[]?)null })).AssertError(HttpStatusCode.BadRequest, "message");
        // With them, a text that is given must still be a good one.
        (await SendAsync(user, session, new { message = 5, attachment_ids = new[] { mine } })).AssertError(HttpStatusCode.BadRequest, "message");
        (await SendAsync(user, session, new { message = new string('x', 5001), attachment_ids = new[] { mine } })).AssertError(HttpStatusCode.BadRequest, "message");

        Assert.Equal(messages, await MessagesInAsync(session));
        Assert.Equal(1, await TakenAsync(user.TenantId));
        (await agent.GetAsync($"/livechat/attachments/{mine}")).AssertError(HttpStatusCode.NotFound, "request"); // still staged
        // The positive control: the same upload sends.
        (await SendAsync(user, session, new { attachment_ids = new[] { mine } })).AssertStatus(HttpStatusCode.Created);
        Assert.Equal(messages + 1, await MessagesInAsync(session));
    }

    [Fact]
    public async Task AScanningUploadIs409ARejectedOne400AndAClosedSession409()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var file = await UploadedAsync(user, session, Png, "a.png");
        await server.ExecuteSqlAsync("UPDATE attachments SET status = 'scanning' WHERE id = @id", ("id", Guid.Parse(file)));
        (await SendAsync(user, session, new { attachment_ids = new[] { file } })).AssertError(HttpStatusCode.Conflict, "attachment_ids");
        await server.ExecuteSqlAsync("UPDATE attachments SET status = 'rejected' WHERE id = @id", ("id", Guid.Parse(file)));
        (await SendAsync(user, session, new { attachment_ids = new[] { file } })).AssertError(HttpStatusCode.BadRequest, "attachment_ids");
        Assert.Equal(0, await MessagesInAsync(session));

        var ready = await UploadedAsync(user, session, Png, "b.png");
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        (await SendAsync(user, session, new { attachment_ids = new[] { ready } })).AssertError(HttpStatusCode.Conflict, "request");
        (await SendAsync(user, Guid.CreateVersion7().ToString(), new { attachment_ids = new[] { ready } })).AssertError(HttpStatusCode.NotFound, "request");
        Assert.Equal(0, await MessagesInAsync(session));
        Assert.Equal(0, await TakenAsync(user.TenantId));
    }

    [Fact]
    public async Task OfConcurrentSendsOfOneUploadOneTakesIt()
    {
        var (_, user, session) = await server.ConversationAsync();
        var file = await UploadedAsync(user, session, Png, "a.png");
        var replies = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => SendAsync(user, session, new { attachment_ids = new[] { file } })));
        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        foreach (var refused in replies.Where(r => r.Status != HttpStatusCode.Created)) refused.AssertError(HttpStatusCode.BadRequest, "attachment_ids");
        Assert.Equal(1, await MessagesInAsync(session));
        Assert.Equal(1, await TakenAsync(user.TenantId));
    }

    [Fact]
    public async Task ASendThatLostOneOfItsUploadsToAnotherGivesTheOthersBack()
    {
        var (_, user, session) = await server.ConversationAsync();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var a = await UploadedAsync(user, session, Png, "a.png");
            var b = await UploadedAsync(user, session, Pdf, "b.pdf");
            var before = await MessagesInAsync(session);
            // Both pass the read before the write; whichever writes second finds b taken.
            var replies = await Task.WhenAll(SendAsync(user, session, new { attachment_ids = new[] { a, b } }), SendAsync(user, session, new { attachment_ids = new[] { b } }));
            var won = Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
            Assert.Single(replies, r => r.Status == HttpStatusCode.BadRequest).AssertError(HttpStatusCode.BadRequest, "attachment_ids");
            Assert.Equal(before + 1, await MessagesInAsync(session));
            if (won.Data.GetProperty("attachments").GetArrayLength() == 1)
            {
                // The pair lost b: a was taken with it for a moment, and is staged again, so it sends.
                (await SendAsync(user, session, new { attachment_ids = new[] { a } })).AssertStatus(HttpStatusCode.Created);
            }
        }
    }
}

public sealed class SendingAttachmentsTestsOnSqlite(SendingAttachmentsSqliteServer server)
    : SendingAttachmentsTests(server), IClassFixture<SendingAttachmentsSqliteServer>;

public sealed class SendingAttachmentsTestsOnPostgres(SendingAttachmentsPostgresServer server)
    : SendingAttachmentsTests(server), IClassFixture<SendingAttachmentsPostgresServer>;
