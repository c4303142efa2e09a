using Microsoft.Playwright;

namespace Livechat.Tests.Infrastructure;

/// <summary>
/// Debian's <c>chromium</c> (installed by <c>scripts/test</c>), driven by Playwright; never Playwright's own browser
/// download. <c>LIVECHAT_CHROMIUM</c> names another binary. A missing browser fails the tests, it never skips them.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    private IPlaywright? playwright;

    public IBrowser Browser { get; private set; } = null!;

    public static string ExecutablePath => System.Environment.GetEnvironmentVariable("LIVECHAT_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"No Chromium at {ExecutablePath}: install Debian's chromium package (scripts/test does) or set LIVECHAT_CHROMIUM.");
        var chromium = new Chromium { playwright = await Playwright.CreateAsync() };
        chromium.Browser = await chromium.playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // As root (CI), Chromium refuses to start without --no-sandbox; /dev/shm is small in containers.
            Args = System.Environment.UserName == "root" ? ["--no-sandbox", "--disable-dev-shm-usage"] : ["--disable-dev-shm-usage"],
        });
        Assertions.SetDefaultExpectTimeout(10_000);
        return chromium;
    }

    /// <summary>A page of its own browser context (its own storage, like another person's browser).</summary>
    public Task<BrowserPage> NewPageAsync(LivechatServer server, int width = 1280, int height = 800) => NewPageAsync(server.BaseAddress, width, height);

    /// <summary>A page that reaches the service at <paramref name="address"/> (a <see cref="CuttableProxy"/>, say).</summary>
    public async Task<BrowserPage> NewPageAsync(Uri address, int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = address.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            TimezoneId = "Asia/Jakarta",
            Locale = "en-GB",
        });
        context.SetDefaultTimeout(10_000);
        var page = await context.NewPageAsync();
        return new BrowserPage(context, page);
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        playwright?.Dispose();
    }
}

/// <summary>One page in its own context, with what went wrong in it (script errors, failed requests) kept for asserts.</summary>
public sealed class BrowserPage : IAsyncDisposable
{
    private readonly IBrowserContext context;

    public BrowserPage(IBrowserContext context, IPage page)
    {
        this.context = context;
        Page = page;
        page.PageError += (_, error) => Errors.Add($"page error: {error}");
        page.Console += (_, message) =>
        {
            if (message.Type == "error") Console.Add(message.Text);
        };
    }

    public IPage Page { get; }

    /// <summary>Uncaught script errors: a page under test must have none.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>The browser console's error lines (a refused connection while the service restarts shows up here).</summary>
    public List<string> Console { get; } = [];

    public ILocator TestId(string id) => Page.GetByTestId(id);

    /// <summary>Signs in with the Development form (the test server runs in Development).</summary>
    public async Task SignInWithDevFormAsync(string path, long userId, string role, long tenantId, string? screenshot = null)
    {
        await Page.GotoAsync(path);
        await Assertions.Expect(TestId("dev-form")).ToBeVisibleAsync();
        if (screenshot is not null) await ScreenshotAsync(screenshot);
        await TestId("dev-user").FillAsync(userId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await TestId("dev-role").SelectOptionAsync(role);
        await TestId("dev-tenant").FillAsync(tenantId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await TestId("dev-submit").ClickAsync();
        await Assertions.Expect(TestId("connection")).ToHaveTextAsync("Live");
    }

    /// <summary>Signs in by pasting a token and a tenant id.</summary>
    public async Task SignInWithTokenAsync(string path, string token, long tenantId)
    {
        await Page.GotoAsync(path);
        await TestId("token-input").FillAsync(token);
        await TestId("tenant-input").FillAsync(tenantId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await TestId("token-submit").ClickAsync();
        await Assertions.Expect(TestId("connection")).ToHaveTextAsync("Live");
    }

    /// <summary>Saves a PNG under <see cref="Screenshots.Folder"/>.</summary>
    public async Task ScreenshotAsync(string name) =>
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots.Folder, name + ".png") });

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}

/// <summary>
/// Where the browser tests put their screenshots: <c>LIVECHAT_SCREENSHOTS</c>, or <c>TestResults/screenshots</c> at the
/// repository's root (ignored by git).
/// </summary>
public static class Screenshots
{
    public static string Folder { get; } = Find();

    private static string Find()
    {
        var folder = System.Environment.GetEnvironmentVariable("LIVECHAT_SCREENSHOTS");
        if (string.IsNullOrEmpty(folder)) folder = Path.Combine(Repository.Root, "TestResults", "screenshots");
        Directory.CreateDirectory(folder);
        return folder;
    }
}
