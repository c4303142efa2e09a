using System.Net;
using Livechat.Tests.Infrastructure;
using static Livechat.Tests.Attachments.AttachmentKit;

namespace Livechat.Tests.Attachments;

/// <summary>A service that accepts PNG only.</summary>
public sealed class PngOnlyServer : LivechatServer
{
    public PngOnlyServer() : base(DatabaseProvider.Sqlite)
    {
        AttachmentSettings.Apply(this, databaseStore: false);
        Settings["Livechat:Attachments:AllowedTypes:0"] = "image/png";
    }
}

/// <summary>Contract section 15: the allow-list is a setting, and it replaces the default list.</summary>
public sealed class AllowListTests(PngOnlyServer server) : IClassFixture<PngOnlyServer>
{
    [Fact]
    public async Task TheConfiguredAllowListReplacesTheDefaultOne()
    {
        var (_, user, session) = await server.ConversationAsync();
        (await user.UploadAsync(session, Pdf, "invoice.pdf")).AssertError(HttpStatusCode.BadRequest, "file");
        await AssertNothingStoredAsync(server, user.TenantId);
        Assert.Equal("image/png", (await user.UploadAsync(session, Png)).AssertStatus(HttpStatusCode.Created).Data.Text("content_type"));
    }
}
