using System.Globalization;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Livechat.Tests;

/// <summary>The service in Development (so the sign-in page can mint tokens) on SQLite, and one Chromium for the class.</summary>
public sealed class ConsoleServer() : BrowserServer("Development");

/// <summary>The service on SQLite in <paramref name="environment"/>, and one Chromium for the class.</summary>
public abstract class BrowserServer : LivechatServer
{
    protected BrowserServer(string environment) : base(DatabaseProvider.Sqlite) => Environment = environment;

    public Chromium Chromium { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Chromium = await Chromium.LaunchAsync();
    }

    public override async Task DisposeAsync()
    {
        if (Chromium is not null) await Chromium.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// Contract section 14 in a real browser: the agent desk (<c>/console/</c>) and the customer page (<c>/chat/</c>),
/// each in its own browser context, against the real service. Screenshots go to <see cref="Screenshots.Folder"/>.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleServer server) : IClassFixture<ConsoleServer>
{
    private static string Id(long value) => value.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task AnAgentAndACustomerGoThroughAWholeChat()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var customer = server.TenantUser(tenant);
        await using var desk = await server.Chromium.NewPageAsync(server);
        await using var chat = await server.Chromium.NewPageAsync(server, 800, 800);

        // The agent signs in with the Development form and goes online; it already holds one chat of its own (capacity 1).
        await desk.SignInWithDevFormAsync("/console/", agent.UserId, Roles.SupportAgent, tenant, screenshot: "sign-in");
        await Expect(desk.TestId("whoami")).ToContainTextAsync($"Agent {agent.UserId}");
        await desk.TestId("presence").SelectOptionAsync("ONLINE");
        await Expect(desk.TestId("load")).ToHaveTextAsync("0 / 1 chats");
        await agent.StartSessionAsync();
        await Expect(desk.TestId("session-item")).ToHaveCountAsync(1);
        await Expect(desk.TestId("load")).ToHaveTextAsync("1 / 1 chats");

        // The customer pastes a token and starts a chat: routed, but the only agent is full, so it waits first in the queue.
        await chat.SignInWithTokenAsync("/chat/", customer.Token, tenant);
        await chat.TestId("start-chat").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToContainTextAsync("number 1 in the queue");
        await Expect(desk.TestId("queue-item")).ToHaveCountAsync(1);
        await Expect(desk.TestId("queue-position")).ToHaveTextAsync("#1");
        await chat.TestId("composer").FillAsync("Hello, is anyone there?");
        await chat.TestId("composer").PressAsync("Enter");
        await Expect(chat.TestId("message-text")).ToHaveTextAsync(["Hello, is anyone there?"]);
        await Expect(chat.TestId("composer")).ToHaveValueAsync("");
        var sessionId = await chat.TestId("messages").GetAttributeAsync("data-session-id");

        // The agent raises its capacity: the queued chat is assigned at once, with its unread message.
        await desk.TestId("capacity").FillAsync("2");
        await desk.TestId("capacity").PressAsync("Tab");
        await Expect(chat.TestId("chat-status")).ToContainTextAsync($"chatting with Agent {agent.UserId}");
        await Expect(desk.TestId("queue-item")).ToHaveCountAsync(0);
        await Expect(desk.TestId("queue")).ToContainTextAsync("Nobody is waiting.");
        var item = desk.Page.Locator($"[data-testid=session-item][data-session-id='{sessionId}']");
        await Expect(item.GetByTestId("unread")).ToHaveTextAsync("1");
        await Expect(desk.Page).ToHaveTitleAsync("(1) Livechat desk");
        await Expect(desk.TestId("load")).ToHaveTextAsync("2 / 2 chats");

        // Opening it reads it: the badge goes, and the customer sees "Read" under its message.
        await item.ClickAsync();
        await Expect(desk.TestId("message-text")).ToHaveTextAsync(["Hello, is anyone there?"]);
        await Expect(item.GetByTestId("unread")).ToHaveCountAsync(0);
        await Expect(chat.TestId("message").Filter(new() { HasText = "Hello, is anyone there?" }).GetByTestId("read-mark")).ToHaveTextAsync("Read");

        // The agent types: the customer sees it; Enter sends, and the indicator ends with the message.
        await desk.TestId("composer").PressSequentiallyAsync("Good morning, how can I help?");
        await Expect(chat.TestId("typing")).ToHaveTextAsync($"Agent {agent.UserId} is typing…");
        await desk.TestId("composer").PressAsync("Enter");
        await Expect(chat.TestId("message-text")).ToHaveTextAsync(["Hello, is anyone there?", "Good morning, how can I help?"]);
        await Expect(chat.TestId("typing")).ToBeHiddenAsync();
        // The customer's page has read the reply.
        await Expect(desk.TestId("message").Filter(new() { HasText = "Good morning" }).GetByTestId("read-mark")).ToBeVisibleAsync();

        await chat.TestId("composer").FillAsync("My invoice does not show up.");
        await chat.TestId("send").ClickAsync();
        await Expect(desk.TestId("message-text")).ToHaveTextAsync(["Hello, is anyone there?", "Good morning, how can I help?", "My invoice does not show up."]);
        await Expect(item.GetByTestId("last-message")).ToHaveTextAsync($"Customer {customer.UserId}: My invoice does not show up.");
        await desk.ScreenshotAsync("agent-desk");
        await chat.ScreenshotAsync("customer-chat");

        // Transfer to a colleague who is online: the chat leaves the desk's list, the customer sees the new agent.
        var colleague = server.Agent(tenant);
        await colleague.GoOnlineAsync();
        await Expect(desk.TestId("transfer-target").Locator($"option[value='{colleague.UserId}']")).ToHaveCountAsync(1);
        await desk.TestId("transfer-target").SelectOptionAsync(Id(colleague.UserId));
        await desk.TestId("transfer").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToContainTextAsync($"chatting with Agent {colleague.UserId}");
        await Expect(desk.TestId("session-item")).ToHaveCountAsync(1);
        await Expect(desk.TestId("chat-state")).ToHaveTextAsync($"Now with Agent {colleague.UserId}.");
        await Expect(desk.TestId("composer")).ToBeEnabledAsync(); // any agent of the tenant may still write

        // The colleague gives it back; then the agent hands it to the queue while nobody else is online, and claims it.
        (await colleague.PostAsync($"/livechat/sessions/{sessionId}/transfer", new { agent_id = agent.UserId })).AssertStatus(System.Net.HttpStatusCode.OK);
        await Expect(desk.TestId("chat-state")).ToHaveTextAsync("Open · assigned to you");
        await Expect(chat.TestId("chat-status")).ToContainTextAsync($"chatting with Agent {agent.UserId}");
        (await colleague.PutAsync("/livechat/agents/me/presence", new { status = "OFFLINE" })).AssertStatus(System.Net.HttpStatusCode.OK);
        await Expect(desk.TestId("transfer")).ToBeDisabledAsync();
        await desk.TestId("requeue").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToContainTextAsync("number 1 in the queue");
        await Expect(desk.TestId("queue-item")).ToHaveCountAsync(1);
        await desk.TestId("claim").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToContainTextAsync($"chatting with Agent {agent.UserId}");
        await Expect(desk.TestId("queue-item")).ToHaveCountAsync(0);

        // Close: the customer is told, and cannot write any more.
        await desk.TestId("close-session").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToHaveTextAsync("This chat was closed. Thank you for reaching out.");
        await Expect(chat.TestId("composer")).ToBeDisabledAsync();
        await Expect(chat.TestId("new-chat")).ToBeVisibleAsync();
        await Expect(desk.TestId("chat-state")).ToHaveTextAsync("This chat is closed.");
        await Expect(desk.TestId("session-item")).ToHaveCountAsync(1);
        await chat.ScreenshotAsync("customer-chat-closed");

        Assert.Empty(desk.Errors);
        Assert.Empty(chat.Errors);
    }

    [Fact]
    public async Task AfterTheNetworkDropsTheDeskShowsWhatItMissedWithoutReloadingAnything()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        await customer.SendMessageAsync(session, "before the drop");
        await using var proxy = new CuttableProxy(server.BaseAddress);
        await using var desk = await server.Chromium.NewPageAsync(proxy.Address);
        await desk.SignInWithDevFormAsync("/console/", agent.UserId, Roles.SupportAgent, agent.TenantId);
        await desk.TestId("session-item").ClickAsync();
        await Expect(desk.TestId("message-text")).ToHaveTextAsync(["before the drop"]);

        proxy.Cut();
        await Expect(desk.TestId("connection")).ToHaveTextAsync("Reconnecting…");
        await customer.SendMessageAsync(session, "sent while the desk was away");
        await agent.SendMessageAsync(session, "answered from another tab");
        var lists = new List<string>(); // what the page asks the list endpoints from here on
        desk.Page.Request += (_, request) =>
        {
            if (request.Url.Contains("/livechat/sessions", StringComparison.Ordinal) && request.Method == "GET") lists.Add(request.Url);
        };
        proxy.Restore();

        await Expect(desk.TestId("connection")).ToHaveTextAsync("Live", new() { Timeout = 15_000 });
        await Expect(desk.TestId("message-text")).ToHaveTextAsync(["before the drop", "sent while the desk was away", "answered from another tab"]);
        await desk.ScreenshotAsync("agent-desk-after-a-network-drop");
        Assert.Empty(lists); // the stream resumed: nothing was fetched again
        Assert.Empty(desk.Errors);
    }

