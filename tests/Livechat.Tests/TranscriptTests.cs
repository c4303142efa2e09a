using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Livechat.Data;
using Livechat.Tests.Attachments;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>
/// Contract section 19, transcripts: a session's conversation as a txt, json or html download, oldest first, with names,
/// times in tz and files by name; internal notes only for agents; streamed as it is read (ADR 0040).
/// </summary>
public abstract class TranscriptTests(LivechatServer server)
{
    private static readonly TimeZoneInfo Jakarta = TimeZoneInfo.FindSystemTimeZoneById("Asia/Jakarta");

    private static string TranscriptOf(string session, string query = "") => $"/livechat/sessions/{session}/transcript{query}";

    /// <summary>A download as it comes: status, headers and the body as text (a failure's body is still the envelope).</summary>
    private sealed record Download(HttpStatusCode Status, string? ContentType, ContentDispositionHeaderValue? Disposition, HttpResponseMessage Response, string Text)
    {
        public JsonElement Json => JsonDocument.Parse(Text).RootElement.Clone();

        public string[] Lines => Text.Split('\n');
    }

    private async Task<Download> DownloadAsync(Caller caller, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        request.Headers.Add("X-Tenant-ID", caller.TenantId.ToString(CultureInfo.InvariantCulture));
        var response = await server.Http.SendAsync(request);
        if (response.Headers.TryGetValues(OpenApiStatuses.Header, out var undocumented)) throw new Xunit.Sdk.XunitException(undocumented.First());
        return new Download(response.StatusCode, response.Content.Headers.ContentType?.ToString(), response.Content.Headers.ContentDisposition, response,
            await response.Content.ReadAsStringAsync());
    }

    private async Task<Download> OkAsync(Caller caller, string path)
    {
        var download = await DownloadAsync(caller, path);
        Assert.True(download.Status == HttpStatusCode.OK, $"Expected 200, got {(int)download.Status}: {download.Text}");
        return download;
    }

