using System.Net;
using Livechat.Tests.Infrastructure;
using static Livechat.Tests.Attachments.AttachmentKit;

namespace Livechat.Tests.Attachments;

/// <summary>A service whose uploads a real clamd scans (started before the service).</summary>
public class ScanningServer : LivechatServer
{
    public ScanningServer(DatabaseProvider provider) : base(provider)
    {
        AttachmentSettings.Apply(this, databaseStore: provider == DatabaseProvider.Postgres);
        Settings["Livechat:Attachments:ClamAv"] = Clamd.Address;
        Settings["Livechat:Attachments:ScanRetrySeconds"] = "1";
    }

    public ClamdServer Clamd { get; } = new();

    public override async Task InitializeAsync()
    {
        await Clamd.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Clamd.DisposeAsync();
    }
}

public sealed class ScanningSqliteServer() : ScanningServer(DatabaseProvider.Sqlite);

public sealed class ScanningPostgresServer() : ScanningServer(DatabaseProvider.Postgres);

/// <summary>Contract section 15, virus scanning: uploads are scanning until clamd answers, then ready or rejected.</summary>
public abstract class ScanningTests(ScanningServer server)
{
    [Fact]
    public async Task ACleanUploadBecomesReadyAndItsUploaderHearsIt()
    {
        var (_, user, session) = await server.ConversationAsync();
        await using var stream = await SseClient.OpenUserStreamAsync(server, user);
        var uploaded = (await user.UploadAsync(session, Png)).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal("scanning", uploaded.Text("status"));
        Assert.False(uploaded.TryGetProperty("url", out _));

        var updated = await stream.NextNamedAsync("attachmentUpdated", seconds: 30);
        Assert.Equal(uploaded.Text("id"), updated.Text("id"));
        Assert.Equal("ready", updated.Text("status"));
        using var download = await DownloadAsync(server, updated.Text("url"));
        Assert.Equal(Png, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("ready", (await user.GetAsync($"/livechat/attachments/{uploaded.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data.Text("status"));
    }

    [Fact]
    public async Task TheEicarTestFileIsRejectedAndItsBytesAndQuotaFreed()
    {
        var (_, user, session) = await server.ConversationAsync();
        await using var stream = await SseClient.OpenUserStreamAsync(server, user);
        var uploaded = (await user.UploadAsync(session, Eicar, "eicar.txt")).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal("scanning", uploaded.Text("status"));

        var updated = await stream.NextNamedAsync("attachmentUpdated", seconds: 30);
        Assert.Equal("rejected", updated.Text("status"));
        Assert.False(updated.TryGetProperty("url", out _));
        var seen = (await user.GetAsync($"/livechat/attachments/{uploaded.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("rejected", seen.Text("status"));
        Assert.False(seen.TryGetProperty("url", out _));
        // The row says rejected; no quota, and no bytes once the scanner has deleted them (just after the commit that announced it).
        await Eventually.Async(async () => Assert.Equal((1L, 0L, 0L), await StoredAsync(server, user.TenantId)));
    }
}

public sealed class ScanningTestsOnSqlite(ScanningSqliteServer server) : ScanningTests(server), IClassFixture<ScanningSqliteServer>;

public sealed class ScanningTestsOnPostgres(ScanningPostgresServer server) : ScanningTests(server), IClassFixture<ScanningPostgresServer>;

/// <summary>A service pointed at a clamd that is not running yet.</summary>
public sealed class ClamdDownServer : LivechatServer
{
    public ClamdDownServer() : base(DatabaseProvider.Sqlite)
    {
        AttachmentSettings.Apply(this, databaseStore: false);
        Settings["Livechat:Attachments:ClamAv"] = Clamd.Address;
        Settings["Livechat:Attachments:ScanRetrySeconds"] = "1";
    }

    public ClamdServer Clamd { get; } = new();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Clamd.DisposeAsync();
    }
}

public sealed class ClamdDownTests(ClamdDownServer server) : IClassFixture<ClamdDownServer>
{
    [Fact]
    public async Task AnUploadStaysScanningWhileClamdIsDownAndBecomesReadyOnceItIsUp()
    {
        var (_, user, session) = await server.ConversationAsync();
        await using var stream = await SseClient.OpenUserStreamAsync(server, user);
        var id = (await user.UploadAsync(session, Png)).AssertStatus(HttpStatusCode.Created).Data.Text("id");

        // The scanner tried, and failed: the log says so (twice, so it is retrying), and the upload is still scanning.
        await Eventually.Async(() =>
        {
            Assert.True(server.Logs.Lines.Count(l => l.Message.Contains($"could not scan attachment {id}", StringComparison.Ordinal)) >= 2);
            return Task.CompletedTask;
        }, seconds: 30);
        var waiting = (await user.GetAsync($"/livechat/attachments/{id}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("scanning", waiting.Text("status"));
        Assert.False(waiting.TryGetProperty("url", out _));

        await server.Clamd.StartAsync();
        var updated = await stream.NextNamedAsync("attachmentUpdated", seconds: 30);
        Assert.Equal(id, updated.Text("id"));
        Assert.Equal("ready", updated.Text("status"));
    }
}