    [Fact]
    public async Task ScrollingUpLoadsOlderMessagesUntilTheFirstWithNoneTwice()
    {
        var (agent, user, session) = await server.ConversationAsync();
        for (var i = 1; i <= 75; i++) await user.SendMessageAsync(session, $"message {i}");
        await using var desk = await server.Chromium.NewPageAsync(server);
        await desk.SignInWithDevFormAsync("/console/", agent.UserId, Roles.SupportAgent, agent.TenantId);
        await Expect(desk.TestId("unread")).ToHaveTextAsync("75");
        await desk.TestId("session-item").ClickAsync();

        // The window opens at the newest 30, scrolled to the end.
        var texts = desk.TestId("message-text");
        await Expect(texts).ToHaveCountAsync(30);
        await Expect(texts.Last).ToHaveTextAsync("message 75");
        await Expect(texts.First).ToHaveTextAsync("message 46");
        await Expect(desk.TestId("older")).ToHaveTextAsync("Scroll up for older messages.");
        Assert.True(await desk.TestId("messages").EvaluateAsync<bool>("list => list.scrollTop > 0 && list.scrollTop + list.clientHeight >= list.scrollHeight - 2"));

        await desk.TestId("messages").EvaluateAsync("list => { list.scrollTop = 0; }");
        await Expect(texts).ToHaveCountAsync(60);
        await Expect(texts.First).ToHaveTextAsync("message 16");
        // The reader stays where it was: the message that was on top is still in view, not the new first one.
        Assert.True(await desk.TestId("messages").EvaluateAsync<bool>("list => list.scrollTop > 0"));

        await desk.TestId("messages").EvaluateAsync("list => { list.scrollTop = 0; }");
        await Expect(texts).ToHaveCountAsync(75);
        await Expect(desk.TestId("older")).ToHaveTextAsync("This is the start of the chat.");
        Assert.Equal(Enumerable.Range(1, 75).Select(i => $"message {i}"), await texts.AllTextContentsAsync());
        await desk.TestId("messages").EvaluateAsync("list => { list.scrollTop = 0; }");
        await Task.Delay(300);
        await Expect(texts).ToHaveCountAsync(75);
        await desk.ScreenshotAsync("agent-desk-history");
        Assert.Empty(desk.Errors);
    }

