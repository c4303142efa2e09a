using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Livechat.Attachments;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Livechat.Tests.Attachments.AttachmentKit;

namespace Livechat.Tests.Attachments;

/// <summary>Contract section 15 through HTTP: SQLite with the disk store, PostgreSQL with the database store.</summary>
public abstract class AttachmentTests(LivechatServer server)
{
    private async Task<JsonElement> UploadedAsync(Caller caller, string session, byte[] bytes, string fileName = "picture.png") =>
        (await caller.UploadAsync(session, bytes, fileName)).AssertStatus(HttpStatusCode.Created).Data;

    [Fact]
    public async Task AnUploadIsStagedWithItsTypeFromTheBytesAndASignedUrl()
    {
        var (_, user, session) = await server.ConversationAsync();
        var attachment = await UploadedAsync(user, session, Png, "../../etc/screen\u0007shot.png");

        var names = attachment.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.True(names.SetEquals(["id", "session_id", "uploader_id", "file_name", "content_type", "size", "sha256", "status", "created_at", "url"]),
            string.Join(",", names));
        Assert.Matches(Formats.UuidV7, attachment.Text("id"));
        Assert.Equal(session, attachment.Text("session_id"));
        Assert.Equal(user.UserId, attachment.GetProperty("uploader_id").GetInt64());
        Assert.Equal("screenshot.png", attachment.Text("file_name"));
        Assert.Equal("image/png", attachment.Text("content_type"));
        Assert.Equal(Png.Length, attachment.GetProperty("size").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Png)), attachment.Text("sha256"));
        Assert.Equal("ready", attachment.Text("status"));
        Assert.Matches(Formats.Timestamp, attachment.Text("created_at"));
        Assert.Matches("^/livechat/attachments/[0-9a-f-]{36}/content\\?expires=[0-9]+&sig=[0-9a-f]{64}$", attachment.Text("url"));

        // The signed url works without Authorization, with the stored type and the safety headers.
        using var download = await DownloadAsync(server, attachment.Text("url"));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(Png, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", download.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("sandbox", download.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("inline", download.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal("bytes", download.Headers.AcceptRanges.Single());

        var stored = await StoredAsync(server, user.TenantId);
        Assert.Equal((1L, (long)Png.Length, (long)Png.Length), stored);
    }

    [Fact]
    public async Task TextIsADownloadWithItsNameEncodedAndPdfIsInline()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var text = Encoding.UTF8.GetBytes("Rechnung: 12,50 €\nDanke!\n");
        var notes = await UploadedAsync(agent, session, text, "Résumé Q1; final.txt");
        Assert.Equal("text/plain", notes.Text("content_type"));
        using (var download = await DownloadAsync(server, notes.Text("url")))
        {
            Assert.Equal("text/plain", download.Content.Headers.ContentType!.MediaType);
            Assert.Equal("utf-8", download.Content.Headers.ContentType.CharSet);
            var disposition = download.Content.Headers.ContentDisposition!;
            Assert.Equal("attachment", disposition.DispositionType);
            Assert.Equal("Résumé Q1; final.txt", disposition.FileNameStar);
            Assert.Equal(text, await download.Content.ReadAsByteArrayAsync());
        }

        var csv = await UploadedAsync(agent, session, Encoding.UTF8.GetBytes("a,b\n1,2\n"), "export.csv");
        Assert.Equal("text/csv", csv.Text("content_type"));

        var pdf = await UploadedAsync(agent, session, Pdf, "invoice.bin");
        Assert.Equal("application/pdf", pdf.Text("content_type"));
        using (var download = await DownloadAsync(server, pdf.Text("url")))
            Assert.Equal("inline", download.Content.Headers.ContentDisposition!.DispositionType);
    }

    [Fact]
    public async Task OfficeDocumentsAreKnownByTheirZipContents()
    {
        var (agent, _, session) = await server.ConversationAsync();
        Assert.Equal(FileTypes.Docx, (await UploadedAsync(agent, session, Zip("[Content_Types].xml", "word/document.xml"), "a.pdf")).Text("content_type"));
        Assert.Equal(FileTypes.Xlsx, (await UploadedAsync(agent, session, Zip("[Content_Types].xml", "xl/workbook.xml"), "b")).Text("content_type"));
        Assert.Equal(FileTypes.Pptx, (await UploadedAsync(agent, session, Zip("[Content_Types].xml", "ppt/presentation.xml"), "c")).Text("content_type"));
    }

    [Fact]
    public async Task RangeRequestsGetTheirBytesAcrossChunks()
    {
        var (_, user, session) = await server.ConversationAsync();
        var file = PngOfSize((int)AttachmentSettings.MaxBytes); // over two of the database store's 256 KiB chunks
        var url = (await UploadedAsync(user, session, file)).Text("url");

        using var partial = await DownloadAsync(server, url, r => r.Headers.Range = new RangeHeaderValue(262_000, 262_300));
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(file[262_000..262_301], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 262000-262300/{file.Length}", partial.Content.Headers.ContentRange!.ToString());

        using var tail = await DownloadAsync(server, url, r => r.Headers.Range = new RangeHeaderValue(null, 10));
        Assert.Equal(file[^10..], await tail.Content.ReadAsByteArrayAsync());

        using var whole = await DownloadAsync(server, url);
        Assert.Equal(file, await whole.Content.ReadAsByteArrayAsync());

        using var outside = await DownloadAsync(server, url, r => r.Headers.Range = new RangeHeaderValue(file.Length + 10, file.Length + 20));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, outside.StatusCode);
    }

    [Fact]
    public async Task NotMultipartIs415AndStoresNothing()
    {
        var (_, user, session) = await server.ConversationAsync();
        (await user.PostAsync($"/livechat/sessions/{session}/attachments", new { file = "aGVsbG8=" })).AssertError(HttpStatusCode.UnsupportedMediaType, "file");
        await AssertNothingStoredAsync(server, user.TenantId);
    }

    [Fact]
    public async Task NoFileTwoFilesOrAnEmptyFileIs400AndStoresNothing()
    {
        var (_, user, session) = await server.ConversationAsync();
        (await user.UploadAsync(session, Multipart(("note", Encoding.UTF8.GetBytes("just a field"), null)))).AssertError(HttpStatusCode.BadRequest, "file");
        (await user.UploadAsync(session, Multipart(("file", Png, "a.png"), ("file", Png, "b.png")))).AssertError(HttpStatusCode.BadRequest, "file");
        (await user.UploadAsync(session, Multipart(("upload", Png, "a.png")))).AssertError(HttpStatusCode.BadRequest, "file");
        (await user.UploadAsync(session, [], "empty.png")).AssertError(HttpStatusCode.BadRequest, "file");
        await AssertNothingStoredAsync(server, user.TenantId);
    }

    [Theory]
    [InlineData("html")]
    [InlineData("exe")]
    [InlineData("svg")]
    [InlineData("script")]
    [InlineData("zip")]
    [InlineData("latin1")]
    public async Task AFileOfATypeNotAllowedIs400WhateverItsNameAndStoresNothing(string kind)
    {
        var (_, user, session) = await server.ConversationAsync();
        var bytes = kind switch
        {
            "html" => Html,
            "exe" => Exe,
            "svg" => Encoding.UTF8.GetBytes("\n  <svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"),
            "script" => Encoding.UTF8.GetBytes("#!/bin/sh\nrm -rf /\n"),
            "zip" => Zip("readme.txt"),
            _ => [0x52, 0xE9, 0x73, 0x75, 0x6D, 0xE9], // "Résumé" in Latin-1: not UTF-8
        };
        (await user.UploadAsync(session, bytes, "photo.png")).AssertError(HttpStatusCode.BadRequest, "file");
        await AssertNothingStoredAsync(server, user.TenantId);
    }

    [Fact]
    public async Task ALargerFileIs413ByCountingOnAChunkedBodyAndStoresNothing()
    {
        var (_, user, session) = await server.ConversationAsync();
        using var multipart = Multipart(("file", PngOfSize((int)AttachmentSettings.MaxBytes + 1), "big.png"));
        var body = await multipart.ReadAsByteArrayAsync();
        // A stream of unknown length: sent chunked, with no Content-Length to refuse it by.
        var chunked = new StreamContent(new UnknownLengthStream(body));
        chunked.Headers.ContentType = multipart.Headers.ContentType;
        var reply = await user.UploadAsync(session, chunked);
        reply.AssertError(HttpStatusCode.RequestEntityTooLarge, "file");
        await AssertNothingStoredAsync(server, user.TenantId);

        // The limit itself is fine.
        await UploadedAsync(user, session, PngOfSize((int)AttachmentSettings.MaxBytes));
    }

    [Fact]
    public async Task ADeclaredLargerBodyIs413BeforeItIsRead()
    {
        var (_, user, session) = await server.ConversationAsync();
        // Headers only: a body that never comes. The answer can only come from Content-Length.
        using var client = new TcpClient();
        await client.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var stream = client.GetStream();
        var head = $"POST /livechat/sessions/{session}/attachments HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\n" +
                   $"Authorization: Bearer {user.Token}\r\nX-Tenant-ID: {user.TenantId}\r\n" +
                   "Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 50000000\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var status = await reader.ReadLineAsync(timeout.Token);
        Assert.Equal("HTTP/1.1 413 Payload Too Large", status);
        string? line;
        while ((line = await reader.ReadLineAsync(timeout.Token)) is { Length: > 0 }) { }
        var envelope = new char[4096];
        var read = await reader.ReadAsync(envelope, timeout.Token);
        Assert.Contains("\"file\"", new string(envelope, 0, read), StringComparison.Ordinal);
        await AssertNothingStoredAsync(server, user.TenantId);
    }

    [Fact]
    public async Task AnUploadTheClientAbandonsLeavesNothing()
    {
        var (_, user, session) = await server.ConversationAsync();
        using var multipart = Multipart(("file", PngOfSize(500_000), "big.png"));
        var body = await multipart.ReadAsByteArrayAsync();
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
            var stream = client.GetStream();
            var head = $"POST /livechat/sessions/{session}/attachments HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\n" +
                       $"Authorization: Bearer {user.Token}\r\nX-Tenant-ID: {user.TenantId}\r\n" +
                       $"Content-Type: {multipart.Headers.ContentType}\r\nContent-Length: {body.Length}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(body.AsMemory(0, 400_000));
            // The service is writing it (a .part file, or chunk rows in an open transaction); then the client goes away.
            await Eventually.Async(async () => Assert.True(await UploadInProgressAsync(user.TenantId)));
            client.Client.LingerState = new LingerOption(true, 0); // a reset, as a dropped connection
        }
        await Eventually.Async(async () => Assert.False(await UploadInProgressAsync(user.TenantId)));
        await AssertNothingStoredAsync(server, user.TenantId);
    }

    /// <summary>Bytes of an upload are being written: a .part file on disk, or a transaction holding attachment_chunks.</summary>
    private async Task<bool> UploadInProgressAsync(long tenant)
    {
        if (server.Services.GetRequiredService<IAttachmentBytes>() is DiskBytes disk)
        {
            var folder = Path.Combine(disk.Root, tenant.ToString(CultureInfo.InvariantCulture));
            return Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*.part").Any();
        }
        return await server.Services.GetRequiredService<Livechat.Data.Database>().ReadAsync(async connection =>
        {
            await using var command = Livechat.Data.DbCommandExtensions.Sql(connection,
                """
                SELECT count(*) FROM pg_locks WHERE relation = 'attachment_chunks'::regclass AND mode = 'RowExclusiveLock'
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture) > 0;
        }, CancellationToken.None);
    }

    [Fact]
    public async Task AnUploadPastTheTenantsQuotaIs409AndDeletingFreesIt()
    {
        var (_, user, session) = await server.ConversationAsync();
        var file = PngOfSize((int)AttachmentSettings.MaxBytes);
        var first = await UploadedAsync(user, session, file);
        await UploadedAsync(user, session, file);
        var before = await StoredAsync(server, user.TenantId);

        (await user.UploadAsync(session, file)).AssertError(HttpStatusCode.Conflict, "file");
        Assert.Equal(before, await StoredAsync(server, user.TenantId));
        Assert.Equal(2 * file.Length, before.Usage);

        using (var deleted = await server.Http.SendAsync(Request(HttpMethod.Delete, $"/livechat/attachments/{first.Text("id")}", user)))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal((1L, (long)file.Length, (long)file.Length), await StoredAsync(server, user.TenantId));
        await UploadedAsync(user, session, file);
    }

    [Fact]
    public async Task ConcurrentUploadsCannotPassTheQuotaTogether()
    {
        var (_, user, session) = await server.ConversationAsync();
        var file = PngOfSize((int)AttachmentSettings.MaxBytes); // the quota holds two of them
        var replies = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => user.UploadAsync(session, file)));
        Assert.Equal(2, replies.Count(r => r.Status == HttpStatusCode.Created));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => r.AssertError(HttpStatusCode.Conflict, "file"));
        Assert.Equal((2L, 2L * file.Length, 2L * file.Length), await StoredAsync(server, user.TenantId));
    }

    [Fact]
    public async Task OnlyParticipantsOfAnOpenSessionOfTheTenantMayUpload()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var stranger = await server.ConversationAsync();
        // Another tenant: the session does not exist for it.
        (await stranger.User.UploadAsync(session, Png)).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.Agent.UploadAsync(session, Png)).AssertError(HttpStatusCode.NotFound, "request");
        await AssertNothingStoredAsync(server, stranger.User.TenantId);
        // A tenant user who does not take part in it.
        (await server.TenantUser(user.TenantId).UploadAsync(session, Png)).AssertError(HttpStatusCode.Forbidden, "request");
        await AssertNothingStoredAsync(server, user.TenantId);
        // Any agent of the tenant may.
        await UploadedAsync(server.Agent(user.TenantId), session, Png);
        // A closed session takes nothing more.
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        (await user.UploadAsync(session, Png)).AssertError(HttpStatusCode.Conflict, "request");
        Assert.Equal(1L, (await StoredAsync(server, user.TenantId)).Rows);
    }

    [Fact]
    public async Task AStagedUploadIsItsUploadersAloneUntilAMessageTakesIt()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var id = (await UploadedAsync(user, session, Png)).Text("id");
        var fresh = (await user.GetAsync($"/livechat/attachments/{id}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(id, fresh.Text("id"));
        (await agent.GetAsync($"/livechat/attachments/{id}")).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.SendAsync(HttpMethod.Delete, $"/livechat/attachments/{id}", null)).AssertError(HttpStatusCode.NotFound, "request");
        var stranger = await server.ConversationAsync();
        (await stranger.Agent.GetAsync($"/livechat/attachments/{id}")).AssertError(HttpStatusCode.NotFound, "request");

        // A message takes it: then the session's participants see it.
        (await user.PostAsync($"/livechat/sessions/{session}/messages", new { attachment_ids = new[] { id } })).AssertStatus(HttpStatusCode.Created);
        var seen = (await agent.GetAsync($"/livechat/attachments/{id}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("ready", seen.Text("status"));
        (await stranger.Agent.GetAsync($"/livechat/attachments/{id}")).AssertError(HttpStatusCode.NotFound, "request");
        // Once sent, its uploader cannot delete it any more.
        (await user.SendAsync(HttpMethod.Delete, $"/livechat/attachments/{id}", null)).AssertError(HttpStatusCode.Conflict, "request");
        Assert.Equal(1L, (await StoredAsync(server, user.TenantId)).Rows);
    }

    [Fact]
    public async Task DeletingAStagedUploadDeletesItsBytesAndFreesItsQuota()
    {
        var (_, user, session) = await server.ConversationAsync();
        var attachment = await UploadedAsync(user, session, Png);
        var id = attachment.Text("id");
        using var response = await server.Http.SendAsync(Request(HttpMethod.Delete, $"/livechat/attachments/{id}", user));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await AssertNothingStoredAsync(server, user.TenantId);
        (await user.GetAsync($"/livechat/attachments/{id}")).AssertError(HttpStatusCode.NotFound, "request");
        using var download = await DownloadAsync(server, attachment.Text("url"));
        Assert.Equal(HttpStatusCode.Forbidden, download.StatusCode);
        (await user.SendAsync(HttpMethod.Delete, $"/livechat/attachments/{id}", null)).AssertError(HttpStatusCode.NotFound, "request");
    }

    [Fact]
    public async Task DeletingAMessagesOrASessionsFilesDeletesTheirRowsBytesAndQuota()
    {
        var (_, user, session) = await server.ConversationAsync();
        async Task<(string Message, string Url)> SentAsync(byte[] bytes, string name)
        {
            var id = (await UploadedAsync(user, session, bytes, name)).Text("id");
            var message = (await user.PostAsync($"/livechat/sessions/{session}/messages", new { attachment_ids = new[] { id } })).AssertStatus(HttpStatusCode.Created).Data;
            return (message.Text("id"), message.GetProperty("attachments")[0].Text("url"));
        }
        var first = await SentAsync(PngOfSize(300_000), "first.png"); // several chunks in the database store
        var second = await SentAsync(Pdf, "second.pdf");
        await UploadedAsync(user, session, Png, "staged.png");
        Assert.Equal((3L, 300_000L + Pdf.Length + Png.Length, 300_000L + Pdf.Length + Png.Length), await StoredAsync(server, user.TenantId));
        var retention = server.Services.GetRequiredService<AttachmentRetention>();

        Assert.Equal(1, await retention.DeleteOfMessagesAsync(user.TenantId, [Guid.Parse(first.Message)], CancellationToken.None));
        Assert.Equal((2L, (long)Pdf.Length + Png.Length, (long)Pdf.Length + Png.Length), await StoredAsync(server, user.TenantId));
        using (var gone = await DownloadAsync(server, first.Url)) Assert.Equal(HttpStatusCode.Forbidden, gone.StatusCode);
        using (var kept = await DownloadAsync(server, second.Url)) Assert.Equal(HttpStatusCode.OK, kept.StatusCode); // the control

        Assert.Equal(2, await retention.DeleteOfSessionAsync(user.TenantId, Guid.Parse(session), CancellationToken.None));
        await AssertNothingStoredAsync(server, user.TenantId);
        using (var gone = await DownloadAsync(server, second.Url)) Assert.Equal(HttpStatusCode.Forbidden, gone.StatusCode);
    }

    [Fact]
    public async Task ABadExpiredOrForeignSignatureIs403()
    {
        var (_, user, session) = await server.ConversationAsync();
        var mine = await UploadedAsync(user, session, Png);
        var other = await UploadedAsync(user, session, Pdf);
        var url = mine.Text("url");
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(server.BaseAddress, url).Query);
        var id = mine.Text("id");
        var urls = server.Services.GetRequiredService<SignedUrls>();

        string[] refused =
        [
            url[..^1] + (url[^1] == '0' ? '1' : '0'), // tampered signature
            $"/livechat/attachments/{id}/content?expires={long.Parse(query["expires"]!, CultureInfo.InvariantCulture) + 3600}&sig={query["sig"]}", // longer life
            $"/livechat/attachments/{other.Text("id")}/content?expires={query["expires"]}&sig={query["sig"]}", // another attachment's signature
            urls.UrlFor(user.TenantId + 1, Guid.Parse(id)), // signed for another tenant
            urls.UrlFor(user.TenantId, Guid.Parse(id), TimeSpan.FromSeconds(-5)), // expired
            $"/livechat/attachments/{id}/content?expires={query["expires"]}&sig=" + Convert.ToHexStringLower(HMACSHA256.HashData(
                Encoding.UTF8.GetBytes("a key nobody configured"), Encoding.UTF8.GetBytes($"{id}\n{user.TenantId}\n{query["expires"]}"))),
            $"/livechat/attachments/{id}/content",
            $"/livechat/attachments/{Guid.CreateVersion7()}/content?expires={query["expires"]}&sig={query["sig"]}",
        ];
        foreach (var bad in refused)
        {
            using var response = await DownloadAsync(server, bad);
            var reply = await Reply.ReadAsync(response);
            Assert.True(reply.Status == HttpStatusCode.Forbidden, $"{bad}: {(int)reply.Status}");
            reply.AssertError(HttpStatusCode.Forbidden, "request");
        }

        // A link signed with the previous key (before a rotation) still works until it expires.
        var expires = long.Parse(query["expires"]!, CultureInfo.InvariantCulture);
        var previous = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AttachmentSettings.PreviousKey),
            Encoding.UTF8.GetBytes($"{id}\n{user.TenantId}\n{expires}")));
        using var rotated = await DownloadAsync(server, $"/livechat/attachments/{id}/content?expires={expires}&sig={previous}");
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        // And the positive control: the url as given.
        using var good = await DownloadAsync(server, url);
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, Caller caller)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        request.Headers.Add("X-Tenant-ID", caller.TenantId.ToString(CultureInfo.InvariantCulture));
        return request;
    }

    /// <summary>Reads like a network stream: no length, no seeking, so HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}

public sealed class AttachmentTestsOnSqlite(AttachmentSqliteServer server) : AttachmentTests(server), IClassFixture<AttachmentSqliteServer>;

public sealed class AttachmentTestsOnPostgres(AttachmentPostgresServer server) : AttachmentTests(server), IClassFixture<AttachmentPostgresServer>;
