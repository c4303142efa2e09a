using System.Net;
using System.Text.RegularExpressions;
using Livechat.Tests.Attachments;
using Livechat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Livechat.Tests.Attachments.AttachmentKit;
using static Microsoft.Playwright.Assertions;

namespace Livechat.Tests;

/// <summary>The pages' service with the attachment test limits (600 000 bytes a file, 1 500 000 a tenant).</summary>
public sealed class AttachmentConsoleServer : BrowserServer
{
    public AttachmentConsoleServer() : base("Development") => AttachmentSettings.Apply(this, databaseStore: false);
}

/// <summary>
/// Contract section 15 on both pages in Chromium: files attached with the button, pasted and dropped, uploaded with a
/// progress bar, sent and shown on the other side live (pictures as previews that open full size, other files as a
/// link with their size); refusals said in words, with nothing stored.
/// </summary>
public sealed class ConsoleAttachmentsBrowserTests(AttachmentConsoleServer server) : IClassFixture<AttachmentConsoleServer>
{
    /// <summary>
    /// Draws a picture in the page (a canvas) and leaves it as a PNG File in window[name]: real pixels, so a preview
    /// that shows it has a size. Returns the PNG's bytes (for setInputFiles).
    /// </summary>
    private static async Task<byte[]> DrawAsync(BrowserPage page, string name, string title, string detail, string colour)
    {
        var base64 = await page.Page.EvaluateAsync<string>(@"async ([name, title, detail, colour]) => {
            const canvas = document.createElement('canvas');
            canvas.width = 640; canvas.height = 400;
            const g = canvas.getContext('2d');
            g.fillStyle = '#ffffff'; g.fillRect(0, 0, 640, 400);
            g.fillStyle = colour; g.fillRect(0, 0, 640, 70);
            g.fillStyle = '#ffffff'; g.font = 'bold 34px sans-serif'; g.fillText(title, 24, 48);
            g.fillStyle = '#1d2733'; g.font = '26px sans-serif';
            detail.split('|').forEach((line, i) => g.fillText(line, 24, 130 + i * 44));
            g.strokeStyle = colour; g.lineWidth = 6; g.strokeRect(3, 3, 634, 394);
            const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
            window[name] = new File([blob], name, { type: 'image/png' });
            const bytes = new Uint8Array(await blob.arrayBuffer());
            let text = '';
            for (const b of bytes) text += String.fromCharCode(b);
            return btoa(text);
        }", new object[] { name, title, detail, colour });
        return Convert.FromBase64String(base64);
    }

