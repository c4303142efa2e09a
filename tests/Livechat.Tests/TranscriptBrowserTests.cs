using System.Net;
using System.Text.Json;
using Livechat.Tests.Attachments;
using Livechat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Livechat.Tests;

/// <summary>
/// Contract section 19 in Chromium: "Download transcript" on the desk's open chat (html, txt, json; notes included) and on
/// the customer's page (html, never a note), each file saved by the browser and read back; times in the browser's zone
/// (Asia/Jakarta). The downloaded HTML, opened as a page, runs nothing: its screenshot is docs/images/transcript.png.
/// </summary>
public sealed class TranscriptBrowserTests(ConsoleServer server) : IClassFixture<ConsoleServer>
{
    private static async Task<(string Name, string Text)> DownloadAsync(BrowserPage page, ILocator button)
    {
        var download = await page.Page.RunAndWaitForDownloadAsync(() => button.ClickAsync());
        Assert.Null(await download.FailureAsync());
        return (download.SuggestedFilename, await File.ReadAllTextAsync((await download.PathAsync())!));
    }

    [Fact]
    public async Task TheDeskAndTheCustomersPageDownloadTheChatsTranscript()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant, name: "Carl Customer");
        // The customer starts the chat on its page (routed to the one agent online); the conversation goes through the API.
        await using var chat = await server.Chromium.NewPageAsync(server, 800, 800);
        await chat.SignInWithTokenAsync("/chat/", customer.Token, tenant);
        await chat.TestId("start-chat").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToHaveTextAsync("You are chatting with Ann Agent.");
        var session = (await customer.GetAsync("/livechat/sessions?limit=1")).AssertStatus(HttpStatusCode.OK).Data[0].Text("id");
        await customer.SendMessageAsync(session, "Hello, my invoice shows the wrong plan. <script>alert('x')</script>");
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "Billing moved him by mistake: ask Dewi.", @internal = true }))
            .AssertStatus(HttpStatusCode.Created);
        var file = (await agent.UploadAsync(session, AttachmentKit.Pdf, "invoice-1042.pdf")).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "Corrected: here is the new invoice.", attachment_ids = new[] { file } }))
            .AssertStatus(HttpStatusCode.Created);
        await customer.SendMessageAsync(session, "Thank you, that was quick!");

        await using var desk = await server.Chromium.NewPageAsync(server);
        await desk.SignInWithTokenAsync("/console/", agent.Token, tenant);
        await Expect(desk.TestId("download-transcript")).ToBeHiddenAsync(); // no chat open yet
        await desk.TestId("session-item").ClickAsync();
        await Expect(desk.TestId("chat-title")).ToContainTextAsync("Carl Customer");
        await Expect(desk.TestId("message-text")).ToHaveCountAsync(4);

        // HTML, the default choice: named, in the browser's zone, with the note marked and the file by name.
        await Expect(desk.TestId("transcript-format")).ToHaveValueAsync("html");
        var (htmlName, html) = await DownloadAsync(desk, desk.TestId("download-transcript"));
        Assert.Equal($"transcript-{session}.html", htmlName);
        Assert.Contains("<dt>Times in</dt><dd>Asia/Jakarta (UTC+07:00)</dd>", html);
        Assert.Contains("Hello, my invoice shows the wrong plan. &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", html);
        Assert.Contains("Billing moved him by mistake: ask Dewi.", html);
        Assert.Contains("<span class=\"tag\">Internal note</span>", html);
        Assert.Contains("<li>invoice-1042.pdf <small>", html);

        await desk.TestId("transcript-format").SelectOptionAsync("txt");
        var (textName, text) = await DownloadAsync(desk, desk.TestId("download-transcript"));
        Assert.Equal($"transcript-{session}.txt", textName);
        Assert.Contains("Ann Agent [internal note]: Billing moved him by mistake: ask Dewi.", text);
        Assert.Contains("    [attachment] invoice-1042.pdf (application/pdf,", text);
        Assert.Contains("End of transcript: 4 messages.", text);

        await desk.TestId("transcript-format").SelectOptionAsync("json");
        var (jsonName, json) = await DownloadAsync(desk, desk.TestId("download-transcript"));
        Assert.Equal($"transcript-{session}.json", jsonName);
        var data = JsonDocument.Parse(json).RootElement.GetProperty("data");
        Assert.Equal("Asia/Jakarta", data.Text("time_zone"));
        Assert.Equal(4, data.GetProperty("messages").GetArrayLength());
        await desk.ScreenshotAsync("desk-transcript");

        // The downloaded page, opened in the browser: styled, and the message's script is text, not a script.
        await using (var opened = await server.Chromium.NewPageAsync(server, 900, 640))
        {
            await opened.Page.SetContentAsync(html);
            await Expect(opened.Page.Locator("li.customer .text").First).ToHaveTextAsync("Hello, my invoice shows the wrong plan. <script>alert('x')</script>");
            Assert.Equal(0, await opened.Page.Locator("script").CountAsync());
            await Expect(opened.Page.Locator("li.note")).ToHaveCSSAsync("background-color", "rgb(255, 244, 194)");
            await opened.ScreenshotAsync("transcript");
            Assert.Empty(opened.Errors);
        }

        // The customer's page: the same chat as HTML, without the note.
        await Expect(chat.TestId("message-text")).ToHaveCountAsync(3);
        var (customerName, customerHtml) = await DownloadAsync(chat, chat.TestId("download-transcript"));
        Assert.Equal($"transcript-{session}.html", customerName);
        Assert.Contains("Thank you, that was quick!", customerHtml); // the positive control: the message after the note
        Assert.Contains("invoice-1042.pdf", customerHtml);
        Assert.DoesNotContain("ask Dewi", customerHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("Internal note", customerHtml, StringComparison.Ordinal);
        Assert.Empty(chat.Errors);
        Assert.Empty(desk.Errors);
    }
}
