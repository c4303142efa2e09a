using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using Livechat.Attachments;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests.Attachments;

/// <summary>The attachment settings every attachment test server runs with: limits small enough to reach in a test.</summary>
public static class AttachmentSettings
{
    public const long MaxBytes = 600_000;
    public const long QuotaBytes = 1_500_000;
    public const string SigningKey = "attachment-test-signing-key";
    public const string PreviousKey = "attachment-test-previous-key";

    public static void Apply(LivechatServer server, bool databaseStore)
    {
        server.Settings["Livechat:Attachments:MaxBytes"] = MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        server.Settings["Livechat:Attachments:TenantQuotaBytes"] = QuotaBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        server.Settings["Livechat:Attachments:SigningKey"] = SigningKey;
        server.Settings["Livechat:Attachments:PreviousSigningKeys:0"] = PreviousKey;
        if (databaseStore) server.Settings["Livechat:Attachments:Store"] = "database";
    }
}

/// <summary>SQLite with the disk store (the default).</summary>
public sealed class AttachmentSqliteServer : LivechatServer
{
    public AttachmentSqliteServer() : base(DatabaseProvider.Sqlite) => AttachmentSettings.Apply(this, databaseStore: false);
}

/// <summary>PostgreSQL with the database store.</summary>
public sealed class AttachmentPostgresServer : LivechatServer
{
    public AttachmentPostgresServer() : base(DatabaseProvider.Postgres) => AttachmentSettings.Apply(this, databaseStore: true);
}

/// <summary>Files to upload, and what a test checks was (not) stored.</summary>
public static class AttachmentKit
{
    public static readonly byte[] Png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R', 1, 2, 3, 4];

    public static readonly byte[] Pdf = Encoding.ASCII.GetBytes("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n");

    public static readonly byte[] Html = Encoding.UTF8.GetBytes("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>");

    public static readonly byte[] Exe = [(byte)'M', (byte)'Z', 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00];

    /// <summary>The EICAR anti-virus test file: harmless, and every scanner's test signature matches it.</summary>
    public static readonly byte[] Eicar = Encoding.ASCII.GetBytes(@"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");

    /// <summary>A file of <paramref name="size"/> bytes that is a PNG by its signature, with varied bytes after it.</summary>
    public static byte[] PngOfSize(int size)
    {
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        Png.CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>A zip with the given entries (an Office document is a zip with known parts).</summary>
    public static byte[] Zip(params string[] entries)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                using var writer = new StreamWriter(zip.CreateEntry(entry).Open());
                writer.Write("<x/>");
            }
        }
        return memory.ToArray();
    }

    public static MultipartFormDataContent Multipart(params (string Name, byte[] Bytes, string? FileName)[] parts)
    {
        var content = new MultipartFormDataContent();
        foreach (var (name, bytes, fileName) in parts)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("image/png"); // a lie the service must ignore
            if (fileName is null) content.Add(part, name);
            else content.Add(part, name, fileName);
        }
        return content;
    }

    public static Task<Reply> UploadAsync(this Caller caller, string session, byte[] bytes, string fileName = "picture.png") =>
        caller.UploadAsync(session, Multipart(("file", bytes, fileName)));

    public static Task<Reply> UploadAsync(this Caller caller, string session, HttpContent content) =>
        caller.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/attachments", null, request => request.Content = content);

    /// <summary>What a tenant has stored: attachment rows, bytes (files on disk or chunk rows) and the quota's count.</summary>
    public static async Task<(long Rows, long Bytes, long Usage)> StoredAsync(LivechatServer server, long tenant)
    {
        var database = server.Services.GetRequiredService<Database>();
        async Task<long> CountAsync(string sql) => await database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql(sql).With("tenant", tenant);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }, CancellationToken.None);

        var rows = await CountAsync("SELECT count(*) FROM attachments WHERE tenant_id = @tenant");
        var usage = await server.Services.GetRequiredService<AttachmentStore>().UsageAsync(tenant, CancellationToken.None);
        long bytes;
        if (server.Services.GetRequiredService<IAttachmentBytes>() is DiskBytes disk)
        {
            var folder = Path.Combine(disk.Root, tenant.ToString(System.Globalization.CultureInfo.InvariantCulture));
            bytes = Directory.Exists(folder) ? Directory.EnumerateFiles(folder).Sum(f => new FileInfo(f).Length) : 0;
        }
        else
        {
            bytes = await CountAsync("SELECT coalesce(sum(octet_length(data)), 0) FROM attachment_chunks WHERE tenant_id = @tenant");
        }
        return (rows, bytes, usage);
    }

    public static async Task AssertNothingStoredAsync(LivechatServer server, long tenant) =>
        Assert.Equal((0L, 0L, 0L), await StoredAsync(server, tenant));

    /// <summary>Downloads a url without Authorization.</summary>
    public static async Task<HttpResponseMessage> DownloadAsync(LivechatServer server, string url, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        configure?.Invoke(request);
        return await server.Http.SendAsync(request);
    }
}