    /// <summary>Chromium's network emulation: at most <paramref name="bytesPerSecond"/> up (-1: no limit).</summary>
    private static async Task ThrottleUploadsAsync(ICDPSession network, int bytesPerSecond) =>
        await network.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object>
        {
            ["offline"] = false, ["latency"] = 0, ["downloadThroughput"] = -1, ["uploadThroughput"] = bytesPerSecond,
        });

    private static FilePayload File(string name, string mimeType, byte[] bytes) => new() { Name = name, MimeType = mimeType, Buffer = bytes };

    /// <summary>A picture loaded and decoded at its full width (every drawn one is 640 pixels wide): the signed link answered with it.</summary>
    private static async Task ExpectShownAsync(ILocator image)
    {
        await Expect(image).ToHaveJSPropertyAsync("complete", true);
        await Expect(image).ToHaveJSPropertyAsync("naturalWidth", 640);
    }

    private sealed record Conversation(BrowserPage Chat, BrowserPage Desk, Caller Agent, Caller Customer, string Session, long Tenant) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Chat.DisposeAsync();
            await Desk.DisposeAsync();
        }
    }

    /// <summary>A customer's chat with Ann Agent, open on both pages.</summary>
    private async Task<Conversation> ChatAsync()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant, name: "Carl Customer");
        var chat = await server.Chromium.NewPageAsync(server, 800, 900);
        await chat.SignInWithTokenAsync("/chat/", customer.Token, tenant);
        await chat.TestId("start-chat").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToHaveTextAsync("You are chatting with Ann Agent.");
        var session = (await chat.TestId("messages").GetAttributeAsync("data-session-id"))!;
        var desk = await server.Chromium.NewPageAsync(server, 1280, 1000);
        await desk.SignInWithTokenAsync("/console/", agent.Token, tenant);
        await desk.TestId("session-item").ClickAsync();
        await Expect(desk.TestId("chat-title")).ToContainTextAsync("Carl Customer");
        return new(chat, desk, agent, customer, session, tenant);
    }

    [Fact]
    public async Task ACustomerAttachesWithTheButtonAndByPastingAndTheDeskShowsThePreviewLive()
    {
        await using var conversation = await ChatAsync();
        var (chat, desk, agent, _, session, _) = conversation;

        // The button's file input: a picture and a PDF at once, each a chip that is ready once uploaded.
        var invoice = await DrawAsync(chat, "invoice.png", "Invoice 2026-118", "Plan: Business (should be Starter)|Amount: €49.00|Due: 12 December 2026", "#0b5cad");
        await chat.TestId("attach-input").SetInputFilesAsync(new[] { File("invoice.png", "image/png", invoice), File("contract.pdf", "application/pdf", Pdf) });
        await Expect(chat.TestId("attach-name")).ToHaveTextAsync(["invoice.png", "contract.pdf"]);
        await Expect(chat.Page.Locator("[data-testid=attach-chip][data-state=ready]")).ToHaveCountAsync(2);
        await Expect(chat.TestId("attach-progress").First).ToBeHiddenAsync();
        await chat.TestId("composer").FillAsync("Here is the invoice, and my contract.");
        await chat.TestId("send").ClickAsync();
        await Expect(chat.TestId("attach-tray")).ToBeHiddenAsync();

        // The desk hears it live: the picture as a preview that loaded, the PDF as a link with its size.
        var message = desk.TestId("message").Filter(new() { HasText = "Here is the invoice" });
        await Expect(message.GetByTestId("attachment-image")).ToHaveAttributeAsync("alt", "invoice.png");
        await ExpectShownAsync(message.GetByTestId("attachment-image"));
        await Expect(message.GetByTestId("attachment-link")).ToHaveTextAsync("contract.pdf");
        await Expect(message.GetByTestId("attachment-size")).ToHaveTextAsync($"{Pdf.Length} bytes · PDF");
        await Expect(desk.TestId("last-message")).ToHaveTextAsync("Carl Customer: (2 files) Here is the invoice, and my contract.");

        // A pasted screenshot, without text: the message shows the picture alone (not the names the service keeps as its text).
        await DrawAsync(chat, "image.png", "Settings › Billing", "Current plan: Business|Seats: 3", "#1e6b34");
        await chat.TestId("composer").EvaluateAsync(@"composer => {
            const data = new DataTransfer();
            data.items.add(window['image.png']);
            composer.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
        }");
        await Expect(chat.Page.Locator("[data-testid=attach-chip][data-state=ready]")).ToHaveCountAsync(1);
        await chat.TestId("composer").PressAsync("Enter");
        await Expect(chat.TestId("attachment-image")).ToHaveCountAsync(2);
        var pasted = desk.TestId("message").Last;
        await Expect(pasted.GetByTestId("attachment-image")).ToHaveAttributeAsync("alt", "image.png");
        await ExpectShownAsync(pasted.GetByTestId("attachment-image"));
        await Expect(pasted.GetByTestId("message-text")).ToHaveCountAsync(0);

        // A click shows the picture full size over the desk.
        await message.GetByTestId("attachment-image").ClickAsync();
        await Expect(desk.TestId("viewer")).ToBeVisibleAsync();
        await Expect(desk.TestId("viewer-caption")).ToHaveTextAsync(new Regex("^invoice\\.png · [0-9.]+ KB$"));
        await ExpectShownAsync(desk.TestId("viewer-image"));
        await desk.TestId("viewer-close").ClickAsync();
        await Expect(desk.TestId("viewer")).ToBeHiddenAsync();
        await desk.ScreenshotAsync("attachments-desk");

        // A link that no longer works (expired, here tampered with): the preview asks for a fresh one and shows again.
        var preview = message.GetByTestId("attachment-image");
        await preview.EvaluateAsync("img => { img.src = img.src.replace(/sig=[0-9a-f]+/, 'sig=' + '0'.repeat(64)); }");
        await Expect(preview).Not.ToHaveAttributeAsync("src", new Regex("sig=0{64}"));
        await ExpectShownAsync(preview);

        // After a reload the customer's page shows the same files from the history.
        await chat.Page.ReloadAsync();
        await Expect(chat.TestId("connection")).ToHaveTextAsync("Live");
        await Expect(chat.TestId("attachment-image")).ToHaveCountAsync(2);
        await ExpectShownAsync(chat.TestId("attachment-image").First);
        await Expect(chat.TestId("attachment-link")).ToHaveTextAsync("contract.pdf");

        // What the pages showed is what the service holds.
        var messages = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).Data;
        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal(new[] { "invoice.png", "contract.pdf" }, messages[0].GetProperty("attachments").EnumerateArray().Select(a => a.Text("file_name")));
        Assert.Equal("image.png", messages[1].Text("message"));
        Assert.Equal("image/png", messages[1].GetProperty("attachments")[0].Text("content_type"));
        Assert.Empty(chat.Errors);
        Assert.Empty(desk.Errors);
    }

    [Fact]
    public async Task AnAgentDropsFilesOnTheChatRemovesOneAndTheCustomerSeesTheRestLive()
    {
        await using var conversation = await ChatAsync();
        var (chat, desk, agent, _, session, tenant) = conversation;
        await chat.TestId("composer").FillAsync("How do I change my plan?");
        await chat.TestId("composer").PressAsync("Enter");
        await Expect(desk.TestId("message-text")).ToHaveTextAsync(["How do I change my plan?"]);

        // Two files dropped on the conversation: the drop zone lights up while they are dragged over it.
        var picture = await DrawAsync(desk, "change-plan.png", "Change plan", "1. Open Settings › Billing|2. Choose Starter|3. Save", "#8a5a00");
        await desk.Page.EvaluateAsync(@"() => {
            window.dropped = new DataTransfer();
            window.dropped.items.add(window['change-plan.png']);
            window.dropped.items.add(new File(['Old plan: Business\nNew plan: Starter\n'], 'notes.txt', { type: 'text/plain' }));
            document.querySelector('#chat-body').dispatchEvent(new DragEvent('dragenter', { dataTransfer: window.dropped, bubbles: true, cancelable: true }));
        }");
        await Expect(desk.Page.Locator("#chat-body.dropping")).ToHaveCountAsync(1);
        await desk.Page.EvaluateAsync("() => document.querySelector('[data-testid=messages]').dispatchEvent(new DragEvent('drop', { dataTransfer: window.dropped, bubbles: true, cancelable: true }))");
        await Expect(desk.Page.Locator("#chat-body.dropping")).ToHaveCountAsync(0);
        await Expect(desk.Page.Locator("[data-testid=attach-chip][data-state=ready]")).ToHaveCountAsync(2);
        Assert.Equal(2, (await StoredAsync(server, tenant)).Rows);
        // Dropped beside the chat: the page keeps the browser from leaving to show the file, and attaches nothing.
        Assert.True(await desk.Page.EvaluateAsync<bool>(@"() => {
            const drop = new DragEvent('drop', { dataTransfer: window.dropped, bubbles: true, cancelable: true });
            document.querySelector('.sidebar').dispatchEvent(drop);
            return drop.defaultPrevented;
        }"));
        await Expect(desk.TestId("attach-chip")).ToHaveCountAsync(2);

        // × on the text file deletes its staged upload on the service.
        var deleted = await desk.Page.RunAndWaitForResponseAsync(
            () => desk.TestId("attach-chip").Filter(new() { HasText = "notes.txt" }).GetByTestId("attach-remove").ClickAsync(),
            response => response.Request.Method == "DELETE");
        Assert.Equal(204, deleted.Status);
        await Expect(desk.TestId("attach-name")).ToHaveTextAsync(["change-plan.png"]);
        Assert.Equal(1, (await StoredAsync(server, tenant)).Rows);
        await desk.TestId("composer").FillAsync("Like this:");
        await desk.TestId("composer").PressAsync("Enter");

        // The customer sees the agent's picture live, loaded, and opens it full size.
        var reply = chat.TestId("message").Filter(new() { HasText = "Like this:" });
        await Expect(reply.GetByTestId("sender")).ToHaveTextAsync("Ann Agent");
        await Expect(reply.GetByTestId("attachment-image")).ToHaveAttributeAsync("alt", "change-plan.png");
        await ExpectShownAsync(reply.GetByTestId("attachment-image"));
        await Expect(chat.TestId("attachment-link")).ToHaveCountAsync(0);
        await reply.GetByTestId("attachment-image").ClickAsync();
        await ExpectShownAsync(chat.TestId("viewer-image"));
        await chat.Page.Keyboard.PressAsync("Escape");
        await Expect(chat.TestId("viewer")).ToBeHiddenAsync();

        // The customer starts a photo on a slow line (the browser's upload throttled): its bar moves, and × cancels it.
        // The line stays slow to the end: lifting the throttle made Chromium 156 deliver the cancelled upload's body
        // after all (its emulation queues it), which a real line, whose connection closes with the request, does not.
        var network = await chat.Page.Context.NewCDPSessionAsync(chat.Page);
        await network.SendAsync("Network.enable");
        await ThrottleUploadsAsync(network, 60_000);
        await chat.TestId("attach-input").SetInputFilesAsync(File("photo.png", "image/png", PngOfSize(500_000)));
        var photo = chat.TestId("attach-chip").Filter(new() { HasText = "photo.png" });
        await Expect(photo).ToHaveAttributeAsync("data-state", "uploading");
        await chat.Page.WaitForFunctionAsync("() => { const bar = document.querySelector('[data-state=uploading] progress'); return bar && bar.value >= 15 && bar.value < 100; }",
            null, new() { Timeout = 20_000 });
        await chat.TestId("composer").FillAsync("Thank you! Here is the receipt from my bank.");
        await chat.ScreenshotAsync("attachments-customer");
        await photo.GetByTestId("attach-remove").ClickAsync();
        await Expect(photo).ToHaveCountAsync(0);
        // Then answers with a receipt on the same slow line: it arrives, so the line carried whatever came before it.
        await chat.TestId("attach-input").SetInputFilesAsync(File("receipt.pdf", "application/pdf", Pdf));
        await Expect(chat.Page.Locator("[data-testid=attach-chip][data-state=ready]")).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        await chat.TestId("send").ClickAsync();
        await Expect(desk.TestId("attachment-link")).ToHaveTextAsync("receipt.pdf");

        var sent = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).Data;
        Assert.Equal(new[] { "change-plan.png" }, sent[1].GetProperty("attachments").EnumerateArray().Select(a => a.Text("file_name")));
        Assert.Equal(new[] { "receipt.pdf" }, sent[2].GetProperty("attachments").EnumerateArray().Select(a => a.Text("file_name")));
        // The cancelled photo left nothing: the two files sent are all the tenant holds (its partial file is deleted
        // once the service notices the aborted request).
        long held = picture.Length + Pdf.Length;
        Assert.Equal((2L, held, held), await StoredAsync(server, tenant));
        Assert.Empty(chat.Errors);
        Assert.Empty(desk.Errors);
    }

    [Fact]
    public async Task ATooLargeAWrongOrAnOverQuotaFileIsRefusedInWordsAndNothingIsStoredOrSent()
    {
        await using var conversation = await ChatAsync();
        var (chat, desk, _, customer, session, tenant) = conversation;

        // Too large: refused by the service (413) and said with sizes a person reads.
        await chat.TestId("attach-input").SetInputFilesAsync(File("scan.png", "image/png", PngOfSize(700_000)));
        await Expect(chat.TestId("chat-error")).ToHaveTextAsync("“scan.png” is too large to send (684 KB). A file may be at most 586 KB.");
        await Expect(chat.TestId("attach-chip")).ToHaveCountAsync(0);
        await AssertNothingStoredAsync(server, tenant);

        // A program with a picture's name: the bytes decide (400), and the page says what may be sent.
        await chat.TestId("attach-input").SetInputFilesAsync(File("setup.png", "image/png", Exe));
        await Expect(chat.TestId("chat-error")).ToHaveTextAsync(
            "“setup.png” cannot be sent: this kind of file is not accepted. You can send PNG, JPEG, GIF, WebP, PDF, text, CSV, Word (docx), Excel (xlsx) and PowerPoint (pptx) files.");
        await Expect(chat.TestId("attach-chip")).ToHaveCountAsync(0);
        await AssertNothingStoredAsync(server, tenant);

        // Over the tenant's quota (409): two staged uploads of 550 000 bytes leave no room for a third.
        for (var i = 0; i < 2; i++) (await customer.UploadAsync(session, PngOfSize(550_000), $"big-{i}.png")).AssertStatus(HttpStatusCode.Created);
        await chat.TestId("attach-input").SetInputFilesAsync(File("photo.png", "image/png", PngOfSize(500_000)));
        await Expect(chat.TestId("chat-error")).ToHaveTextAsync(
            "“photo.png” was not uploaded: there is no room left for files in this workspace. Ask an administrator to free some space.");
        await Expect(chat.TestId("attach-chip")).ToHaveCountAsync(0);
        await chat.ScreenshotAsync("attachments-refused");
        Assert.Equal((2L, 1_100_000L, 1_100_000L), await StoredAsync(server, tenant));

        // Nothing was sent: the composer is empty, and neither page nor the service has a message.
        await Expect(chat.TestId("message")).ToHaveCountAsync(0);
        await chat.TestId("composer").PressAsync("Enter");
        Assert.Equal(0, (await customer.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).Data.GetArrayLength());
        await Expect(desk.TestId("message")).ToHaveCountAsync(0);
        Assert.Empty(chat.Errors);
    }
}

