using System.Net;
using System.Text.RegularExpressions;
using Livechat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Livechat.Tests;

/// <summary>
/// Contract sections 16-18 on the agent desk in Chromium: names instead of ids, internal notes (which the customer's
/// page never shows), labels and the label filter, the canned-response picker, and the agent's notifications.
/// </summary>
public sealed class ConsoleDeskToolsBrowserTests(ConsoleServer server) : IClassFixture<ConsoleServer>
{
    [Fact]
    public async Task ANoteShowsOnTheDeskAsANoteAndNeverOnTheCustomersPage()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant, name: "Carl Customer");
        await using var chat = await server.Chromium.NewPageAsync(server, 800, 800);
        await chat.SignInWithTokenAsync("/chat/", customer.Token, tenant);
        await chat.TestId("start-chat").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToHaveTextAsync("You are chatting with Ann Agent.");
        await chat.TestId("composer").FillAsync("Hello, my invoice shows the wrong plan.");
        await chat.TestId("composer").PressAsync("Enter");
        await Expect(chat.TestId("message-text")).ToHaveTextAsync(["Hello, my invoice shows the wrong plan."]);

        // Every "typing" indicator the customer's page shows is counted, so a typed note cannot slip by between two looks.
        await chat.Page.EvaluateAsync(@"() => {
            window.typingShown = 0;
            const typing = document.querySelector('[data-testid=typing]');
            new MutationObserver(() => {
                if (!typing.hidden && typing.dataset.counted !== typing.textContent) { typing.dataset.counted = typing.textContent; window.typingShown++; }
                if (typing.hidden) delete typing.dataset.counted;
            }).observe(typing, { attributes: true, attributeFilter: ['hidden'], childList: true });
        }");
        Func<Task<int>> typingShown = () => chat.Page.EvaluateAsync<int>("() => window.typingShown");

        // The desk names the customer and the agent itself, where it used to show ids.
        await using var desk = await server.Chromium.NewPageAsync(server);
        await desk.SignInWithTokenAsync("/console/", agent.Token, tenant);
        await Expect(desk.TestId("whoami")).ToContainTextAsync("Ann Agent");
        await Expect(desk.TestId("session-name")).ToHaveTextAsync(["Carl Customer"]);
        await Expect(desk.TestId("last-message")).ToHaveTextAsync("Carl Customer: Hello, my invoice shows the wrong plan.");
        await desk.TestId("session-item").ClickAsync();
        await Expect(desk.TestId("chat-title")).ToContainTextAsync("Carl Customer");
        await Expect(desk.TestId("sender")).ToHaveTextAsync(["Carl Customer"]);

        // A note: the toggle puts the composer in note mode for one message.
        await desk.TestId("note-toggle").ClickAsync();
        await Expect(desk.TestId("note-toggle")).ToHaveAttributeAsync("aria-pressed", "true");
        await desk.TestId("composer").PressSequentiallyAsync("Billing moved him to the old plan by mistake: ask Dewi.");
        await desk.TestId("composer").PressAsync("Enter");
        var note = desk.TestId("message").Filter(new() { HasText = "ask Dewi" });
        await Expect(note.GetByTestId("note-tag")).ToHaveTextAsync("Internal note");
        await Expect(note).ToHaveAttributeAsync("data-internal", "true");
        await Expect(note).ToHaveCSSAsync("background-color", "rgb(255, 244, 194)");
        await Expect(desk.TestId("note-toggle")).ToHaveAttributeAsync("aria-pressed", "false");

        // Then an ordinary message: the positive control that the customer's page heard everything after the note. Its
        // typing reaches the customer, the note's did not (no indicator was shown before this one).
        await Expect(chat.TestId("typing")).ToBeHiddenAsync();
        Assert.Equal(0, await typingShown());
        await desk.TestId("composer").PressSequentiallyAsync("Thank you, I am correcting the invoice now.");
        await Expect(chat.TestId("typing")).ToHaveTextAsync("Ann Agent is typing…");
        Assert.Equal(1, await typingShown());
        await desk.TestId("composer").PressAsync("Enter");
        await Expect(desk.TestId("message-text")).ToHaveTextAsync([
            "Hello, my invoice shows the wrong plan.", "Billing moved him to the old plan by mistake: ask Dewi.", "Thank you, I am correcting the invoice now."]);
        await Expect(desk.TestId("note-tag")).ToHaveCountAsync(1);
        await desk.ScreenshotAsync("desk-note");

        // The customer's page shows the message, named, and never the note: live, and again from the history after a reload.
        await Expect(chat.TestId("message-text")).ToHaveTextAsync(["Hello, my invoice shows the wrong plan.", "Thank you, I am correcting the invoice now."]);
        await Expect(chat.TestId("sender")).ToHaveTextAsync(["You", "Ann Agent"]);
        await chat.Page.ReloadAsync();
        await Expect(chat.TestId("connection")).ToHaveTextAsync("Live");
        await Expect(chat.TestId("message-text")).ToHaveTextAsync(["Hello, my invoice shows the wrong plan.", "Thank you, I am correcting the invoice now."]);
        Assert.Equal(0, await chat.Page.GetByText("ask Dewi").CountAsync());
        Assert.Equal(0, await chat.TestId("note-toggle").CountAsync());
        await chat.ScreenshotAsync("desk-note-customer-view");
        Assert.Empty(chat.Errors);
        Assert.Empty(desk.Errors);
    }

    [Fact]
    public async Task LabelsAreEditedAsChipsAndFilterTheChats()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 5 })).AssertStatus(HttpStatusCode.OK);
        var first = await server.TenantUser(tenant, name: "Carl Customer").StartSessionAsync(agent.UserId);
        var second = await server.TenantUser(tenant, name: "Dina Customer").StartSessionAsync(agent.UserId);
        // A colleague's chat with the same label: in the label's list, but neither in "My chats" nor with "Only mine".
        var colleague = server.Agent(tenant, name: "Bo Colleague");
        await colleague.GoOnlineAsync();
        var theirs = await server.TenantUser(tenant, name: "Eko Customer").StartSessionAsync(colleague.UserId);
        (await colleague.PutAsync($"/livechat/sessions/{theirs}/labels", new { labels = new[] { "billing" } })).AssertStatus(HttpStatusCode.OK);

        await using var desk = await server.Chromium.NewPageAsync(server);
        await desk.SignInWithTokenAsync("/console/", agent.Token, tenant);
        await Expect(desk.TestId("session-item")).ToHaveCountAsync(2);
        await Expect(desk.TestId("session-name")).ToHaveTextAsync(["Dina Customer", "Carl Customer"]);
        await desk.Page.Locator($"[data-testid=session-item][data-session-id='{first}']").ClickAsync();
        await Expect(desk.TestId("chat-title")).ToContainTextAsync("Carl Customer");
        await Expect(desk.TestId("label-chip")).ToHaveCountAsync(0);

        // Add two (typed in any case: the service lower-cases), then a bad one, which says why and changes nothing.
        await desk.TestId("label-input").FillAsync("Billing");
        await desk.TestId("label-add").ClickAsync();
        await Expect(desk.TestId("label-name")).ToHaveTextAsync(["billing"]);
        await desk.TestId("label-input").FillAsync("vip");
        await desk.TestId("label-input").PressAsync("Enter");
        await Expect(desk.TestId("label-name")).ToHaveTextAsync(["billing", "vip"]);
        await desk.TestId("label-input").FillAsync("not a label!");
        await desk.TestId("label-add").ClickAsync();
        await Expect(desk.TestId("desk-error")).ToContainTextAsync("\"not a label!\" is not a label.");
        await Expect(desk.TestId("label-name")).ToHaveTextAsync(["billing", "vip"]);
        await Expect(desk.TestId("label-input")).ToHaveValueAsync("not a label!");
        Assert.Equal(new[] { "billing", "vip" }, Labels((await agent.GetAsync($"/livechat/sessions/{first}")).Data));
        await desk.TestId("label-input").FillAsync("");
        await Expect(desk.Page.Locator($"[data-testid=session-item][data-session-id='{first}']").GetByTestId("session-label")).ToHaveTextAsync(["billing", "vip"]);
        await desk.ScreenshotAsync("desk-labels");

        // Remove one with its chip's button.
        await desk.TestId("label-chip").Filter(new() { HasText = "vip" }).GetByTestId("label-remove").ClickAsync();
        await Expect(desk.TestId("label-name")).ToHaveTextAsync(["billing"]);
        Assert.Equal(new[] { "billing" }, Labels((await agent.GetAsync($"/livechat/sessions/{first}")).Data));

        // The filter: the tenant's chats with the label, then only this agent's.
        await desk.TestId("label-filter").SelectOptionAsync("billing");
        await Expect(desk.TestId("filtered-item")).ToHaveCountAsync(2);
        await Expect(desk.Page.Locator($"[data-testid=filtered-item][data-session-id='{theirs}']")).ToContainTextAsync("With Bo Colleague");
        await desk.TestId("filter-mine").CheckAsync();
        await Expect(desk.TestId("filtered-item")).ToHaveCountAsync(1);
        await Expect(desk.TestId("filtered-item")).ToHaveAttributeAsync("data-session-id", first);
        await desk.ScreenshotAsync("desk-label-filter");
        await Expect(desk.Page.Locator($"[data-testid=session-item][data-session-id='{theirs}']")).ToHaveCountAsync(0);
        Assert.NotEqual(first, second);
        Assert.Empty(desk.Errors);
    }

    [Fact]
    public async Task SlashOpensTheCannedResponsesAndEnterInsertsOneRenderedForTheChat()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant, name: "Carl Customer");
        var session = await customer.StartSessionAsync(agent.UserId);
        foreach (var (shortcut, title, body) in new[]
        {
            ("refund", "Refund policy", "Hi {{customer.name}}, a refund reaches your account within 5 days. {{agent.name}}"),
            ("receipt", "Where is my receipt", "Your receipt is in the Billing page, {{customer.name}}."),
            ("greet", "Greeting", "Hello {{customer.name}}, how can I help?"),
        })
            (await agent.PostAsync("/livechat/canned-responses", new { shortcut, title, body })).AssertStatus(HttpStatusCode.Created);

        await using var desk = await server.Chromium.NewPageAsync(server);
        await desk.SignInWithTokenAsync("/console/", agent.Token, tenant);
        await desk.TestId("session-item").ClickAsync();

        // "/" lists them all, "/re" the two shortcuts that start so, "/ref" the one.
        var composer = desk.TestId("composer");
        await composer.PressSequentiallyAsync("/");
        await Expect(desk.TestId("canned-item")).ToHaveCountAsync(3);
        await composer.PressSequentiallyAsync("re");
        await Expect(desk.TestId("canned-item")).ToHaveTextAsync([new Regex("^/receipt"), new Regex("^/refund")]);
        await desk.ScreenshotAsync("desk-canned-picker");
        await composer.PressSequentiallyAsync("f");
        await Expect(desk.TestId("canned-item")).ToHaveTextAsync([new Regex("^/refund Refund policy")]);

        // Enter inserts the response rendered for this chat (the names filled in); a second Enter sends it.
        await composer.PressAsync("Enter");
        await Expect(desk.TestId("canned-list")).ToBeHiddenAsync();
        const string Rendered = "Hi Carl Customer, a refund reaches your account within 5 days. Ann Agent";
        await Expect(composer).ToHaveValueAsync(Rendered);
        await composer.PressAsync("Enter");
        await Expect(desk.TestId("message-text")).ToHaveTextAsync([Rendered]);
        await Expect(composer).ToHaveValueAsync("");

        // Nothing matches: it says so; Escape closes it and leaves the draft as typed.
        await composer.PressSequentiallyAsync("/zzz");
        await Expect(desk.TestId("canned-empty")).ToBeVisibleAsync();
        await composer.PressAsync("Escape");
        await Expect(desk.TestId("canned-list")).ToBeHiddenAsync();
        await Expect(composer).ToHaveValueAsync("/zzz");
        var sent = (await customer.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).Data;
        Assert.Equal(1, sent.GetArrayLength());
        Assert.Equal(Rendered, sent[0].Text("message"));
        Assert.Empty(desk.Errors);
    }

    [Fact]
    public async Task TheDeskCountsTheAgentsUnreadNotificationsAndShowsWhatTheCustomerHasRead()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 2 })).AssertStatus(HttpStatusCode.OK);
        await using var desk = await server.Chromium.NewPageAsync(server);
        await desk.SignInWithTokenAsync("/console/", agent.Token, tenant);
        await Expect(desk.TestId("notifications")).ToContainTextAsync("No notifications.");
        await Expect(desk.TestId("notifications-unread")).ToBeEmptyAsync();

        // A routed start assigns the chat (LIVECHAT_ASSIGNED), the customer's message notifies (LIVECHAT_MESSAGE): both live.
        var customer = server.TenantUser(tenant, name: "Carl Customer");
        (await customer.GetAsync("/livechat/sessions?limit=1")).AssertStatus(HttpStatusCode.OK); // the service learns its name
        var session = await customer.StartSessionAsync();
        var reply = await agent.SendMessageAsync(session, "Welcome! What can I do for you?");
        (await customer.PostAsync($"/livechat/sessions/{session}/read", new { message_id = reply.Text("id") })).AssertStatus(HttpStatusCode.OK);
        await customer.SendMessageAsync(session, "My parcel did not arrive.");
        await Expect(desk.TestId("notification")).ToHaveCountAsync(2);
        await Expect(desk.TestId("notifications-unread")).ToHaveTextAsync("2");
        await Expect(desk.TestId("notification").First).ToContainTextAsync("My parcel did not arrive.");
        await Expect(desk.TestId("notification").Nth(1)).ToContainTextAsync("New chat with Carl Customer");
        await Expect(desk.TestId("last-message")).ToHaveTextAsync("Carl Customer: My parcel did not arrive.");
        await Expect(desk.TestId("unread")).ToHaveTextAsync("1");
        await desk.ScreenshotAsync("desk-notifications");

        // Opening one opens its chat, which reads both of that chat's notifications; "Read" already stands under the
        // reply the customer read (from everyone's markers, before any live event).
        await desk.TestId("notification").First.ClickAsync();
        await Expect(desk.TestId("notifications-unread")).ToBeEmptyAsync();
        await Expect(desk.TestId("notification")).ToHaveCountAsync(2);
        await Expect(desk.Page.Locator("[data-testid=notification][data-read=false]")).ToHaveCountAsync(0);
        await Expect(desk.TestId("message-text")).ToHaveTextAsync(["Welcome! What can I do for you?", "My parcel did not arrive."]);
        await Expect(desk.TestId("message").Filter(new() { HasText = "Welcome!" }).GetByTestId("read-mark")).ToBeVisibleAsync();

        // Another chat's notification while this one is open stays unread; "Mark all read" clears it, here and on the server.
        await server.TenantUser(tenant, name: "Dina Customer").StartSessionAsync();
        await Expect(desk.TestId("notifications-unread")).ToHaveTextAsync("1");
        await Expect(desk.TestId("notification").First).ToHaveAttributeAsync("data-read", "false");
        await desk.TestId("notifications-read-all").ClickAsync();
        await Expect(desk.TestId("notifications-unread")).ToBeEmptyAsync();
        Assert.Equal(0, (await agent.GetAsync("/notifications?unread=true")).Data.GetArrayLength());
        Assert.Empty(desk.Errors);
    }

    private static string[] Labels(System.Text.Json.JsonElement session) =>
        session.TryGetProperty("labels", out var labels) ? [.. labels.EnumerateArray().Select(l => l.GetString()!)] : [];
}
