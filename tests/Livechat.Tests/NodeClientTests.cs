using System.Diagnostics;
using System.Text.Json;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>The hub driven from Node with the npm <c>@microsoft/signalr</c> package, the client frontends use.</summary>
public sealed class NodeClientTests(RealtimeSqliteServer server) : IClassFixture<RealtimeSqliteServer>
{
    private static string NodeFolder()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Livechat.slnx"))) folder = folder.Parent;
        var node = Path.Combine(folder?.FullName ?? throw new InvalidOperationException("Repository root not found."), "tests", "node");
        Assert.True(Directory.Exists(Path.Combine(node, "node_modules", "@microsoft", "signalr")),
            "Run `npm ci --prefix tests/node` (scripts/test does) to install @microsoft/signalr.");
        return node;
    }

    private static Process Start(string sessionId, Caller caller, LivechatServer server)
    {
        var folder = NodeFolder();
        var start = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "hub-client.mjs", server.BaseAddress.ToString().TrimEnd('/'), caller.Token, caller.TenantId.ToString(System.Globalization.CultureInfo.InvariantCulture), sessionId })
            start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    private static async Task<JsonElement> NextLineAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new Xunit.Sdk.XunitException($"node ended without output: {await process.StandardError.ReadToEndAsync()}");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    [Fact]
    public async Task TheJavaScriptClientReceivesAMessagePostedOverHttp()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        using var node = Start(session, agent, server);
        try
        {
            Assert.Equal("joined", (await NextLineAsync(node)).GetProperty("event").GetString());
            var sent = await agent.SendMessageAsync(session, "hello from .NET to JavaScript");
            var received = await NextLineAsync(node);
            Assert.Equal("messageCreated", received.GetProperty("event").GetString());
            Assert.Equal(sent.ToString(), received.GetProperty("message").ToString());
            await node.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
            Assert.Equal(0, node.ExitCode);
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task TheJavaScriptClientCannotJoinAnotherTenantsSession()
    {
        var owner = server.Agent(await server.NewTenantAsync());
        var session = await owner.StartSessionAsync();
        var stranger = server.Agent(await server.NewTenantAsync());
        using var node = Start(session, stranger, server);
        try
        {
            var result = await NextLineAsync(node);
            Assert.Equal("error", result.GetProperty("event").GetString());
            Assert.Contains("not found", result.GetProperty("message").GetString()!, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
        }
    }
}
