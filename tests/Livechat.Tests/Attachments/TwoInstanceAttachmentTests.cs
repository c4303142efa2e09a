using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using static Livechat.Tests.Attachments.AttachmentKit;

namespace Livechat.Tests.Attachments;

/// <summary>Two instances on one PostgreSQL (the database store) and one Redis, both scanning with one clamd.</summary>
public sealed class TwoAttachmentInstances : IAsyncLifetime
{
    public LivechatServer A { get; } = new(DatabaseProvider.Postgres);
    public LivechatServer B { get; private set; } = null!;
    public ClamdServer Clamd { get; } = new();

    public async Task InitializeAsync()
    {
        await Clamd.StartAsync();
        AttachmentSettings.Apply(A, databaseStore: true);
        A.Settings["Livechat:Attachments:ClamAv"] = Clamd.Address;
        A.Settings["Livechat:Attachments:ScanRetrySeconds"] = "1";
        A.Settings["Livechat:Redis:Configuration"] = RedisServer.Configuration;
        A.Settings["Livechat:Redis:ChannelPrefix"] = $"livechat-test-{Guid.NewGuid():N}";
        await A.InitializeAsync();
        B = LivechatServer.SecondInstanceOf(A);
        await B.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
        await Clamd.DisposeAsync();
    }
}

public sealed class TwoInstanceAttachmentTests(TwoAttachmentInstances instances) : IClassFixture<TwoAttachmentInstances>
{
    [Fact]
    public async Task AFileUploadedThroughOneInstanceIsScannedOnceAndServedByTheOther()
    {
        var (_, user, session) = await instances.A.ConversationAsync();
        var userOnB = instances.B.TenantUser(user.TenantId, user.UserId);
        await using var stream = await SseClient.OpenUserStreamAsync(instances.B, userOnB);
        var clean = (await user.UploadAsync(session, PngOfSize(300_000))).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        var infected = (await user.UploadAsync(session, Eicar, "eicar.txt")).AssertStatus(HttpStatusCode.Created).Data.Text("id");

        // Whichever instance scanned each, the uploader hears each verdict once, on the other instance's stream.
        var verdicts = new Dictionary<string, JsonElement>();
        while (verdicts.Count < 2)
        {
            var updated = await stream.NextNamedAsync("attachmentUpdated", seconds: 30);
            Assert.True(verdicts.TryAdd(updated.Text("id"), updated), $"a second verdict for {updated.Text("id")}");
        }
        Assert.Equal("ready", verdicts[clean].Text("status"));
        Assert.Equal("rejected", verdicts[infected].Text("status"));
        // A later upload's verdict is the control: none of the first two was scanned and announced again before it.
        var control = (await user.UploadAsync(session, Pdf, "control.pdf")).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        var before = await stream.NamedUntilAsync(e => e.Name == "attachmentUpdated" && e.Data.Text("id") == control, seconds: 30);
        Assert.DoesNotContain(before.SkipLast(1), e => e.Name == "attachmentUpdated");

        var fresh = (await userOnB.GetAsync($"/livechat/attachments/{clean}")).AssertStatus(HttpStatusCode.OK).Data;
        using var download = await DownloadAsync(instances.B, fresh.Text("url"));
        Assert.Equal(PngOfSize(300_000), await download.Content.ReadAsByteArrayAsync());
        using var viaA = await DownloadAsync(instances.A, verdicts[clean].Text("url"));
        Assert.Equal(HttpStatusCode.OK, viaA.StatusCode);
    }

    [Fact]
    public async Task AFileUploadedThroughOneInstanceIsSentThroughTheOtherAndEveryoneGetsIt()
    {
        var (agent, user, session) = await instances.A.ConversationAsync();
        var userOnB = instances.B.TenantUser(user.TenantId, user.UserId);
        await using var userStream = await SseClient.OpenUserStreamAsync(instances.A, user);
        await using var agentStream = await SseClient.OpenUserStreamAsync(instances.A, agent);
        var id = (await user.UploadAsync(session, PngOfSize(400_000), "shot.png")).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        // Scanning first: sending it now is 409, through either instance.
        var early = await userOnB.PostAsync($"/livechat/sessions/{session}/messages", new { attachment_ids = new[] { id } });
        if (early.Status != HttpStatusCode.Created)
        {
            early.AssertError(HttpStatusCode.Conflict, "attachment_ids");
            var verdict = await userStream.NextNamedAsync("attachmentUpdated", seconds: 30);
            Assert.Equal("ready", verdict.Text("status"));
            early = (await userOnB.PostAsync($"/livechat/sessions/{session}/messages", new { attachment_ids = new[] { id } })).AssertStatus(HttpStatusCode.Created);
        }
        var sent = early.Data;
        Assert.Equal("shot.png", sent.Text("message"));

        // The agent, on A, hears it through Redis with its file, and downloads it from A: bytes the database holds.
        var pushed = await agentStream.NextNamedAsync("messageCreated", seconds: 30);
        while (pushed.Text("id") != sent.Text("id")) pushed = await agentStream.NextNamedAsync("messageCreated", seconds: 30);
        Assert.Equal(id, pushed.GetProperty("attachments")[0].Text("id"));
        using (var download = await DownloadAsync(instances.A, pushed.GetProperty("attachments")[0].Text("url")))
            Assert.Equal(PngOfSize(400_000), await download.Content.ReadAsByteArrayAsync());
        var listed = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data[0];
        using (var download = await DownloadAsync(instances.B, listed.GetProperty("attachments")[0].Text("url")))
            Assert.Equal(PngOfSize(400_000), await download.Content.ReadAsByteArrayAsync());
    }
}