    [Fact]
    public async Task AMessageThatLooksLikeHtmlIsShownAsTextAndRunsNothing()
    {
        const string probe = "<img src=x onerror=\"window.__xss=1\"> <script>window.__xss=2</script> <b>bold?</b>";
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        await using var chat = await server.Chromium.NewPageAsync(server);
        await using var desk = await server.Chromium.NewPageAsync(server);
        await chat.SignInWithDevFormAsync("/chat/", LivechatServer.NewUserId(), "TENANT_ADMIN", tenant);
        await chat.TestId("start-chat").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToContainTextAsync($"chatting with Agent {agent.UserId}");
        await chat.TestId("composer").FillAsync(probe);
        await chat.TestId("composer").PressAsync("Enter");
        await desk.SignInWithDevFormAsync("/console/", agent.UserId, Roles.SupportAgent, tenant);
        await desk.TestId("session-item").ClickAsync();

        foreach (var page in new[] { chat, desk })
        {
            await Expect(page.TestId("message-text")).ToHaveTextAsync([probe]);
            Assert.Equal(0, await page.TestId("messages").Locator("img, script, b").CountAsync());
            Assert.Null(await page.Page.EvaluateAsync<int?>("() => window.__xss ?? null"));
            // The policy forbids inline script: one added to the page does not run.
            Assert.Null(await page.Page.EvaluateAsync<int?>(
                "() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s); return window.__inline ?? null; }"));
            Assert.Empty(page.Errors);
        }
        await Expect(desk.TestId("last-message")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(System.Text.RegularExpressions.Regex.Escape(probe) + "$"));
        await desk.ScreenshotAsync("xss-probe-desk");
    }

