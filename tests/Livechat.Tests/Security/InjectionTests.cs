using System.Net;
using System.Text;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using HubException = Microsoft.AspNetCore.SignalR.HubException;

namespace Livechat.Tests.Security;

/// <summary>
/// Injection (API8:2019; in the 2023 list it is part of API8 Security Misconfiguration and API10 Unsafe
/// Consumption). Message text is data, never code: SQL, script and Unicode tricks (RTL override, zero-width
/// characters, emoji, combining marks) are stored and returned verbatim over REST, the hub and SSE, and the
/// service keeps working. What cannot be stored safely (control characters other than tab/CR/LF, NUL,
/// invalid UTF-8, lone surrogates) is a 400. Ids, cursors, query values, <c>X-Tenant-ID</c>, token claims
/// and hub arguments carrying SQL are refused before any query runs.
/// </summary>
public abstract class InjectionTests(LivechatServer server)
{
    public static TheoryData<string, string> Payloads() => new()
    {
        { "SQL drop", "'; DROP TABLE chat_messages; --" },
        { "SQL tautology", "' OR '1'='1" },
        { "SQL union", "x' UNION SELECT id, tenant_id, agent_id, status, created_at, updated_at FROM chat_sessions --" },
        { "SQL comment and quotes", "Robert'); DROP TABLE tenants;-- \"quoted\" `tick` \\backslash" },
        { "script", "<script>alert(document.cookie)</script>" },
        { "HTML attribute", "<img src=x onerror=\"alert(1)\">" },
        { "template", "{{constructor.constructor('alert(1)')()}} ${7*7} #{7*7}" },
        { "RTL override", "invoice\u202Egpj.exe" },
        { "zero-width", "pa\u200Bss\u200Cwo\u200Drd\uFEFF\u2060" },
        { "emoji", "😀👩‍👩‍👧‍👦🏳️‍🌈🇮🇩" },
        { "combining marks", "Z\u0351\u036B\u0343\u036A\u0302\u036B\u033D\u034F\u0334\u0319\u0324\u031E\u0349\u035A\u032F\u031E\u0320\u034DA\u036B\u0357\u0334" },
        { "astral and CJK", "𝕳𝖊𝖑𝖑𝖔 中文 日本語 한국어 العربية עברית" },
        { "tab CR LF", "line one\r\nline two\n\tindented\rend" },
        { "JSON in text", "{\"message\":\"inner\",\"sender_id\":1}" },
        { "percent and null-like", "%00 %27 \\u0000 null undefined NaN" },
        { "log forging", "ok\r\n2024-01-01T00:00:00Z INFO admin logged in" },
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public async Task AHostileMessageIsStoredAndReturnedVerbatimEverywhere(string why, string payload)
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var session = await agent.StartSessionAsync();
        await using var hub = await HubClient.ConnectAsync(server, agent);
        await hub.Connection.InvokeAsync("JoinSession", session);
        await using var sse = await SseClient.OpenAsync(server, agent, session);

        var sent = (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = payload })).AssertStatus(HttpStatusCode.Created);
        AssertVerbatim(payload, sent.Data.Text("message"), $"{why} (201)");
        var listed = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        AssertVerbatim(payload, listed.Data[0].Text("message"), $"{why} (list)");
        AssertVerbatim(payload, (await hub.NextAsync("messageCreated")).Text("message"), $"{why} (hub)");
        AssertVerbatim(payload, (await sse.NextAsync()).Data.Text("message"), $"{why} (SSE)");

        // The service and its tables are intact.
        var after = await agent.SendMessageAsync(session, "still working");
        var all = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([sent.Data.Text("id"), after.Text("id")], all.Ids());
        (await agent.GetAsync("/livechat/sessions?limit=5")).AssertStatus(HttpStatusCode.OK);
        (await server.SendAsync(HttpMethod.Get, "/health/ready")).AssertStatus(HttpStatusCode.OK);
    }

    private static void AssertVerbatim(string expected, string actual, string context)
    {
        Assert.True(expected == actual, $"{context}: got {Convert.ToHexString(Encoding.UTF8.GetBytes(actual))}");
        Assert.Equal(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(actual));
    }

    // Written as C# escapes and unescaped in the test: test runners mangle lone surrogates in theory data.
    [Theory]
    [InlineData("NUL", @"a\u0000b")]
    [InlineData("only NUL", @"\u0000")]
    [InlineData("bell", @"ding\u0007")]
    [InlineData("escape (terminal sequences)", @"\u001B[31mred\u001B[0m")]
    [InlineData("backspace", @"abc\u0008\u0008\u0008xyz")]
    [InlineData("vertical tab", @"a\u000Bb")]
    [InlineData("form feed", @"a\u000Cb")]
    [InlineData("DEL", @"a\u007Fb")]
    [InlineData("C1 NEL", @"a\u0085b")]
    [InlineData("C1 CSI", @"a\u009Bb")]
    [InlineData("lone high surrogate", @"a\uD800b")]
    [InlineData("lone low surrogate", @"a\uDC00b")]
    [InlineData("reversed pair", @"\uDE00\uD83D")]
    [InlineData("high surrogate at the end", @"abc\uD83D")]
    public async Task ControlCharactersAndBrokenUtf16Are400(string why, string escaped)
    {
        var text = System.Text.RegularExpressions.Regex.Unescape(escaped);
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var reply = await agent.PostAsync($"/livechat/sessions/{session}/messages", $"{{\"message\":{RawJson.Quote(text)}}}");
        Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{why}: {(int)reply.Status} {reply.Text}");
        reply.AssertError(HttpStatusCode.BadRequest, "message");
        Assert.Empty((await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
    }

    public static TheoryData<string, byte[]> InvalidUtf8() => new()
    {
        { "truncated sequence", [0xC3] },
        { "bad continuation", [0xC3, 0x28] },
        { "overlong slash", [0xC0, 0xAF] },
        { "overlong NUL", [0xC0, 0x80] },
        { "encoded surrogate", [0xED, 0xA0, 0x80] },
        { "beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80] },
        { "lone 0xFF", [0xFF] },
        { "raw NUL byte", [0x00] },
        { "raw control byte", [0x1B] },
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public async Task InvalidUtf8AndRawControlBytesInTheBodyAre400(string why, byte[] bad)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var body = Encoding.ASCII.GetBytes("{\"message\":\"a").Concat(bad).Concat(Encoding.ASCII.GetBytes("b\"}")).ToArray();
        var reply = await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", null, r => r.Content = RawJson.Bytes(body));
        Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{why}: {(int)reply.Status} {reply.Text}");
        Envelope.AssertShape(reply);
        Assert.True(reply.Errors.TryGetProperty("message", out _) || reply.Errors.TryGetProperty("body", out _), reply.Text);
        Assert.Empty((await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
    }

    private static readonly string[] SqlValues =
    [
        "' OR '1'='1", "1' OR '1'='1' --", "1; DROP TABLE chat_messages; --", "1 UNION SELECT * FROM tenants",
        "00000000-0000-0000-0000-000000000000' OR 1=1 --", "%27%20OR%201=1", "1)) OR ((1=1",
    ];

    public static TheoryData<string> SqlValueData() => new(SqlValues);

    [Theory]
    [MemberData(nameof(SqlValueData))]
    public async Task SqlInIdsCursorsQueryValuesAndHeadersIs400(string sql)
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var user = server.TenantUser(tenant);
        var session = await agent.StartSessionAsync();
        await agent.SendMessageAsync(session, "existing");
        var value = Uri.EscapeDataString(sql);

        foreach (var path in new[] { $"/livechat/sessions/{session}/messages?limit=5", "/livechat/sessions?limit=5", "/tickets?limit=5" })
            (await agent.GetAsync($"{path}&cursor={value}")).AssertError(HttpStatusCode.BadRequest, "cursor");
        (await user.GetAsync($"/notifications?limit=5&cursor={value}")).AssertError(HttpStatusCode.BadRequest, "cursor");
        (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit={value}")).AssertError(HttpStatusCode.BadRequest, "limit");
        (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5&direction={value}")).AssertError(HttpStatusCode.BadRequest, "direction");
        (await agent.GetAsync($"/livechat/sessions?status={value}")).AssertError(HttpStatusCode.BadRequest, "status");
        (await agent.GetAsync($"/tickets?status={value}")).AssertError(HttpStatusCode.BadRequest, "status");
        (await user.GetAsync($"/notifications?unread={value}")).AssertError(HttpStatusCode.BadRequest, "unread");

        foreach (var path in new[] { $"/livechat/sessions/{value}", $"/livechat/sessions/{value}/messages?limit=5", $"/tickets/{value}", $"/livechat/sessions/{value}/events" })
            (await agent.GetAsync(path)).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.PostAsync($"/livechat/sessions/{value}/messages", new { message = "x" })).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.PatchAsync($"/livechat/sessions/{value}", new { status = "CLOSED" })).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.PatchAsync($"/tickets/{value}", new { status = "closed" })).AssertError(HttpStatusCode.BadRequest, "id");
        (await user.PostAsync($"/notifications/{value}/read", null)).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = sql })).AssertError(HttpStatusCode.BadRequest, "status");
        (await agent.PutAsync("/livechat/agents/me/presence", new { status = sql })).AssertError(HttpStatusCode.BadRequest, "status");

        (await agent.SendAsync(HttpMethod.Get, $"/livechat/sessions/{session}/events", null, r => r.Headers.TryAddWithoutValidation("Last-Event-ID", sql)))
            .AssertError(HttpStatusCode.BadRequest, "last_event_id");
        (await server.SendAsync(HttpMethod.Get, "/livechat/sessions", agent.Token, $"{tenant} {sql}")).AssertError(HttpStatusCode.BadRequest, "x_tenant_id");
        (await server.SendAsync(HttpMethod.Get, "/livechat/sessions", agent.Token, sql)).AssertError(HttpStatusCode.BadRequest, "x_tenant_id");

        await using var hub = await HubClient.ConnectAsync(server, agent);
        var refused = await Assert.ThrowsAsync<HubException>(() => hub.Connection.InvokeAsync("JoinSession", sql));
        Assert.Contains("UUID", refused.Message, StringComparison.Ordinal);
        var refusedTenant = await Assert.ThrowsAsync<HttpRequestException>(() => HubClient.ConnectAsync(server, agent.Token, value));
        Assert.Equal(HttpStatusCode.BadRequest, refusedTenant.StatusCode);

        // Everything is where it was.
        Assert.Single((await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        Assert.Equal("OPEN", (await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data.Text("status"));
    }

    [Theory]
    [MemberData(nameof(SqlValueData))]
    public async Task SqlInTokenClaimsIsRefused(string sql)
    {
        var tenant = await server.NewTenantAsync();
        var badSub = Jwt.Sign(1, tenant, Roles.SupportAgent, d => d.Claims["sub"] = sql);
        (await server.AsAsync(HttpMethod.Get, "/livechat/sessions", badSub, tenant)).AssertError(HttpStatusCode.Unauthorized, "request");
        var badTenant = Jwt.Sign(LivechatServer.NewUserId(), tenant, Roles.SupportAgent, d => d.Claims["tenant_id"] = $"{tenant} {sql}");
        (await server.AsAsync(HttpMethod.Get, "/livechat/sessions", badTenant, tenant)).AssertError(HttpStatusCode.Forbidden, "request");
        var badRole = Jwt.Sign(LivechatServer.NewUserId(), tenant, $"{Roles.SupportAgent}' OR '1'='1");
        (await server.AsAsync(HttpMethod.Get, "/livechat/agents", badRole, tenant)).AssertError(HttpStatusCode.Forbidden, "request");
    }
}

public sealed class InjectionTestsOnSqlite(SqliteServer server) : InjectionTests(server), IClassFixture<SqliteServer>;

public sealed class InjectionTestsOnPostgres(PostgresServer server) : InjectionTests(server), IClassFixture<PostgresServer>;
