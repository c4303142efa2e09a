using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests.Webhooks;

/// <summary>
/// Contract section 13, server-side request forgery, with the default settings: webhooks never call loopback,
/// private, link-local, unique-local, unspecified or multicast addresses, neither when saved nor when sending.
/// </summary>
public abstract class WebhookSsrfTests(LivechatServer server)
{
    private Caller Admin(long tenant) => new(server, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]);

    [Theory]
    [InlineData("http://127.0.0.1/hook")]
    [InlineData("http://127.8.9.10:8080/hook")]
    [InlineData("http://localhost:5080/hook")]
    [InlineData("http://10.0.0.5/hook")]
    [InlineData("http://172.16.3.4/hook")]
    [InlineData("http://192.168.1.1/hook")]
    [InlineData("http://100.64.0.1/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://0.0.0.0/hook")]
    [InlineData("http://224.0.0.1/hook")]
    [InlineData("http://255.255.255.255/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[::]/hook")]
    [InlineData("http://[fe80::1]/hook")]
    [InlineData("http://[fd00::1]/hook")]
    [InlineData("http://[ff02::1]/hook")]
    [InlineData("http://[::ffff:127.0.0.1]/hook")]
    [InlineData("http://[::ffff:169.254.169.254]/hook")]
    [InlineData("http://[64:ff9b::a00:1]/hook")]
    [InlineData("http://[2002:c0a8:101::1]/hook")]
    [InlineData("http://2130706433/hook")]
    [InlineData("http://0x7f000001/hook")]
    // One address of each block of IANA's special-purpose registries that is not globally reachable.
    [InlineData("http://0.1.2.3/hook")]
    [InlineData("http://192.0.0.8/hook")]
    [InlineData("http://192.0.0.9/hook")]
    [InlineData("http://192.0.2.10/hook")]
    [InlineData("http://192.88.99.1/hook")]
    [InlineData("http://198.19.255.1/hook")]
    [InlineData("http://198.51.100.7/hook")]
    [InlineData("http://203.0.113.200/hook")]
    [InlineData("http://239.255.255.250/hook")]
    [InlineData("http://240.0.0.1/hook")]
    [InlineData("http://[::ffff:8.8.8.8]/hook")]
    [InlineData("http://[::ffff:0:808:808]/hook")]
    [InlineData("http://[::ffff:0:a00:1]/hook")]
    [InlineData("http://[::808:808]/hook")]
    [InlineData("http://[64:ff9b:1::808:808]/hook")]
    [InlineData("http://[64:ff9b::c0a8:101]/hook")]
    [InlineData("http://[100::1]/hook")]
    [InlineData("http://[100:0:0:1::1]/hook")]
    [InlineData("http://[2001::1]/hook")]
    [InlineData("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook")]
    [InlineData("http://[2001:2::1]/hook")]
    [InlineData("http://[2001:10::1]/hook")]
    [InlineData("http://[2001:db8::1]/hook")]
    [InlineData("http://[2002:a00:1::1]/hook")]
    [InlineData("http://[2002:7f00:1::1]/hook")]
    [InlineData("http://[3fff::1]/hook")]
    [InlineData("http://[5f00::1]/hook")]
    [InlineData("http://[fc00::1]/hook")]
    [InlineData("http://[fe80::1%25eth0]/hook")]
    [InlineData("http://[febf::1]/hook")]
    [InlineData("http://[fec0::1]/hook")]
    [InlineData("http://[ff0e::1]/hook")]
    [InlineData("http://[4000::1]/hook")]
    public async Task AUrlThatResolvesToANonPublicAddressIsRefused(string url)
    {
        var admin = Admin(await server.NewTenantAsync());
        var refused = (await admin.PostAsync("/webhooks", new { url, events = new[] { "*" } })).AssertError(HttpStatusCode.BadRequest, "url");
        Assert.Contains("url", refused.Errors.GetProperty("url")[0].GetString()!, StringComparison.Ordinal);
        Assert.Empty((await admin.GetAsync("/webhooks")).Data.EnumerateArray());
    }

    /// <summary>The positive control of the refusals above: public addresses next to the refused blocks are accepted.</summary>
    [Theory]
    [InlineData("https://93.184.215.14/hook")]
    [InlineData("https://8.8.8.8/hook")]
    [InlineData("https://1.0.0.1/hook")]
    [InlineData("https://100.128.0.1/hook")]
    [InlineData("https://172.32.0.1/hook")]
    [InlineData("https://192.0.1.1/hook")]
    [InlineData("https://192.88.98.1/hook")]
    [InlineData("https://198.20.0.1/hook")]
    [InlineData("https://223.255.255.1/hook")]
    [InlineData("https://[2606:4700:4700::1111]/hook")]
    [InlineData("https://[2001:4860:4860::8888]/hook")]
    [InlineData("https://[2620:4f:8000::1]/hook")]
    [InlineData("https://[64:ff9b::808:808]/hook")]
    [InlineData("https://[2002:808:808::1]/hook")]
    [InlineData("https://[3ffe:1::1]/hook")]
    public async Task APublicAddressNextToARefusedBlockIsAccepted(string url)
    {
        var admin = Admin(await server.NewTenantAsync());
        var created = (await admin.PostAsync("/webhooks", new { url, events = new[] { "webhook.ping" } })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal(url, created.Text("url"));
    }

    [Fact]
    public async Task APublicAddressIsAcceptedAndPatchingItToAPrivateOneIsRefused()
    {
        var admin = Admin(await server.NewTenantAsync());
        var created = (await admin.PostAsync("/webhooks", new { url = "https://93.184.215.14/hook", events = new[] { "*" } })).AssertStatus(HttpStatusCode.Created).Data;
        var id = created.Text("id");
        (await admin.PatchAsync($"/webhooks/{id}", new { url = "http://169.254.169.254/" })).AssertError(HttpStatusCode.BadRequest, "url");
        Assert.Equal("https://93.184.215.14/hook", (await admin.GetAsync($"/webhooks/{id}")).Data.Text("url"));
        (await admin.PostAsync("/webhooks", new { url = "https://user:pass@93.184.215.14/", events = new[] { "*" } })).AssertError(HttpStatusCode.BadRequest, "url");
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task AnAddressThatTurnedPrivateAfterSavingIsRefusedWhenConnecting(string host)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var url = receiver.NewEndpoint().Replace("127.0.0.1", host, StringComparison.Ordinal);
        var tenant = await server.NewTenantAsync();
        var admin = Admin(tenant);
        var id = (await admin.PostAsync("/webhooks", new { url = "https://93.184.215.14/hook", events = new[] { "*" } })).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        // As if its name now resolved to loopback (DNS rebinding): the stored URL points at our receiver.
        await server.ExecuteSqlAsync("UPDATE webhooks SET url = @url WHERE tenant_id = @tenant AND id = @id",
            ("url", url), ("tenant", tenant), ("id", Guid.Parse(id)));

        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var log = await WebhookTests.WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].Text("status") == "failed");
        Assert.Contains("non-public", log[0].Text("last_error"), StringComparison.Ordinal);
        Assert.Equal(1, log[0].GetProperty("attempts").GetInt32());
        Assert.Empty(receiver.Requests);
    }
}

public sealed class WebhookSsrfTestsOnSqlite(SqliteServer server) : WebhookSsrfTests(server), IClassFixture<SqliteServer>;

public sealed class WebhookSsrfTestsOnPostgres(PostgresServer server) : WebhookSsrfTests(server), IClassFixture<PostgresServer>;
