using System.Net;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Livechat.Tests.Attachments.AttachmentKit;

namespace Livechat.Tests.Attachments;

/// <summary>SQLite and the disk store, on a clock the test moves.</summary>
public sealed class StagedCleanupServer : LivechatServer
{
    public StagedCleanupServer() : base(DatabaseProvider.Sqlite)
    {
        AttachmentSettings.Apply(this, databaseStore: false);
        Settings["Livechat:Attachments:CleanupIntervalSeconds"] = "3600";
        ConfigureServices = services => services.AddSingleton<TimeProvider>(Clock);
    }

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
}

/// <summary>Contract section 15: a staged upload that no message took within 24 h is deleted, with its bytes.</summary>
public sealed class StagedCleanupTests(StagedCleanupServer server) : IClassFixture<StagedCleanupServer>
{
    [Fact]
    public async Task AStagedUploadIsDeletedWithItsBytesAfter24Hours()
    {
        var (_, user, session) = await server.ConversationAsync();
        var old = (await user.UploadAsync(session, Png)).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        server.Clock.Advance(TimeSpan.FromHours(23));
        var young = PngOfSize(1000);
        var kept = (await user.UploadAsync(session, young)).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        Assert.Equal((2L, (long)(Png.Length + young.Length), (long)(Png.Length + young.Length)), await StoredAsync(server, user.TenantId));

        server.Clock.Advance(TimeSpan.FromHours(2)); // the old one is 25 h old, the young one 2 h
        await Eventually.Async(async () => (await user.GetAsync($"/livechat/attachments/{old}")).AssertError(HttpStatusCode.NotFound, "request"));
        // The same sweep kept the young one: row, bytes and quota are its alone.
        (await user.GetAsync($"/livechat/attachments/{kept}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal((1L, (long)young.Length, (long)young.Length), await StoredAsync(server, user.TenantId));
    }
}
