using System.Diagnostics;
using System.Text.Json;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>
/// The hub driven from Node with the npm <c>@microsoft/signalr</c> package, the client frontends use, and the
/// per-user stream with the npm <c>eventsource</c> package, the browser's EventSource for Node.
/// </summary>
public sealed class NodeClientTests(RealtimeSqliteServer server) : IClassFixture<RealtimeSqliteServer>
{
    private static string NodeFolder(string package)
    {
        var node = Path.Combine(Repository.Root, "tests", "node");
        Assert.True(Directory.Exists(Path.Combine(node, "node_modules", package)),
            $"Run `npm ci --prefix tests/node` (scripts/test does) to install {package}.");
        return node;
    }

    private static Process Start(string sessionId, Caller caller, LivechatServer server, string? mode = null) =>
        Run("@microsoft/signalr", "hub-client.mjs", server, caller, sessionId, mode: mode);

    private static Process Run(string package, string script, LivechatServer server, Caller caller, string last, long? tenantOverride = null, string? mode = null)
    {
        var folder = NodeFolder(package);
        var start = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { script, server.BaseAddress.ToString().TrimEnd('/'), caller.Token, (tenantOverride ?? caller.TenantId).ToString(System.Globalization.CultureInfo.InvariantCulture), last })
            start.ArgumentList.Add(arg);
        if (mode is not null) start.ArgumentList.Add(mode);
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
    public async Task TheJavaScriptClientConnectsWithSkipNegotiationAndReceivesAMessage()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        using var node = Start(session, agent, server, "skipNegotiation");
        try
        {
            var joined = await NextLineAsync(node);
            Assert.Equal("joined", joined.GetProperty("event").GetString());
            var sent = await agent.SendMessageAsync(session, "over a WebSocket that skipped negotiation");
            var received = await NextLineAsync(node);
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

    [Fact]
    public async Task AnEventSourceClientGetsTheUsersEventsFromItsOwnStream()
    {
        var (agent, user, session) = await server.ConversationAsync();
        using var node = Run("eventsource", "stream-client.mjs", server, user, "3");
        try
        {
            Assert.Equal("open", (await NextLineAsync(node)).GetProperty("event").GetString()); // live from the first byte on
            var sent = await agent.SendMessageAsync(session, "hello EventSource");
            (await agent.PostAsync($"/livechat/sessions/{session}/typing", new { is_typing = true })).AssertStatus(System.Net.HttpStatusCode.Accepted);

            var received = new List<JsonElement>();
            for (var i = 0; i < 3; i++) received.Add(await NextLineAsync(node));
            var message = Assert.Single(received, e => e.GetProperty("event").GetString() == "messageCreated");
            Assert.Equal(sent.ToString(), message.GetProperty("data").ToString());
            Assert.Matches(@"^\d+-\d+$", message.GetProperty("id").GetString()); // its place in the log: EventSource resumes from it
            var notification = Assert.Single(received, e => e.GetProperty("event").GetString() == "notificationCreated");
            Assert.Equal(sent.Text("id"), notification.GetProperty("data").Text("message_id"));
            var typing = Assert.Single(received, e => e.GetProperty("event").GetString() == "typing");
            Assert.Equal(agent.UserId, typing.GetProperty("data").GetProperty("user_id").GetInt64());
            Assert.Equal(JsonValueKind.Null, typing.GetProperty("id").ValueKind); // typing is never replayed: no id
            await node.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
            Assert.Equal(0, node.ExitCode);
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task AnEventSourceClientForATenantItsTokenDoesNotGrantIsRefused()
    {
        var granted = await server.NewTenantAsync();
        var other = await server.NewTenantAsync();
        // The token grants one tenant; the query names another.
        var caller = new Caller(server, LivechatServer.NewUserId(), granted, ["TENANT_ADMIN"]);
        var asking = new Caller(server, caller.UserId, other, ["TENANT_ADMIN"]);
        using var node = Run("eventsource", "stream-client.mjs", server, caller, "1", tenantOverride: asking.TenantId);
        try
        {
            var result = await NextLineAsync(node);
            Assert.Equal("error", result.GetProperty("event").GetString());
            Assert.Equal(403, result.GetProperty("code").GetInt32());
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
        }
    }
}
