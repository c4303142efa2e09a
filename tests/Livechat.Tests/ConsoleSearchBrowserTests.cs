using Livechat.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Livechat.Tests;

/// <summary>
/// Contract section 19 on the agent desk in Chromium: the search box, hits with their matches marked (and a message's
/// own markup shown as text), and a hit that opens its chat at that message, older pages loaded until it is there.
/// Its screenshot is docs/images/search.png.
/// </summary>
public sealed class ConsoleSearchBrowserTests(ConsoleServer server) : IClassFixture<ConsoleServer>
{
    [Fact]
    public async Task AHitShowsItsMatchesMarkedAndOpensItsChatAtThatMessage()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 5 })).AssertStatus(System.Net.HttpStatusCode.OK);
        var customer = server.TenantUser(tenant, name: "Carl Customer");
        var session = await customer.StartSessionAsync(agent.UserId);
        var found = await customer.SendMessageAsync(session, "Kasir app: the receipt printer prints a blank <b>struk</b> since Monday & today.");
        // More than a page of messages after it: the chat opens at its newest ones, so the hit's message has to be fetched.
        for (var i = 0; i < 40; i++) await (i % 2 == 0 ? customer : agent).SendMessageAsync(session, $"Follow-up number {i} about the app.");
        var other = server.TenantUser(tenant, name: "Dewi Customer");
        var otherSession = await other.StartSessionAsync(agent.UserId);
        await other.SendMessageAsync(otherSession, "Our printer is fine, thanks.");

        await using var desk = await server.Chromium.NewPageAsync(server);
        await desk.SignInWithTokenAsync("/console/", agent.Token, tenant);
        await desk.TestId("search-input").FillAsync("PRINTER struk");
        await desk.TestId("search-input").PressAsync("Enter");
        var hit = desk.TestId("search-hit");
        await Expect(hit).ToHaveCountAsync(1);
        await Expect(hit).ToHaveAttributeAsync("data-message-id", found.GetProperty("id").GetString()!);
        await Expect(hit.Locator("mark")).ToHaveTextAsync(["printer", "struk"]);
        // The message's own markup is text, never an element.
        await Expect(desk.TestId("hit-text")).ToHaveTextAsync("Kasir app: the receipt printer prints a blank <b>struk</b> since Monday & today.");
        await Expect(desk.Page.Locator("[data-testid=search-results] b")).ToHaveCountAsync(0);

        // One word finds both chats, newest first.
        await desk.TestId("search-input").FillAsync("printer");
        await desk.TestId("search-input").PressAsync("Enter");
        await Expect(desk.TestId("hit-text")).ToHaveTextAsync(["Our printer is fine, thanks.", "Kasir app: the receipt printer prints a blank <b>struk</b> since Monday & today."]);

        await hit.Nth(1).ClickAsync();
        await Expect(desk.TestId("chat-title")).ToContainTextAsync("Carl Customer");
        var message = desk.Page.Locator($"[data-testid=message][data-id='{found.GetProperty("id").GetString()}']");
        await Expect(message).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bfound\b"));
        await Expect(message).ToBeInViewportAsync();
        await desk.ScreenshotAsync("search");

        // Nothing found, and a query the service refuses, each say so in the list.
        await desk.TestId("search-input").FillAsync("zebra");
        await desk.TestId("search-input").PressAsync("Enter");
        await Expect(desk.TestId("search-empty")).ToBeVisibleAsync();
        await desk.TestId("search-input").FillAsync("\"unbalanced");
        await desk.TestId("search-input").PressAsync("Enter");
        await Expect(desk.TestId("search-error")).ToContainTextAsync("quote");
    }
}