/// <summary>The pages' service with a clamd that is not running until the test starts it (scanning retried every second).</summary>
public sealed class ScanningConsoleServer : BrowserServer
{
    public ScanningConsoleServer() : base("Development")
    {
        AttachmentSettings.Apply(this, databaseStore: false);
        Settings["Livechat:Attachments:ClamAv"] = Clamd.Address;
        Settings["Livechat:Attachments:ScanRetrySeconds"] = "1";
    }

    public ClamdServer Clamd { get; } = new();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Clamd.DisposeAsync();
    }
}

/// <summary>Contract section 15's scanning on the customer's page: a file waits, visibly, until clamd has looked at it.</summary>
public sealed class ConsoleScanningBrowserTests(ScanningConsoleServer server) : IClassFixture<ScanningConsoleServer>
{
    [Fact]
    public async Task AFileBeingScannedHoldsTheMessageUntilItIsCleanAndAnInfectedOneIsRemovedWithAReason()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant, name: "Carl Customer");
        await using var chat = await server.Chromium.NewPageAsync(server, 800, 900);
        await chat.SignInWithTokenAsync("/chat/", customer.Token, tenant);
        await chat.TestId("start-chat").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToHaveTextAsync("You are chatting with Ann Agent.");
        var session = (await chat.TestId("messages").GetAttributeAsync("data-session-id"))!;

        // clamd is down: the upload is stored but scanning, the chip says so and Send waits (the scanner has
        // tried and failed twice: the log is the signal that it is retrying, not a pause).
        await chat.TestId("attach-input").SetInputFilesAsync(new FilePayload { Name = "statement.pdf", MimeType = "application/pdf", Buffer = Pdf });
        var chip = chat.TestId("attach-chip");
        await Expect(chip).ToHaveAttributeAsync("data-state", "scanning");
        await Expect(chip.GetByTestId("attach-status")).ToHaveTextAsync("Checking for viruses…");
        await chat.TestId("composer").FillAsync("My bank statement.");
        await Expect(chat.TestId("send")).ToBeDisabledAsync();
        await chat.ScreenshotAsync("attachments-scanning");
        await Eventually.Async(() =>
        {
            Assert.True(server.Logs.Lines.Count(l => l.Message.Contains("could not scan attachment", StringComparison.Ordinal)) >= 2);
            return Task.CompletedTask;
        }, seconds: 30);
        await chat.TestId("composer").PressAsync("Enter");
        await Expect(chat.TestId("chat-error")).ToHaveTextAsync("Wait until the files are ready (uploaded and checked), then send.");
        Assert.Equal(0, (await customer.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).Data.GetArrayLength());

        // clamd comes up: attachmentUpdated makes the chip ready live, and the message goes with it.
        await server.Clamd.StartAsync();
        await Expect(chip).ToHaveAttributeAsync("data-state", "ready", new() { Timeout = 30_000 });
        await Expect(chat.TestId("send")).ToBeEnabledAsync();
        await chat.TestId("send").ClickAsync();
        await Expect(chat.TestId("attachment-link")).ToHaveTextAsync("statement.pdf");

        // The EICAR test file: scanning, then removed with the reason; nothing of it can be sent.
        await chat.TestId("attach-input").SetInputFilesAsync(new FilePayload { Name = "eicar.txt", MimeType = "text/plain", Buffer = Eicar });
        await Expect(chat.TestId("chat-error")).ToHaveTextAsync("“eicar.txt” was removed: the virus scanner found something harmful in it.", new() { Timeout = 30_000 });
        await Expect(chat.TestId("attach-chip")).ToHaveCountAsync(0);
        await chat.ScreenshotAsync("attachments-rejected");
        var messages = (await customer.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).Data;
        Assert.Equal(1, messages.GetArrayLength());
        Assert.Equal("statement.pdf", messages[0].GetProperty("attachments")[0].Text("file_name"));
        Assert.Empty(chat.Errors);
    }
}
