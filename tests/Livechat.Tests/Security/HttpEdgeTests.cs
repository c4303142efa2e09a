using System.Net;
using System.Text;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Livechat.Tests.Security;

/// <summary>
/// The edges of HTTP itself (contract section 2: every answer is the envelope): a Host header that is not a
/// valid host name, the folder redirect under a hostile Host, and what Kestrel refuses before the pipeline
/// (bare statuses, documented in docs/api.md) against what reaches it (envelopes).
/// </summary>
public sealed class HttpEdgeTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private const string BadPunycode = "xn--bravo-.test";

    [Theory]
    [InlineData("GET", "/console")]
    [InlineData("GET", "/openapi/v1.json")]
    [InlineData("GET", "/livechat/sessions")]
    [InlineData("GET", "/livechat/stream")]
    [InlineData("POST", "/livechat/hub/negotiate?negotiateVersion=1")]
    public async Task AHostThatIsNotAValidHostNameIsA400EnvelopeAndLogsNoError(string method, string path)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var requestId = $"bad-host-{Guid.NewGuid():N}";
        // With a token but no X-Tenant-ID, so the tenant would be looked up by this host name.
        var reply = await server.SendAsync(new HttpMethod(method), path, agent.Token, configure: request =>
        {
            request.Headers.Host = BadPunycode;
            request.Headers.Add("X-Request-ID", requestId);
        });
        reply.AssertError(HttpStatusCode.BadRequest, "host");
        Assert.DoesNotContain(server.Logs.Lines, l => l.Level >= LogLevel.Error && l.Scopes.Any(s => s.Contains(requestId, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AStartUnderAHostThatIsNotAValidHostNameIsA400AndStoresNothing()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var user = server.TenantUser(tenant);
        (await user.SendAsync(HttpMethod.Post, "/livechat/sessions", new { }, request => request.Headers.Host = BadPunycode))
            .AssertError(HttpStatusCode.BadRequest, "host");
        Assert.Equal(0, (await agent.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
    }

    [Theory]
    [InlineData("/console", "", "/console/")]
    [InlineData("/chat", "?session=1&x=%2F%2Fevil.example", "/chat/?session=1&x=%2F%2Fevil.example")]
    public async Task APageFolderWithoutItsSlashRedirectsRelativelyWhateverTheHost(string path, string query, string location)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, path + query);
        request.Headers.Host = "evil.example";
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(location, response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task TheOpenApiDocumentNamesARelativeServerWhateverTheHost()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
        request.Headers.Host = "evil.example";
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("/", document.RootElement.GetProperty("servers").EnumerateArray().Single().GetProperty("url").GetString());
    }

    // Kestrel refuses these while it parses the request, before any middleware: its bare status, an empty body.
    // docs/api.md lists them; these tests pin that list to what Kestrel really does.

    [Fact]
    public async Task KestrelRefusesHeadersOver32KiBWithABare431()
    {
        var (status, headers, body) = await RawHttp.SendAsync(server.BaseAddress,
            RawHttp.Get(server.BaseAddress, "/health/live", "X-Big: " + new string('a', 40_000)));
        Assert.Equal(431, status);
        Assert.Contains("Content-Length: 0", headers, StringComparison.Ordinal);
        Assert.Equal("", body);
    }

    [Fact]
    public async Task KestrelRefusesAHostWithABareByteAboveAsciiWithABare400()
    {
        var request = Encoding.Latin1.GetBytes("GET /health/live HTTP/1.1\r\nHost: caf\u00e9.test\r\nConnection: close\r\n\r\n");
        var (status, headers, body) = await RawHttp.SendAsync(server.BaseAddress, request);
        Assert.Equal(400, status);
        Assert.Contains("Content-Length: 0", headers, StringComparison.Ordinal);
        Assert.Equal("", body);
    }

    // What Kestrel finds wrong only while the body is read reaches the pipeline: envelopes.

    [Fact]
    public async Task AMalformedChunkedBodyIsA400EnvelopeAndStoresNothing()
    {
        var (agent, user) = await OnlineAgentAndUserAsync();
        var (status, headers, body) = await RawHttp.SendAsync(server.BaseAddress, Post("/livechat/sessions", user, "Transfer-Encoding: chunked", "zz\r\n{}\r\n0\r\n\r\n"));
        AssertEnvelope(400, "body", status, headers, body);
        Assert.Equal(0, (await agent.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
    }

    [Fact]
    public async Task ABodyOverTheLimitIsA413EnvelopeWhetherDeclaredOrChunkedAndStoresNothing()
    {
        var (agent, user) = await OnlineAgentAndUserAsync();
        var big = new string(' ', 70_000);
        var declared = await RawHttp.SendAsync(server.BaseAddress, Post("/livechat/sessions", user, $"Content-Length: {big.Length}", big));
        AssertEnvelope(413, "body", declared.Status, declared.Headers, declared.Body);
        var chunked = await RawHttp.SendAsync(server.BaseAddress, Post("/livechat/sessions", user, "Transfer-Encoding: chunked",
            $"{big.Length:x}\r\n{big}\r\n0\r\n\r\n"));
        AssertEnvelope(413, "body", chunked.Status, chunked.Headers, chunked.Body);
        Assert.Equal(0, (await agent.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
    }

    // The pages' static files refuse some conditional and range requests themselves: envelopes that say why.

    [Theory]
    [InlineData("Range", "bytes=999999-", HttpStatusCode.RequestedRangeNotSatisfiable, "range")]
    [InlineData("If-Match", "\"stale\"", HttpStatusCode.PreconditionFailed, "If-Match")]
    [InlineData("If-Unmodified-Since", "Mon, 01 Jan 1990 00:00:00 GMT", HttpStatusCode.PreconditionFailed, "If-Unmodified-Since")]
    public async Task AStaticFileRefusalIsAnEnvelopeThatSaysWhy(string header, string value, HttpStatusCode status, string said)
    {
        var reply = await server.SendAsync(HttpMethod.Get, "/console/console.js", configure: r => r.Headers.TryAddWithoutValidation(header, value));
        reply.AssertError(status, "request");
        Assert.Contains(said, reply.Body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private async Task<(Caller Agent, Caller User)> OnlineAgentAndUserAsync()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        return (agent, server.TenantUser(tenant));
    }

    private byte[] Post(string path, Caller caller, string framing, string rawBody) => Encoding.ASCII.GetBytes(
        $"POST {path} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nAuthorization: Bearer {caller.Token}\r\n"
        + $"X-Tenant-ID: {caller.TenantId}\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n{rawBody}");

    private static void AssertEnvelope(int expected, string field, int status, string headers, string body)
    {
        Assert.Equal(expected, status);
        Assert.Contains("Content-Type: application/json", headers, StringComparison.Ordinal);
        // A chunked answer is one chunk: "<size>\r\n<json>\r\n0\r\n\r\n".
        var json = !headers.Contains("Transfer-Encoding: chunked", StringComparison.Ordinal) ? body
            : body[(body.IndexOf("\r\n", StringComparison.Ordinal) + 2)..body.LastIndexOf("\r\n0\r\n", StringComparison.Ordinal)];
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.False(root.GetProperty("success").GetBoolean());
        Assert.True(root.GetProperty("errors").TryGetProperty(field, out _), json);
        Assert.NotEqual("", root.GetProperty("meta").GetProperty("request_id").GetString());
    }
}
