using Livechat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Livechat.Tests;

/// <summary>The service as it runs for real (Production: no token minting) on SQLite, and one Chromium for the class.</summary>
public sealed class ProductionConsoleServer() : BrowserServer("Production");

/// <summary>
/// Contract section 14 in Production: the pages load without one error in the browser's console and without one
/// failed request (no missing icon, no probe of the Development-only <c>/dev/token</c>).
/// </summary>
public sealed class ConsoleProductionBrowserTests(ProductionConsoleServer server) : IClassFixture<ProductionConsoleServer>
{
    [Theory]
    [InlineData("/console/")]
    [InlineData("/chat/")]
    public async Task APageLoadsInProductionWithNoConsoleErrorAndNoFailedRequest(string path)
    {
        await using var page = await server.Chromium.NewPageAsync(server);
        var failed = new List<string>();
        page.Page.RequestFailed += (_, request) => failed.Add($"{request.Url}: {request.Failure}");
        page.Page.Response += (_, response) =>
        {
            if (response.Status >= 400) failed.Add($"{response.Url}: {response.Status}");
        };

        await page.Page.GotoAsync(path);
        await Expect(page.TestId("token-form")).ToBeVisibleAsync();
        await page.Page.WaitForLoadStateAsync(LoadState.NetworkIdle); // every request the page makes by itself is done
        await Expect(page.TestId("dev-form")).ToBeHiddenAsync();
        Assert.Empty(failed);
        Assert.Empty(page.Console);
        Assert.Empty(page.Errors);

        // The icon the page names is there (headless Chromium does not fetch icons by itself).
        Assert.Equal(200, await page.Page.EvaluateAsync<int>("async () => (await fetch(document.querySelector('link[rel=icon]').href)).status"));
    }
}
