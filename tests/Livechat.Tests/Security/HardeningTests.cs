using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using HubException = Microsoft.AspNetCore.SignalR.HubException;

namespace Livechat.Tests.Security;

/// <summary>
/// The smaller gaps an attacker's pass over the service found (issue 9): the hub's own refusals, ids with
/// white space, duplicate JSON keys, invisible messages, methods on health and metrics, 403 messages that
/// told which tenants exist, declared charsets, and the log level of a client's hub mistakes.
/// </summary>
public abstract class HardeningTests(LivechatServer server)
{
    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    // 1. The hub's own errors are envelopes.

    [Fact]
    public async Task TheHubsRefusalsOfTheOwnersOwnMistakesAreEnvelopesToo()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var tenant = Text(agent.TenantId);
        await using (var socket = await SpiedHubClient.ConnectAsync(server, agent, Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets))
        {
            // A send on a WebSocket connection: SignalR's plain-text 405.
            using var send = await HubProbe.SendAsync(server, HttpMethod.Post, agent.Token, tenant, socket.ConnectionToken, "x");
            (await Reply.ReadAsync(send)).AssertError(HttpStatusCode.MethodNotAllowed, "request");
        }
        await using (var stream = await SpiedHubClient.ConnectAsync(server, agent, Microsoft.AspNetCore.Http.Connections.HttpTransportType.ServerSentEvents))
        {
            // A second stream on a connection that already has one: SignalR's empty 409.
            using var second = await HubProbe.SendAsync(server, HttpMethod.Get, agent.Token, tenant, stream.ConnectionToken, accept: "text/event-stream");
            (await Reply.ReadAsync(second)).AssertError(HttpStatusCode.Conflict, "request");
        }
        await using (var polling = await SpiedHubClient.ConnectAsync(server, agent, Microsoft.AspNetCore.Http.Connections.HttpTransportType.LongPolling))
        {
            // Another transport on a long polling connection: SignalR's plain-text 400.
            using var other = await HubProbe.SendAsync(server, HttpMethod.Get, agent.Token, tenant, polling.ConnectionToken, accept: "text/event-stream");
            (await Reply.ReadAsync(other)).AssertError(HttpStatusCode.BadRequest, "request");
        }
    }

    // 2. Route ids, cursors and last event ids with white space are malformed.

    [Theory]
    [InlineData("%20{0}")]
    [InlineData("{0}%20")]
    [InlineData("{0}%09")]
    [InlineData("%09{0}")]
    public async Task ARouteIdWithWhiteSpaceIsA400(string shape)
    {
        var (agent, _, session) = await server.ConversationAsync();
        var id = string.Format(CultureInfo.InvariantCulture, shape, session);
        (await agent.GetAsync($"/livechat/sessions/{id}")).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.GetAsync($"/livechat/sessions/{id}/messages?limit=5")).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.PostAsync($"/livechat/sessions/{id}/messages", new { message = "hi" })).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.GetAsync($"/livechat/sessions/{id}/events")).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.GetAsync($"/tickets/{id}")).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.SendAsync(HttpMethod.Post, $"/notifications/{id}/read", "{}")).AssertError(HttpStatusCode.BadRequest, "id");
        var list = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, list.Data.GetArrayLength());
    }

    [Fact]
    public async Task ALastEventIdOrCursorWithATrailingSpaceIsA400()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var message = (await agent.SendMessageAsync(session, "hello")).GetProperty("id").GetString();
        (await agent.GetAsync($"/livechat/sessions/{session}/events?last_event_id={message}%20")).AssertError(HttpStatusCode.BadRequest, "last_event_id");
        (await agent.GetAsync($"/livechat/sessions/{session}/events?last_event_id=%20{message}")).AssertError(HttpStatusCode.BadRequest, "last_event_id");
        (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5&cursor={message}%20")).AssertError(HttpStatusCode.BadRequest, "cursor");
    }

    // 3. Duplicate JSON keys are ambiguous.

    [Theory]
    [InlineData("{\"message\":\"\",\"message\":\"a\"}")]
    [InlineData("{\"message\":\"a\",\"message\":\"\"}")]
    [InlineData("{\"message\":\"a\",\"message\":\"a\"}")]
    [InlineData("{\"message\":\"a\",\"client_message_id\":\"x\",\"client_message_id\":\"y\"}")]
    [InlineData("{\"message\":\"a\",\"extra\":{\"k\":1,\"k\":2}}")]
    [InlineData("{\"message\":\"a\",\"m\\u0065ssage\":\"b\"}")]
    public async Task AMessageBodyThatNamesAPropertyTwiceIsA400AndStoresNothing(string body)
    {
        var (agent, _, session) = await server.ConversationAsync();
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", body)).AssertError(HttpStatusCode.BadRequest, "body");
        var list = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, list.Data.GetArrayLength());
    }

    [Fact]
    public async Task EveryOtherBodyThatNamesAPropertyTwiceIsA400AndChangesNothing()
    {
        var (agent, user, session) = await server.ConversationAsync();
        (await agent.PutAsync("/livechat/agents/me/presence", "{\"status\":\"OFFLINE\",\"status\":\"ONLINE\"}")).AssertError(HttpStatusCode.BadRequest, "body");
        (await agent.PutAsync("/livechat/agents/me/presence", "{\"status\":\"ONLINE\",\"status\":\"OFFLINE\"}")).AssertError(HttpStatusCode.BadRequest, "body");
        var agents = (await agent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("ONLINE", agents.Data.EnumerateArray().Single(a => a.GetProperty("agent_id").GetInt64() == agent.UserId).GetProperty("presence").GetString());

        (await agent.PatchAsync($"/livechat/sessions/{session}", "{\"status\":\"CLOSED\",\"status\":\"CLOSED\"}")).AssertError(HttpStatusCode.BadRequest, "body");
        Assert.Equal("OPEN", (await user.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data.GetProperty("status").GetString());

        var other = server.TenantUser(agent.TenantId);
        (await other.PostAsync("/livechat/sessions", $"{{\"agent_id\":{agent.UserId},\"agent_id\":{agent.UserId}}}")).AssertError(HttpStatusCode.BadRequest, "body");

        var offline = server.Agent(await server.NewTenantAsync());
        (await offline.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK); // known, and offline
        var customer = server.TenantUser(offline.TenantId);
        var refused = await customer.PostAsync("/livechat/sessions", new { agent_id = offline.UserId });
        var ticket = refused.Meta.GetProperty("ticket_id").GetString();
        (await offline.PatchAsync($"/tickets/{ticket}", "{\"status\":\"closed\",\"status\":\"open\"}")).AssertError(HttpStatusCode.BadRequest, "body");
        Assert.Equal("open", (await offline.GetAsync($"/tickets/{ticket}")).AssertStatus(HttpStatusCode.OK).Data.GetProperty("status").GetString());
    }

    // 4. Messages without a visible character are empty.

    [Theory]
    [InlineData("\u200B")]
    [InlineData("\uFEFF")]
    [InlineData("\u2060")]
    [InlineData("\u202E")]
    [InlineData("\u3164")]
    [InlineData("\uFFA0")]
    [InlineData("\u115F\u1160")]
    [InlineData("\u200B\u200C\u200D\u2060\uFEFF")]
    [InlineData(" \u3164\t\u200B\n")]
    [InlineData("\u034F\uFE0F")]
    [InlineData("\u2800")]
    [InlineData("\u00AD")]
    [InlineData("\U000E0041\U000E007F")]
    public async Task AMessageWithNoVisibleCharacterIsA400(string text)
    {
        var (agent, _, session) = await server.ConversationAsync();
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = text })).AssertError(HttpStatusCode.BadRequest, "message");
        var list = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, list.Data.GetArrayLength());
    }

    [Theory]
    [InlineData("a\u200B")]
    [InlineData("\u202Eabc")]
    [InlineData("\u3164x")]
    [InlineData("😀")]
    [InlineData("\u0301")]
    public async Task AMessageWithAVisibleCharacterAmongInvisibleOnesIsStoredVerbatim(string text)
    {
        var (agent, _, session) = await server.ConversationAsync();
        var sent = await agent.SendMessageAsync(session, text);
        Assert.Equal(text, sent.GetProperty("message").GetString());
    }

    // 5. Health and metrics answer GET and HEAD only.

    // 6. A 403 for a tenant the token does not grant says nothing about the tenant.

    [Fact]
    public async Task ATenantTheTokenDoesNotGrantGetsOneMessageWhetherItExistsIsInactiveOrNot()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var existing = await server.NewTenantAsync();
        var inactive = await server.NewTenantAsync(active: false);
        var messages = new List<string>();
        foreach (var tenant in new[] { Text(existing), Text(inactive), "987654321", Text(existing + 1_000_000) })
        {
            var reply = (await server.SendAsync(HttpMethod.Get, "/livechat/sessions", agent.Token, tenant)).AssertError(HttpStatusCode.Forbidden, "request");
            messages.Add(reply.Text.Replace(reply.Meta.GetProperty("request_id").GetString()!, "", StringComparison.Ordinal)
                .Replace(reply.Meta.GetProperty("timestamp").GetString()!, "", StringComparison.Ordinal));
        }
        Assert.Single(messages.Distinct());
        // On the hub's door and the SSE stream too.
        var hub = await server.SendAsync(HttpMethod.Post, "/livechat/hub/negotiate?negotiateVersion=1", agent.Token, "987654321");
        var hubExisting = await server.SendAsync(HttpMethod.Post, "/livechat/hub/negotiate?negotiateVersion=1", agent.Token, Text(existing));
        Assert.Equal(hubExisting.Body.GetProperty("message").GetString(), hub.AssertError(HttpStatusCode.Forbidden, "request").Body.GetProperty("message").GetString());
    }

    // 7. Only UTF-8 JSON is read.

    [Theory]
    [InlineData("application/json; charset=utf-16")]
    [InlineData("application/json; charset=UTF-16")]
    [InlineData("application/json; charset=latin1")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("application/json; charset=us-ascii")]
    [InlineData("application/json; charset=\"utf-32\"")]
    [InlineData("application/json; charset=")]
    public async Task ABodyDeclaredInACharsetOtherThanUtf8IsA415AndStoresNothing(string contentType)
    {
        var (agent, _, session) = await server.ConversationAsync();
        void Declare(HttpRequestMessage request)
        {
            request.Content!.Headers.Remove("Content-Type");
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        (await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "hi" }, Declare))
            .AssertError(HttpStatusCode.UnsupportedMediaType, "body");
        (await agent.SendAsync(HttpMethod.Put, "/livechat/agents/me/presence", new { status = "AWAY" }, Declare))
            .AssertError(HttpStatusCode.UnsupportedMediaType, "body");
        (await server.TenantUser(agent.TenantId).SendAsync(HttpMethod.Post, "/livechat/sessions", new { }, Declare))
            .AssertError(HttpStatusCode.UnsupportedMediaType, "body");
        Assert.Equal(0, (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json; charset=UTF-8")]
    [InlineData("application/json;charset=\"utf-8\"")]
    public async Task AUtf8OrUndeclaredCharsetIsRead(string contentType)
    {
        var (agent, _, session) = await server.ConversationAsync();
        var reply = await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "héllo" }, request =>
        {
            request.Content!.Headers.Remove("Content-Type");
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        });
        Assert.Equal("héllo", reply.AssertStatus(HttpStatusCode.Created).Data.GetProperty("message").GetString());
    }

    // 8. A client's hub mistake is one quiet log line.

    [Fact]
    public async Task JoiningASessionTheClientCannotSeeIsLoggedAsOneLineWithoutAStack()
    {
        var stranger = server.Agent(await server.NewTenantAsync());
        var (_, _, session) = await server.ConversationAsync();
        await using var client = await HubClient.ConnectAsync(server, stranger);
        var before = server.Logs.Lines.Count;
        await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("JoinSession", session));
        // The hub's filter logs a refusal before it rethrows, so before the client hears of it: no wait needed.
        await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("JoinSession", "not-a-uuid"));
        var lines = server.Logs.Lines.Skip(before).ToList();
        Assert.DoesNotContain(lines, l => l.Level >= LogLevel.Error);
        var refusals = lines.Where(l => l.Message.Contains("JoinSession", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, refusals.Count);
        Assert.All(refusals, l =>
        {
            Assert.True(l.Level is LogLevel.Information or LogLevel.Warning, $"{l.Level}: {l.Message}");
            Assert.DoesNotContain("\n", l.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", l.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", l.Message, StringComparison.Ordinal);
        });
    }
}

