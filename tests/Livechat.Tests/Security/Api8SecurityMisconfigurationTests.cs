using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using HubException = Microsoft.AspNetCore.SignalR.HubException;

namespace Livechat.Tests.Security;

/// <summary>
/// OWASP API8:2023 Security Misconfiguration. Error bodies (a real 500 from a failing query, and the
/// framework's and our 4xx) never carry stack traces, SQL, table names or exception type names; hub errors
/// are generic; no response names the server software; a hostile <c>X-Request-ID</c> (control characters,
/// CR/LF, bytes above ASCII, over 128 characters) is never echoed; only JSON bodies are read (415 otherwise);
/// no CORS grant is given to a foreign origin; TRACE is not served.
/// </summary>
public sealed class Api8SecurityMisconfigurationTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    /// <summary>Words of stack traces, exception names and storage internals (matched ignoring case).</summary>
    private static readonly string[] LeakyWords = ["exception", "stacktrace", "stack trace", "sqlite", "npgsql", "no such table", "tickets_hidden", ".cs:line", "kestrel"];

    /// <summary>SQL keywords and namespaces (matched with case: "from 1 to 100" is a fine message).</summary>
    private static readonly string[] LeakyCode = ["   at ", "System.", "Microsoft.", "Livechat.", "SELECT ", "INSERT ", "UPDATE ", " FROM ", " WHERE "];

    private static void AssertNothingLeaks(string text, string context, bool hubError = false)
    {
        foreach (var word in LeakyWords)
        {
            // SignalR names HubException, the type meant for clients, in every hub error: that one is by design.
            var checkedText = hubError ? text.Replace("HubException", "", StringComparison.Ordinal) : text;
            Assert.False(checkedText.Contains(word, StringComparison.OrdinalIgnoreCase), $"{context} leaks '{word}': {text}");
        }
        foreach (var word in LeakyCode) Assert.False(text.Contains(word, StringComparison.Ordinal), $"{context} leaks '{word}': {text}");
    }

    private static void AssertNoServerBanner(HttpResponseMessage response, string context)
    {
        Assert.False(response.Headers.Contains("Server"), $"{context}: Server: {string.Join(",", response.Headers.TryGetValues("Server", out var s) ? s : [])}");
        Assert.False(response.Headers.Contains("X-Powered-By"), context);
        Assert.False(response.Headers.Contains("X-AspNet-Version"), context);
    }

    [Fact]
    public async Task AFailingQueryIsA500EnvelopeWithTheRequestIdAndNoSqlOrStack()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        (await agent.GetAsync("/tickets")).AssertStatus(HttpStatusCode.OK);
        var database = Path.Combine(server.Folder, "livechat.db");
        await ExecuteAsync(database, "ALTER TABLE tickets RENAME TO tickets_hidden");
        try
        {
            var reply = await agent.SendAsync(HttpMethod.Get, "/tickets?limit=5", null, r => r.Headers.Add("X-Request-ID", "trace-me-500"));
            reply.AssertError(HttpStatusCode.InternalServerError, "request");
            Assert.Equal("trace-me-500", reply.Meta.GetProperty("request_id").GetString());
            AssertNothingLeaks(reply.Text, "500");
            AssertNothingLeaks(reply.Headers.ToString(), "500 headers");
            Assert.False(reply.Headers.Contains("Server"));
            // The operator still gets the whole story, under the same request id.
            Assert.Contains(server.Logs.Lines, l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Error && l.Scopes.Any(s => s.Contains("trace-me-500", StringComparison.Ordinal)));
        }
        finally
        {
            await ExecuteAsync(database, "ALTER TABLE tickets_hidden RENAME TO tickets");
        }
        (await agent.GetAsync("/tickets")).AssertStatus(HttpStatusCode.OK);
    }

    private static async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task ClientErrorsNeverLeakInternals()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var replies = new List<(string, Reply)>
        {
            ("unknown route", await agent.GetAsync("/nope")),
            ("405", await agent.SendAsync(HttpMethod.Delete, $"/livechat/sessions/{session}", null)),
            ("malformed JSON", await agent.PostAsync($"/livechat/sessions/{session}/messages", "{\"message\": ")),
            ("JSON array", await agent.PostAsync($"/livechat/sessions/{session}/messages", "[1,2]")),
            ("wrong type", await agent.PostAsync($"/livechat/sessions/{session}/messages", "{\"message\": {\"$ne\": null}}")),
            ("bad uuid", await agent.GetAsync("/livechat/sessions/1' OR '1'='1")),
            ("bad limit", await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=abc")),
            ("bad token", await server.SendAsync(HttpMethod.Get, "/livechat/sessions", "x.y.z", "1")),
            ("403", await server.SendAsync(HttpMethod.Get, "/livechat/sessions", agent.Token, "999999999")),
            ("413", await agent.PostAsync($"/livechat/sessions/{session}/messages", new string('x', 70_000))),
            ("415", await server.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", agent.Token, Probe.Id(agent.TenantId), "message=hi", "application/x-www-form-urlencoded")),
        };
        foreach (var (what, reply) in replies)
        {
            Assert.True((int)reply.Status is >= 400 and < 500, $"{what}: {(int)reply.Status}");
            Envelope.AssertShape(reply);
            AssertNothingLeaks(reply.Text, what);
            Assert.False(reply.Headers.Contains("Server"), what);
        }
    }

    [Fact]
    public async Task NoResponseNamesTheServerSoftware()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        foreach (var path in new[] { "/health/live", "/livechat/sessions", "/nope", "/openapi/v1.json", "/metrics" })
        {
            using var anonymous = await server.Http.GetAsync(path);
            AssertNoServerBanner(anonymous, path);
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/sessions/{session}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.Token);
        request.Headers.Add("X-Tenant-ID", Probe.Id(agent.TenantId));
        using var stream = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        AssertNoServerBanner(stream, "SSE");
        using var negotiate = new HttpRequestMessage(HttpMethod.Post, $"/livechat/hub/negotiate?negotiateVersion=1&tenant_id={agent.TenantId}");
        negotiate.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.Token);
        using var negotiated = await server.Http.SendAsync(negotiate);
        Assert.Equal(HttpStatusCode.OK, negotiated.StatusCode);
        AssertNoServerBanner(negotiated, "negotiate");
        // A request Kestrel itself rejects.
        var (status, headers, _) = await RawHttp.SendAsync(server.BaseAddress, Encoding.ASCII.GetBytes("BROKEN\r\n\r\n"));
        Assert.Equal(400, status);
        Assert.DoesNotContain("\r\nServer:", headers, StringComparison.OrdinalIgnoreCase);
    }

    public static TheoryData<string, string> HostileRequestIds() => new()
    {
        { "tab", "abc\tdef" },
        { "129 characters", new string('r', 129) },
        { "4 KiB", new string('r', 4096) },
        { "DEL", "abc\u007Fdef" },
        { "Latin-1 byte", "abc\u00E9def" },
        { "CR LF header split", "abc\r\nSet-Cookie: pwned=1" },
        { "bare LF", "abc\nX-Injected: 1" },
        { "NUL", "abc\0def" },
        { "log forging", "abc\r\n2024-01-01 INFO fake line" },
    };

    [Theory]
    [MemberData(nameof(HostileRequestIds))]
    public async Task AHostileRequestIdIsNeverEchoed(string why, string value)
    {
        // Over a raw socket: HttpClient refuses most of these, a hostile client does not.
        var (status, headers, body) = await RawHttp.SendAsync(server.BaseAddress, RawHttp.Get(server.BaseAddress, "/health/live", $"X-Request-ID: {value}"));
        Assert.True(status is 200 or 400, $"{why}: {status}");
        Assert.DoesNotContain("pwned", headers, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Injected", headers, StringComparison.Ordinal);
        Assert.DoesNotContain("fake line", headers, StringComparison.Ordinal);
        var echoed = headers.Split("\r\n").Where(l => l.StartsWith("X-Request-ID:", StringComparison.OrdinalIgnoreCase)).Select(l => l[13..].Trim()).ToList();
        Assert.True(echoed.Count <= 1, headers);
        foreach (var id in echoed)
        {
            Assert.NotEqual(value, id);
            if (!value.Contains('\n', StringComparison.Ordinal))
            {
                Assert.Matches("^[0-9a-f]{32}$", id); // generated, not adopted
            }
            else
            {
                // The raw request had several header lines; whatever was adopted is one sane line of it.
                Assert.Matches("^[!-~]{1,128}$", id);
            }
            Assert.Contains($"\"request_id\":\"{id}\"", body, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(value, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHostileRequestIdThatHttpClientCanSendIsReplacedEverywhere()
    {
        foreach (var value in new[] { "a\tb", new string('z', 129), "<script>alert(1)</script> with spaces is fine but this is long " + new string('x', 100) })
        {
            var reply = await server.SendAsync(HttpMethod.Get, "/nope", configure: r => r.Headers.TryAddWithoutValidation("X-Request-ID", value));
            reply.AssertError(HttpStatusCode.NotFound, "request");
            Assert.NotEqual(value, reply.Meta.GetProperty("request_id").GetString());
            Assert.DoesNotContain(value, reply.Text, StringComparison.Ordinal);
        }
        // A sane one is adopted, which is the point of the header.
        var sane = await server.SendAsync(HttpMethod.Get, "/nope", configure: r => r.Headers.Add("X-Request-ID", "req-123_abc.DEF"));
        Assert.Equal("req-123_abc.DEF", sane.Meta.GetProperty("request_id").GetString());
    }

    public static TheoryData<string?> NonJsonContentTypes() => new()
    {
        "text/plain", "application/xml", "text/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp", null,
    };

    /// <summary>
    /// The app's own endpoints that read a body: those whose metadata says they accept one, found in its
    /// <see cref="Microsoft.AspNetCore.Routing.EndpointDataSource"/>, so a new one is covered without editing the test. They
    /// are exactly the handlers that take a <c>JsonBody&lt;T&gt;</c>, the one reader of bodies, which says so.
    /// </summary>
    private List<(HttpMethod Method, Microsoft.AspNetCore.Routing.Patterns.RoutePattern Pattern)> EndpointsThatReadABody()
    {
        var endpoints = server.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>().ToList();
        var accepting = endpoints.Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is { ContentTypes.Count: > 0 }).ToList();
        var takingABody = endpoints.Where(e => e.Metadata.GetMetadata<System.Reflection.MethodInfo>()?.GetParameters()
            .Any(p => p.ParameterType.IsGenericType && p.ParameterType.GetGenericTypeDefinition() == typeof(Livechat.Api.JsonBody<>)) == true).ToList();
        Assert.Equal(takingABody.Select(e => e.DisplayName).Order(), accepting.Select(e => e.DisplayName).Order());
        return [.. accepting.SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()?.HttpMethods ?? [])
            .Select(m => (new HttpMethod(m), e.RoutePattern)))];
    }

    /// <summary>Every table of the SQLite database, row by row: what "nothing was stored" compares.</summary>
    private async Task<List<string>> StoredAsync()
    {
        await using var connection = new SqliteConnection(server.Settings["Livechat:Database:ConnectionString"] + ";Mode=ReadOnly");
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new SqliteCommand("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        var rows = new List<string>();
        foreach (var table in tables)
        {
            await using var select = new SqliteCommand($"SELECT * FROM \"{table}\"", connection);
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                rows.Add(table + ": " + string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }
        return rows;
    }

    [Theory]
    [MemberData(nameof(NonJsonContentTypes))]
    public async Task ABodyThatIsNotJsonIs415OnEveryEndpointThatReadsOne(string? contentType)
    {
        var endpoints = EndpointsThatReadABody();
        // The list comes from the app: it must hold at least the ones this test named when it listed them by hand.
        foreach (var known in new[] { "POST /livechat/sessions/", "POST /livechat/sessions/{id}/messages/", "PATCH /livechat/sessions/{id}", "PUT /livechat/agents/me/presence",
            "PATCH /tickets/{id}" })
            Assert.Contains(known, endpoints.Select(e => $"{e.Method} {e.Pattern.RawText}"));

        var tenant = await server.NewTenantAsync();
        // Every role, so that no endpoint answers 403 before it looks at the body.
        var caller = new Caller(server, LivechatServer.NewUserId(), tenant, [Livechat.Auth.Roles.SupportAgent, Livechat.Auth.Roles.SupportAdmin, "TENANT_ADMIN"]);
        var session = await caller.StartSessionAsync();
        var offline = server.Agent(tenant);
        (await offline.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        var ticket = (await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { agent_id = offline.UserId })).Meta.GetProperty("ticket_id").GetString()!;
        var webhook = (await caller.PostAsync("/webhooks", new { url = "https://93.184.215.14/hook", events = new[] { "*" } })).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        // A route's {parameter} is the id of a real thing of the kind the segment before it names (a fresh id otherwise).
        var ids = new Dictionary<string, string> { ["sessions"] = session, ["tickets"] = ticket, ["webhooks"] = webhook };
        var stored = await StoredAsync();

        foreach (var (method, pattern) in endpoints)
        {
            var path = new StringBuilder();
            string? previous = null;
            foreach (var segment in pattern.PathSegments)
            {
                path.Append('/');
                foreach (var part in segment.Parts)
                {
                    if (part is Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal)
                    {
                        path.Append(literal.Content);
                        previous = literal.Content;
                    }
                    else if (part is Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart)
                    {
                        path.Append(previous is not null && ids.TryGetValue(previous, out var id) ? id : Guid.CreateVersion7().ToString());
                    }
                }
            }
            // What each endpoint would take, were it read: a message, a close, typing, a presence, a capacity, a webhook.
            var json = "{\"message\":\"hi\",\"status\":\"CLOSED\",\"is_typing\":true,\"max_sessions\":7,\"url\":\"https://93.184.215.14/other\",\"events\":[\"*\"]}";
            var reply = await caller.SendAsync(method, path.ToString(), null, r =>
            {
                var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
                if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                r.Content = content;
            });
            Assert.True(reply.Status == HttpStatusCode.UnsupportedMediaType, $"{method} {path} as {contentType}: {(int)reply.Status} {reply.Text}");
            reply.AssertError(HttpStatusCode.UnsupportedMediaType, "body");
        }
        Assert.Equal(stored, await StoredAsync());
    }

    [Fact]
    public async Task NoCorsGrantIsGivenToAForeignOrigin()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/livechat/sessions");
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,x-tenant-id");
        using var answer = await server.Http.SendAsync(preflight);
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Credentials"));

        var reply = await agent.SendAsync(HttpMethod.Get, "/livechat/sessions", null, r => r.Headers.Add("Origin", "https://evil.example"));
        reply.AssertStatus(HttpStatusCode.OK);
        Assert.False(reply.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task TraceIsNotServed()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = await agent.SendAsync(HttpMethod.Trace, "/livechat/sessions", null);
        Assert.True((int)reply.Status is 404 or 405, reply.Text);
        Envelope.AssertShape(reply);
        Assert.DoesNotContain(agent.Token, reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HubErrorsAreGeneric()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        await using var client = await HubClient.ConnectAsync(server, agent);
        var unknown = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("NoSuchMethod"));
        var wrongType = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("JoinSession", 12345));
        var wrongArity = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("JoinSession"));
        foreach (var e in new[] { unknown, wrongType, wrongArity }) AssertNothingLeaks(e.Message, "hub error", hubError: true);
        Assert.Equal(HubConnectionState.Connected, client.Connection.State);
    }
}