    private static string Local(JsonElement message) =>
        TimeZoneInfo.ConvertTime(DateTimeOffset.Parse(message.Text("created_at"), CultureInfo.InvariantCulture), Jakarta)
            .ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>A named agent and customer, a session the customer started, and what was said in it: a line, a note, two lines with a file.</summary>
    private async Task<(Caller Agent, Caller Customer, string Session, JsonElement[] Messages)> ConversationAsync()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant, name: "Carl Customer");
        var session = await customer.StartSessionAsync(agent.UserId);
        var hello = await customer.SendMessageAsync(session, "Hello, my invoice shows the wrong plan.");
        var note = (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "Billing moved him by mistake: ask Dewi.", @internal = true }))
            .AssertStatus(HttpStatusCode.Created).Data;
        var file = (await agent.UploadAsync(session, AttachmentKit.Pdf, "invoice-1042.pdf")).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        var reply = (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "Corrected.\nHere is the new invoice.", attachment_ids = new[] { file } }))
            .AssertStatus(HttpStatusCode.Created).Data;
        return (agent, customer, session, [hello, note, reply]);
    }

    [Fact]
    public async Task AnAgentsTextTranscriptHoldsEveryMessageNamedInTheCallersZoneWithFilesAndNotes()
    {
        var (agent, _, session, said) = await ConversationAsync();
        var download = await OkAsync(agent, TranscriptOf(session, "?format=txt&tz=Asia/Jakarta"));

        Assert.Equal("text/plain; charset=utf-8", download.ContentType);
        Assert.Equal("attachment", download.Disposition!.DispositionType);
        Assert.Equal($"transcript-{session}.txt", download.Disposition.FileName?.Trim('"'));
        Assert.Equal("nosniff", download.Response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-store", download.Response.Headers.CacheControl?.ToString());
        var lines = download.Lines;
        Assert.Equal("Chat transcript", lines[0]);
        Assert.Contains($"Session:  {session}", lines);
        Assert.Contains($"Customer: Carl Customer (user {said[0].GetProperty("sender_id").GetInt64()})", lines);
        Assert.Contains($"Agent:    Ann Agent (user {agent.UserId})", lines);
        Assert.Contains("Times in: Asia/Jakarta (UTC+07:00)", lines);
        var body = lines.SkipWhile(l => l.Length > 0).Skip(1).ToArray();
        Assert.Equal([
            $"[{Local(said[0])}] Carl Customer: Hello, my invoice shows the wrong plan.",
            $"[{Local(said[1])}] Ann Agent [internal note]: Billing moved him by mistake: ask Dewi.",
            $"[{Local(said[2])}] Ann Agent: Corrected.",
            "    Here is the new invoice.",
            $"    [attachment] invoice-1042.pdf (application/pdf, {AttachmentKit.Pdf.Length} B)",
            "",
            "End of transcript: 3 messages.",
            "",
        ], body);
    }

    [Fact]
    public async Task ATenantUsersTranscriptNeverHoldsANoteInAnyFormat()
    {
        var (_, customer, session, said) = await ConversationAsync();
        var noteText = said[1].Text("message");

        var text = (await OkAsync(customer, TranscriptOf(session))).Text;
        Assert.Contains("Carl Customer: Hello, my invoice shows the wrong plan.", text); // the positive control: the messages around the note are there
        Assert.Contains("Ann Agent: Corrected.", text);
        Assert.Contains("End of transcript: 2 messages.", text);
        var html = (await OkAsync(customer, TranscriptOf(session, "?format=html"))).Text;
        Assert.Contains("Hello, my invoice shows the wrong plan.", html);
        var json = (await OkAsync(customer, TranscriptOf(session, "?format=json"))).Json;
        Assert.Equal([said[0].Text("id"), said[2].Text("id")], json.GetProperty("data").GetProperty("messages").EnumerateArray().Select(m => m.Text("id")));
        foreach (var body in new[] { text, html, json.ToString() })
        {
            Assert.DoesNotContain(noteText, body, StringComparison.Ordinal);
            Assert.DoesNotContain("ask Dewi", body, StringComparison.Ordinal);
            Assert.DoesNotContain(said[1].Text("id"), body, StringComparison.Ordinal);
            Assert.DoesNotContain("internal note", body, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task TheJsonTranscriptIsTheEnvelopeWithTheSessionAndEachMessageInUtcAndInTheZone()
    {
        var (agent, _, session, said) = await ConversationAsync();
        var download = await OkAsync(agent, TranscriptOf(session, "?format=json&tz=Asia/Jakarta"));
        Assert.Equal("application/json; charset=utf-8", download.ContentType);
        Assert.Equal($"transcript-{session}.json", download.Disposition!.FileName?.Trim('"'));
        var root = download.Json;
        Assert.Equal(["success", "message", "data", "meta", "errors"], root.EnumerateObject().Select(p => p.Name));
        Assert.True(root.GetProperty("success").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("errors").ValueKind);
        Assert.Equal(download.Response.Headers.GetValues("X-Request-ID").Single(), root.GetProperty("meta").Text("request_id"));
        Assert.Matches(Formats.Timestamp, root.GetProperty("meta").Text("timestamp"));
        var data = root.GetProperty("data");
        Assert.Equal(session, data.GetProperty("session").Text("id"));
        Assert.Equal("Carl Customer", data.GetProperty("session").Text("customer_name"));
        Assert.Equal("Asia/Jakarta", data.Text("time_zone"));
        var messages = data.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(said.Select(m => m.Text("id")), messages.Select(m => m.Text("id")));
        for (var i = 0; i < said.Length; i++)
        {
            Assert.Equal(said[i].Text("created_at"), messages[i].Text("created_at"));
            Assert.Equal(said[i].Text("message"), messages[i].Text("message"));
            Assert.Equal(said[i].GetProperty("sender_id").GetInt64(), messages[i].GetProperty("sender_id").GetInt64());
            var local = DateTimeOffset.ParseExact(messages[i].Text("local_time"), "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
            Assert.Equal(TimeSpan.FromHours(7), local.Offset);
            Assert.Equal(DateTimeOffset.Parse(said[i].Text("created_at"), CultureInfo.InvariantCulture).ToUnixTimeSeconds(), local.ToUnixTimeSeconds());
        }
        Assert.Equal(["Carl Customer", "Ann Agent", "Ann Agent"], messages.Select(m => m.Text("sender_name")));
        Assert.Equal([false, true, true], messages.Select(m => m.GetProperty("sender_is_agent").GetBoolean()));
        Assert.True(messages[1].GetProperty("internal").GetBoolean());
        Assert.False(messages[0].TryGetProperty("internal", out _));
        Assert.False(messages[0].TryGetProperty("attachments", out _));
        var file = messages[2].GetProperty("attachments").EnumerateArray().Single();
        Assert.Equal(said[2].GetProperty("attachments")[0].Text("id"), file.Text("id"));
        Assert.Equal("invoice-1042.pdf", file.Text("file_name"));
        Assert.Equal("application/pdf", file.Text("content_type"));
        Assert.Equal(AttachmentKit.Pdf.Length, file.GetProperty("size").GetInt64());
        Assert.False(file.TryGetProperty("url", out _)); // an archive holds no link that expires
    }

    [Fact]
    public async Task TheHtmlTranscriptEscapesEverythingTheDataSaysAndRunsNoScript()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "<img src=x onerror=alert(1)>");
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant, name: "Tom & \"Jerry\"");
        var session = await customer.StartSessionAsync(agent.UserId);
        await customer.SendMessageAsync(session, "<script>alert('pwned')</script> & </li></ol><h1>fake</h1>");
        var file = (await customer.UploadAsync(session, AttachmentKit.Pdf, "<em>bold<em>.pdf")).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        (await customer.PostAsync($"/livechat/sessions/{session}/messages", new { attachment_ids = new[] { file } })).AssertStatus(HttpStatusCode.Created);
        await agent.SendMessageAsync(session, "plain reply");

        var download = await OkAsync(agent, TranscriptOf(session, "?format=html"));
        Assert.Equal("text/html; charset=utf-8", download.ContentType);
        Assert.Equal($"transcript-{session}.html", download.Disposition!.FileName?.Trim('"'));
        Assert.StartsWith("sandbox", download.Response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = download.Text;
        Assert.StartsWith("<!doctype html>", html, StringComparison.Ordinal);
        Assert.Contains("content=\"default-src 'none'; style-src 'unsafe-inline'\"", html);
        Assert.Contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; &amp; &lt;/li&gt;&lt;/ol&gt;&lt;h1&gt;fake&lt;/h1&gt;", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html);
        Assert.Contains("Tom &amp; &quot;Jerry&quot;", html);
        Assert.Contains("&lt;em&gt;bold&lt;em&gt;.pdf", html);
        Assert.Contains("plain reply", html);
        // The page's own markup is all there is: one of each, and no tag that came from the data.
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<em>", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(html, "<h1>"));
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(html, "</ol>"));
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(html, "<li class="));
    }

    [Fact]
    public async Task TxtIsTheDefaultAndUtcTheDefaultZone()
    {
        var (agent, _, session, said) = await ConversationAsync();
        var download = await OkAsync(agent, TranscriptOf(session));
        Assert.Equal("text/plain; charset=utf-8", download.ContentType);
        Assert.Contains("Times in: UTC (UTC+00:00)", download.Lines);
        var utc = DateTimeOffset.Parse(said[0].Text("created_at"), CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.Contains($"[{utc}] Carl Customer: Hello, my invoice shows the wrong plan.", download.Lines);
    }

    [Theory]
    [InlineData("?format=pdf", "format")]
    [InlineData("?format=TXT", "format")]
    [InlineData("?tz=Mars/Olympus_Mons", "tz")]
    [InlineData("?tz=../../../etc/passwd", "tz")]
    [InlineData("?tz=Asia%2FJakarta%00", "tz")]
    [InlineData("?format=html&tz=%20", "tz")]
    public async Task ABadFormatOrZoneIs400OnItsKey(string query, string key)
    {
        var (agent, _, session, _) = await ConversationAsync();
        (await agent.GetAsync(TranscriptOf(session, query))).AssertError(HttpStatusCode.BadRequest, key);
    }

    [Fact]
    public async Task OnlyTheTenantsAgentsAndTheSessionsOwnUsersGetItAndARefusalChangesNothing()
    {
        var (agent, customer, session, _) = await ConversationAsync();
        var before = (await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data.ToString();
        // The messages as stored (their attachments' signed links change with time, so those are left out).
        async Task<string> MessagesAsync() => string.Join("\n", (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK)
            .Data.EnumerateArray().Select(m => $"{m.Text("id")} {m.GetProperty("sender_id")} {m.Text("message")} {m.Text("created_at")}"));
        var messagesBefore = await MessagesAsync();

        (await agent.GetAsync(TranscriptOf("not-a-uuid"))).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.GetAsync(TranscriptOf(Guid.CreateVersion7().ToString()))).AssertError(HttpStatusCode.NotFound, "request");
        // Another tenant's agent and user: the session does not exist for them.
        var elsewhere = await server.NewTenantAsync();
        (await server.Agent(elsewhere).GetAsync(TranscriptOf(session))).AssertError(HttpStatusCode.NotFound, "request");
        (await server.TenantUser(elsewhere).GetAsync(TranscriptOf(session, "?format=json"))).AssertError(HttpStatusCode.NotFound, "request");
        // The same tenant's other user takes no part in it.
        var stranger = server.TenantUser(agent.TenantId);
        (await stranger.GetAsync(TranscriptOf(session, "?format=html"))).AssertError(HttpStatusCode.Forbidden, "request");
        // No token, a token for another tenant than the header's.
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.SendAsync(HttpMethod.Get, TranscriptOf(session), tenant: agent.TenantId.ToString(CultureInfo.InvariantCulture))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await server.SendAsync(HttpMethod.Get, TranscriptOf(session), server.Agent(elsewhere).Token,
            agent.TenantId.ToString(CultureInfo.InvariantCulture))).Status);

        Assert.Equal(before, (await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data.ToString());
        Assert.Equal(messagesBefore, await MessagesAsync());
        // The positive controls: the session's customer, and a colleague of the agent, get it.
        await OkAsync(customer, TranscriptOf(session));
        await OkAsync(server.Agent(agent.TenantId), TranscriptOf(session));
    }

    [Fact]
    public async Task ATenantUserWhoJoinedAnAgentsSessionByWritingGetsItsTranscript()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var session = await agent.StartSessionAsync();
        var user = server.TenantUser(tenant);
        (await user.GetAsync(TranscriptOf(session))).AssertError(HttpStatusCode.Forbidden, "request");
        await user.SendMessageAsync(session, "I am here too");
        Assert.Contains($"Customer {user.UserId}: I am here too", (await OkAsync(user, TranscriptOf(session))).Text);
    }

    /// <summary>
    /// A session of 4,000 messages of 4,000 characters (16 MB of text) is written as it is read: the client reads the first
    /// lines and then changes the session's last message (a test-only write: messages are never edited); the transcript
    /// shows the change, so its last page was read after its first ones were sent. The client's small receive window
    /// and the server's bounded send buffers (a few MB at most) keep the server that far behind a reader that waits.
    /// </summary>
    [Fact]
    public async Task ALongSessionIsStreamedPageByPageAsItIsRead()
    {
        const int count = 4000;
        var (agent, customer, session) = await server.ConversationAsync();
        var tenant = agent.TenantId;
        var start = DateTimeOffset.UtcNow;
        var lastId = Guid.Empty;
        await server.Services.GetRequiredService<Database>().WriteAsync(async (connection, transaction) =>
        {
            for (var seq = 1; seq <= count; seq++)
            {
                lastId = Guid.CreateVersion7();
                await using var insert = connection.Sql("""
                    INSERT INTO chat_messages (tenant_id, session_id, seq, id, sender_id, message, created_at, internal)
                    VALUES (@tenant, @session, @seq, @id, @sender, @message, @at, FALSE)
                    """, transaction).With("tenant", tenant).With("session", Guid.Parse(session)).With("seq", (long)seq).With("id", lastId)
                    .With("sender", seq % 2 == 0 ? agent.UserId : customer.UserId)
                    .With("message", $"{seq:D4} {new string('x', 3995)}").With("at", start.AddMilliseconds(seq));
                await insert.ExecuteNonQueryAsync();
            }
            await using var bump = connection.Sql("UPDATE chat_sessions SET last_seq = @last WHERE tenant_id = @tenant AND id = @session", transaction)
                .With("last", (long)count).With("tenant", tenant).With("session", Guid.Parse(session));
            return await bump.ExecuteNonQueryAsync();
        }, CancellationToken.None);

        // A client with a small receive buffer (set before it connects, so the window stays small).
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024, NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        using var request = new HttpRequestMessage(HttpMethod.Get, TranscriptOf(session));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.Token);
        request.Headers.Add("X-Tenant-ID", tenant.ToString(CultureInfo.InvariantCulture));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentLength); // chunked: the length is not known before the end
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null && !line.Contains(": 0001 ", StringComparison.Ordinal)) { }
        Assert.NotNull(line);

        Assert.Equal(1, await server.ExecuteSqlAsync("UPDATE chat_messages SET message = 'changed after the download began' WHERE tenant_id = @tenant AND id = @id",
            ("tenant", tenant), ("id", lastId)));

        var messages = 1;
        string? last = null;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            if (!line.StartsWith('[')) continue;
            messages++;
            last = line;
        }
        Assert.Equal(count, messages);
        Assert.EndsWith(": changed after the download began", last, StringComparison.Ordinal);
    }
}

public sealed class TranscriptTestsOnSqlite(SqliteServer server) : TranscriptTests(server), IClassFixture<SqliteServer>;

public sealed class TranscriptTestsOnPostgres(PostgresServer server) : TranscriptTests(server), IClassFixture<PostgresServer>;
