using System.Net;
using System.Text.RegularExpressions;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>
/// Contract section 14 over plain HTTP, on a service that is not in Development: the pages are served as files
/// with their policy, <c>/</c> leads to the desk, and the token-minting endpoint does not exist.
/// </summary>
public sealed partial class ConsolePagesTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private const string Policy = "default-src 'self'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    [Fact]
    public async Task TheRootRedirectsToTheAgentDesk()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress };
        using var response = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/console/", response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("/console/", "/console/console.js")]
    [InlineData("/chat/", "/chat/chat.js")]
    public async Task EachPageIsHtmlWithAPolicyThatForbidsInlineScriptAndLoadsOnlyItsOwnModule(string path, string module)
    {
        using var response = await server.Http.GetAsync(path); // no token: the page itself holds no data
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Policy, string.Join("; ", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var html = await response.Content.ReadAsStringAsync();
        var scripts = ScriptTag().Matches(html).Select(m => m.Value).ToList();
        Assert.Equal([$"<script type=\"module\" src=\"{module}\">"], scripts); // one module, no inline script, nothing from elsewhere
        Assert.DoesNotContain("style=", html, StringComparison.Ordinal); // style-src 'self' would block inline styles too

        using var script = await server.Http.GetAsync(module);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheModulesImportOnlyFilesOfTheServiceAndNeverWriteHtml()
    {
        foreach (var file in new[] { "/shared/api.js", "/shared/stream.js", "/shared/dom.js", "/shared/signin.js", "/shared/chatview.js", "/shared/config.js", "/console/console.js", "/chat/chat.js" })
        {
            var source = await server.Http.GetStringAsync(file);
            Assert.All(ImportFrom().Matches(source), m => Assert.StartsWith(".", m.Groups[1].Value, StringComparison.Ordinal));
            Assert.DoesNotContain("innerHTML", source, StringComparison.Ordinal);
            Assert.DoesNotContain("insertAdjacentHTML", source, StringComparison.Ordinal);
            Assert.DoesNotContain("document.write", source, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/favicon.svg")]
    [InlineData("/favicon.ico")]
    public async Task TheIconIsServedAsSvgUnderBothNames(string path)
    {
        using var response = await server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.StartsWith("<svg ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        foreach (var page in new[] { "/console/", "/chat/" })
            Assert.Contains("<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">", await server.Http.GetStringAsync(page), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePagesLearnFromTheServiceThatThereIsNoDevelopmentSignIn()
    {
        using var response = await server.Http.GetAsync("/shared/config.js");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Policy, string.Join("; ", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Contains("export const devSignIn = false;", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task TheTokenMintingEndpointIsAn404EnvelopeOutsideDevelopment(string method)
    {
        var reply = await server.SendAsync(new HttpMethod(method), "/dev/token", json: method == "POST" ? "{\"user_id\": 1, \"role\": \"SUPPORT_AGENT\", \"tenant_id\": 1}" : null);
        reply.AssertError(HttpStatusCode.NotFound, "request");
    }

    [Fact]
    public async Task AMissingFileUnderThePagesIsThe404Envelope()
    {
        var reply = await server.SendAsync(HttpMethod.Get, "/console/missing.js");
        reply.AssertError(HttpStatusCode.NotFound, "request");
    }

    [GeneratedRegex("<script[^>]*>")]
    private static partial Regex ScriptTag();

    [GeneratedRegex("""(?:import|from)\s*\(?\s*["']([^"']+)["']""")]
    private static partial Regex ImportFrom();
}
