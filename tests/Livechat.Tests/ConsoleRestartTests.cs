using Livechat.Auth;
using Livechat.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Livechat.Tests;

/// <summary>The pages after the service restarts: they reconnect by themselves and lose nothing, showing nothing twice.</summary>
public sealed class ConsoleRestartTests : IAsyncLifetime
{
    private Chromium chromium = null!;

    public async Task InitializeAsync() => chromium = await Chromium.LaunchAsync();

    public async Task DisposeAsync() => await chromium.DisposeAsync();

    [Fact]
    public async Task BothPagesReconnectAfterARestartAndShowEveryMessageOnce()
    {
        await using var server = new SqliteServer { Environment = "Development" };
        await server.InitializeAsync();
        server.Port = server.BaseAddress.Port; // the restart comes back on the same address, as a user would see it
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var customerId = LivechatServer.NewUserId();

        await using var chat = await chromium.NewPageAsync(server);
        await using var desk = await chromium.NewPageAsync(server);
        await chat.SignInWithDevFormAsync("/chat/", customerId, "TENANT_ADMIN", tenant);
        await chat.TestId("start-chat").ClickAsync();
        await Expect(chat.TestId("chat-status")).ToContainTextAsync($"chatting with Agent {agent.UserId}");
        await chat.TestId("composer").FillAsync("before the restart");
        await chat.TestId("composer").PressAsync("Enter");
        await desk.SignInWithDevFormAsync("/console/", agent.UserId, Roles.SupportAgent, tenant);
        await desk.TestId("session-item").ClickAsync();
        await Expect(desk.TestId("message-text")).ToHaveTextAsync(["before the restart"]);
        var session = await chat.TestId("messages").GetAttributeAsync("data-session-id");

        await server.StopAsync();
        await Expect(chat.TestId("connection")).ToHaveTextAsync("Reconnecting…");
        await Expect(desk.TestId("connection")).ToHaveTextAsync("Reconnecting…");

        // While it is down, messages are written through another instance on the same database: no page hears of them.
        var expected = new List<string> { "before the restart" };
        await using (var other = LivechatServer.SecondInstanceOf(server))
        {
            await other.StartAsync();
            var customer = other.TenantUser(tenant, customerId);
            var agentThere = other.Agent(tenant, agent.UserId);
            for (var i = 1; i <= 3; i++)
            {
                await customer.SendMessageAsync(session!, $"while down {i} (customer)");
                await agentThere.SendMessageAsync(session!, $"while down {i} (agent)");
                expected.AddRange([$"while down {i} (customer)", $"while down {i} (agent)"]);
            }
        }

        await server.StartAsync();
        await Expect(chat.TestId("connection")).ToHaveTextAsync("Live", new() { Timeout = 20_000 });
        await Expect(desk.TestId("connection")).ToHaveTextAsync("Live", new() { Timeout = 20_000 });
        await Expect(chat.TestId("message-text")).ToHaveTextAsync(expected.ToArray());
        await Expect(desk.TestId("message-text")).ToHaveTextAsync(expected.ToArray());

        // Live again: a new message arrives once on both pages.
        await server.TenantUser(tenant, customerId).SendMessageAsync(session!, "after the restart");
        expected.Add("after the restart");
        await Expect(desk.TestId("message-text")).ToHaveTextAsync(expected.ToArray());
        await Expect(chat.TestId("message-text")).ToHaveTextAsync(expected.ToArray());
        await desk.ScreenshotAsync("agent-desk-after-restart");
        Assert.Empty(chat.Errors);
        Assert.Empty(desk.Errors);
    }
}