public sealed class HardeningTestsOnSqlite(SqliteServer server) : HardeningTests(server), IClassFixture<SqliteServer>;

public sealed class HardeningTestsOnPostgres(PostgresServer server) : HardeningTests(server), IClassFixture<PostgresServer>;

/// <summary>The hub's HTTP refusals and the methods health and metrics answer do not depend on the database: run once, on SQLite.</summary>
public sealed class HardeningHttpTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task AHubRequestWithoutAConnectionIdIsA400Envelope()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        (await agent.GetAsync("/livechat/hub")).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.SendAsync(HttpMethod.Post, "/livechat/hub", "{}")).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.SendAsync(HttpMethod.Delete, "/livechat/hub", null)).AssertError(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task AHubRequestWithAnUnknownConnectionIdIsA404Envelope()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        (await agent.GetAsync("/livechat/hub?id=no-such-connection")).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.SendAsync(HttpMethod.Post, "/livechat/hub?id=no-such-connection", "{}")).AssertError(HttpStatusCode.NotFound, "request");
    }

    [Theory]
    [InlineData("OPTIONS", "/livechat/hub")]
    [InlineData("PUT", "/livechat/hub")]
    [InlineData("PATCH", "/livechat/hub")]
    [InlineData("TRACE", "/livechat/hub")]
    [InlineData("HEAD", "/livechat/hub")]
    [InlineData("GET", "/livechat/hub/negotiate")]
    [InlineData("PUT", "/livechat/hub/negotiate")]
    [InlineData("OPTIONS", "/livechat/hub/negotiate")]
    public async Task AMethodTheHubDoesNotServeIsA405Envelope(string method, string path)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.Token);
        request.Headers.Add("X-Tenant-ID", Text(agent.TenantId));
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        if (method != "HEAD") (await Reply.ReadAsync(response)).AssertError(HttpStatusCode.MethodNotAllowed, "request");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("")]
    public async Task ANegotiateWithAMalformedVersionIsA400Envelope(string version)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = await agent.SendAsync(HttpMethod.Post, $"/livechat/hub/negotiate?negotiateVersion={version}", null);
        reply.AssertError(HttpStatusCode.BadRequest, "negotiateVersion");
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    public async Task HealthAndMetricsAnswerOnlyGetAndHead(string path)
    {
        foreach (var method in new[] { "GET", "HEAD" })
        {
            using var response = await server.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        foreach (var method in new[] { "TRACE", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "FOO", "PROPFIND" })
        {
            var reply = await server.SendAsync(new HttpMethod(method), path);
            reply.AssertError(HttpStatusCode.MethodNotAllowed, "request");
        }
        Assert.Equal(405, await RawStatusAsync($"CONNECT {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    }

    /// <summary>A request HttpClient would not send as written (CONNECT with a path), over a bare socket.</summary>
    private async Task<int> RawStatusAsync(string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var statusLine = await reader.ReadLineAsync(timeout.Token);
        return int.Parse(statusLine!.Split(' ')[1], CultureInfo.InvariantCulture);
    }
}