    [Fact]
    public async Task WhenNobodyIsOnlineTheCustomerIsToldAndTheDeskListsTheTicket()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await using var chat = await server.Chromium.NewPageAsync(server);
        await chat.SignInWithDevFormAsync("/chat/", LivechatServer.NewUserId(), "TENANT_ADMIN", tenant);
        await chat.TestId("start-chat").ClickAsync();
        await Expect(chat.TestId("no-agent")).ToContainTextAsync("Nobody from support is online right now. We have opened a ticket for you");
        await Expect(chat.TestId("chat")).ToBeHiddenAsync();
        await chat.ScreenshotAsync("customer-nobody-online");

        await using var desk = await server.Chromium.NewPageAsync(server);
        await desk.SignInWithDevFormAsync("/console/", agent.UserId, Roles.SupportAgent, tenant);
        await Expect(desk.TestId("ticket")).ToHaveCountAsync(1);
        await Expect(desk.TestId("ticket")).ToContainTextAsync("open");
        await Expect(desk.TestId("my-sessions")).ToContainTextAsync("No open chats.");
        await Expect(desk.TestId("presence")).ToHaveValueAsync("OFFLINE");
        Assert.Empty(chat.Errors);
        Assert.Empty(desk.Errors);
    }

    [Fact]
    public async Task BothPagesFitAPhoneAndWorkWithTheKeyboard()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        await using var chat = await server.Chromium.NewPageAsync(server, 390, 844);
        await chat.SignInWithDevFormAsync("/chat/", LivechatServer.NewUserId(), "TENANT_ADMIN", tenant);

        // Tab to the start button, Enter starts; the composer then has the focus, drawn visibly.
        for (var i = 0; i < 10 && await chat.Page.EvaluateAsync<string?>("() => document.activeElement?.dataset.testid ?? null") != "start-chat"; i++)
            await chat.Page.Keyboard.PressAsync("Tab");
        await chat.Page.Keyboard.PressAsync("Enter");
        await Expect(chat.TestId("chat-status")).ToContainTextAsync($"chatting with Agent {agent.UserId}");
        await Expect(chat.TestId("composer")).ToBeFocusedAsync();
        await chat.Page.Keyboard.TypeAsync("Typed on a phone");
        await chat.Page.Keyboard.PressAsync("Enter");
        await Expect(chat.TestId("message-text")).ToHaveTextAsync(["Typed on a phone"]);
        await chat.Page.Keyboard.PressAsync("Shift+Tab");
        Assert.Equal("solid", await chat.Page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle"));
        Assert.True(await chat.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        await chat.ScreenshotAsync("customer-chat-phone");

        await using var desk = await server.Chromium.NewPageAsync(server, 390, 844);
        await desk.SignInWithDevFormAsync("/console/", agent.UserId, Roles.SupportAgent, tenant);
        await desk.TestId("session-item").ClickAsync();
        await Expect(desk.TestId("message-text")).ToHaveTextAsync(["Typed on a phone"]);
        Assert.True(await desk.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        await desk.ScreenshotAsync("agent-desk-phone");
        Assert.Empty(chat.Errors);
        Assert.Empty(desk.Errors);
    }

    [Fact]
    public async Task TheDevelopmentFormMintsATokenThatTheApiAccepts()
    {
        var tenant = await server.NewTenantAsync();
        var minted = await server.SendAsync(HttpMethod.Post, "/dev/token", json: $"{{\"user_id\": 42, \"role\": \"SUPPORT_AGENT\", \"tenant_id\": {tenant}}}");
        minted.AssertStatus(System.Net.HttpStatusCode.Created);
        var token = minted.Data.GetProperty("token").GetString();
        (await server.SendAsync(HttpMethod.Get, "/livechat/agents", token, Id(tenant))).AssertStatus(System.Net.HttpStatusCode.OK);
        (await server.SendAsync(HttpMethod.Post, "/dev/token", json: "{\"user_id\": 0, \"role\": \"SUPPORT_AGENT\", \"tenant_id\": 1}"))
            .AssertError(System.Net.HttpStatusCode.BadRequest, "user_id");
        (await server.SendAsync(HttpMethod.Post, "/dev/token", json: "{\"user_id\": 7, \"role\": \"SUPPORT_AGENT\", \"tenant_id\": -1}"))
            .AssertError(System.Net.HttpStatusCode.BadRequest, "tenant_id");
        (await server.SendAsync(HttpMethod.Post, "/dev/token", json: "{\"user_id\": 7, \"role\": \"admin; drop\", \"tenant_id\": 1}"))
            .AssertError(System.Net.HttpStatusCode.BadRequest, "role");
        (await server.SendAsync(HttpMethod.Post, "/dev/token", json: "{\"user_id\": 7,"))
            .AssertError(System.Net.HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task ASignInThatCannotWorkSaysWhyAndStaysOnTheForm()
    {
        var tenant = await server.NewTenantAsync();
        await using var page = await server.Chromium.NewPageAsync(server);
        await page.Page.GotoAsync("/chat/");
        var error = page.TestId("signin-error");

        await page.TestId("token-input").FillAsync("not a token");
        await page.TestId("tenant-input").FillAsync(Id(tenant));
        await page.TestId("token-submit").ClickAsync();
        await Expect(error).ToHaveTextAsync("This is not a JWT: it needs three parts separated by dots.");

        var forged = LivechatServer.Token(LivechatServer.NewUserId(), [tenant], ["TENANT_ADMIN"]) + "x"; // the signature no longer matches
        await page.TestId("token-input").FillAsync(forged);
        await page.TestId("token-submit").ClickAsync();
        await Expect(error).ToHaveTextAsync("Authentication is required: send a valid bearer token.");

        await page.TestId("token-input").FillAsync(server.Agent(tenant).Token);
        await page.TestId("token-submit").ClickAsync();
        await Expect(error).ToHaveTextAsync("This page is for customers. Support agents use the desk at /console/.");

        await page.TestId("token-input").FillAsync(server.TenantUser(tenant).Token);
        await page.TestId("tenant-input").FillAsync(Id(tenant + 100_000));
        await page.TestId("token-submit").ClickAsync();
        await Expect(error).ToHaveTextAsync("Your token does not grant access to this tenant.");
        await Expect(page.TestId("signin")).ToBeVisibleAsync();
        Assert.Null(await page.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('livechat.auth')"));
        Assert.Empty(page.Errors);
    }

    /// <summary>Contract section 20 on the customer page: when the agent closes the chat, the customer is asked for stars and a comment, once.</summary>
    [Fact]
    public async Task TheCustomerRatesTheChatWhenTheAgentClosesIt()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant);
        await using var chat = await server.Chromium.NewPageAsync(server, 800, 800);
        await chat.SignInWithTokenAsync("/chat/", customer.Token, tenant);
        await chat.TestId("start-chat").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToContainTextAsync($"chatting with Agent {agent.UserId}");
        await Expect(chat.TestId("rating")).ToBeHiddenAsync(); // an open chat is not rated
        var session = (await agent.GetAsync("/livechat/sessions?limit=1")).Data[0].Text("id");
        await agent.SendMessageAsync(session, "Your invoice is on its way. Anything else?");

        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(System.Net.HttpStatusCode.OK);
        await Expect(chat.TestId("rating")).ToBeVisibleAsync();
        await Expect(chat.TestId("send-rating")).ToBeDisabledAsync(); // no stars chosen yet
        await chat.TestId("star-4").ClickAsync();
        await chat.TestId("rating-comment").FillAsync("Quick and friendly.");
        await chat.ScreenshotAsync("customer-rating");
        await chat.TestId("send-rating").ClickAsync();

        await Expect(chat.TestId("rating-thanks")).ToHaveTextAsync("Thank you for your rating: 4 of 5.");
        await Expect(chat.TestId("rating")).ToBeHiddenAsync();
        var rating = (await agent.GetAsync($"/livechat/sessions/{session}")).Data.GetProperty("rating");
        Assert.Equal(4, rating.GetProperty("score").GetInt32());
        Assert.Equal("Quick and friendly.", rating.Text("comment"));
        await chat.ScreenshotAsync("customer-rated");

        // Coming back later shows the rating given, and asks for no other.
        await chat.Page.ReloadAsync();
        await Expect(chat.TestId("rating-thanks")).ToHaveTextAsync("Thank you for your rating: 4 of 5.");
        await Expect(chat.TestId("rating")).ToBeHiddenAsync();
        Assert.Empty(chat.Errors);
    }

    [Fact]
    public async Task AWaitingCustomerSeesItsPlaceInTheQueueMoveAndTheAgentJoin()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        await agent.StartSessionAsync(); // the agent is full (capacity 1)
        var first = await server.TenantUser(tenant).StartSessionAsync(); // routed: queued first
        await using var chat = await server.Chromium.NewPageAsync(server, 800, 700);
        await chat.SignInWithDevFormAsync("/chat/", LivechatServer.NewUserId(), "TENANT_ADMIN", tenant);
        await chat.TestId("start-chat").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToHaveTextAsync("Waiting for an agent. You are number 2 in the queue; you can already write.");
        await chat.ScreenshotAsync("customer-queued");

        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 2 })).AssertStatus(System.Net.HttpStatusCode.OK);
        await Expect(chat.TestId("chat-status")).ToContainTextAsync("number 1 in the queue");
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 3 })).AssertStatus(System.Net.HttpStatusCode.OK);
        await Expect(chat.TestId("chat-status")).ToHaveTextAsync($"Agent joined: you are chatting with Agent {agent.UserId}.");
        Assert.Equal(agent.UserId, (await agent.GetAsync($"/livechat/sessions/{first}")).Data.GetProperty("agent_id").GetInt64());
        Assert.Empty(chat.Errors);
    }
}
