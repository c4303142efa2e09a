using System.Net;
using System.Text;
using Livechat.Api;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 2: the envelope on every response, including the framework's own.</summary>
public abstract class EnvelopeTests(LivechatServer server)
{
    [Fact]
    public async Task BodyOver64KiBIsA413EnvelopeAndStoresNothing()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var reply = await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "x", padding = new string('p', 70 * 1024) });
        reply.AssertError(HttpStatusCode.RequestEntityTooLarge, "body");
        var page = await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10");
        Assert.Equal(0, page.AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
    }

    [Fact]
    public async Task SaneRequestIdIsEchoedInMetaHeaderAndEveryLogLine()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var requestId = "frontend-" + Guid.NewGuid().ToString("N");
        var reply = await agent.SendAsync(HttpMethod.Get, "/livechat/sessions?limit=5", null, r => r.Headers.Add("X-Request-ID", requestId));
        reply.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(requestId, reply.Meta.GetProperty("request_id").GetString());
        Assert.Equal(requestId, reply.Headers.GetValues("X-Request-ID").Single());
        var access = Assert.Single(server.Logs.Lines, l => l.Message.StartsWith("GET /livechat/sessions", StringComparison.Ordinal)
            && l.Scopes.Any(s => s.Contains($"request_id:{requestId}", StringComparison.Ordinal)));
        Assert.Contains(access.Scopes, s => s.Contains($"tenant_id:{agent.TenantId}", StringComparison.Ordinal) && s.Contains($"user_id:{agent.UserId}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LogsNeverCarryATokenOrAMessageBody()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var secret = "secret-body-" + Guid.NewGuid().ToString("N");
        await agent.SendMessageAsync(session, secret);
        // A token in a query string (the hub's negotiate, as browsers send it) stays out of the access log too.
        using (var negotiate = await server.Http.PostAsync($"/livechat/hub/negotiate?negotiateVersion=1&access_token={agent.Token}&tenant_id={agent.TenantId}", null))
            Assert.Equal(HttpStatusCode.OK, negotiate.StatusCode);
        var everything = string.Join('\n', server.Logs.Lines.Select(l => l.Message + " " + string.Join(' ', l.Scopes)));
        Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(agent.Token, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonIsSnakeCaseWithUtcTimestampsAndLowerCaseUuidV7Ids()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.PostAsync("/livechat/sessions", new { });
        session.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(["id", "tenant_id", "agent_id", "status", "created_at", "updated_at"], session.Data.EnumerateObject().Select(p => p.Name));
        Assert.Matches(Formats.UuidV7, session.Data.GetProperty("id").GetString()!);
        Assert.Matches(Formats.Timestamp, session.Data.GetProperty("created_at").GetString()!);
        Assert.Equal(agent.TenantId, session.Data.GetProperty("tenant_id").GetInt64());

        var message = await agent.SendMessageAsync(session.Data.GetProperty("id").GetString()!, "hello");
        Assert.Equal(["id", "session_id", "sender_id", "message", "created_at"], message.EnumerateObject().Select(p => p.Name));
        Assert.Matches(Formats.UuidV7, message.GetProperty("id").GetString()!);
        Assert.EndsWith("Z", message.GetProperty("created_at").GetString()!, StringComparison.Ordinal);
    }
}

public sealed class EnvelopeTestsOnSqlite(SqliteServer server) : EnvelopeTests(server), IClassFixture<SqliteServer>;

public sealed class EnvelopeTestsOnPostgres(PostgresServer server) : EnvelopeTests(server), IClassFixture<PostgresServer>;

/// <summary>
/// Contract section 2 where no storage is involved (routing, body parsing, request ids): the answer does not depend on
/// the database, so these run once, on SQLite.
/// </summary>
public sealed class EnvelopeHttpTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task UnknownRouteIsA404Envelope()
    {
        var reply = await server.SendAsync(HttpMethod.Get, "/no/such/route");
        reply.AssertError(HttpStatusCode.NotFound, "request");
    }

    [Fact]
    public async Task WrongMethodIsA405Envelope()
    {
        var tenant = await server.NewTenantAsync();
        var reply = await server.Agent(tenant).SendAsync(HttpMethod.Delete, "/livechat/sessions", null);
        reply.AssertError(HttpStatusCode.MethodNotAllowed, "request");
    }

    [Fact]
    public async Task NonJsonBodyIsA415Envelope()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = await agent.SendAsync(HttpMethod.Post, "/livechat/sessions", null,
            request => request.Content = new StringContent("agent_id=1", Encoding.UTF8, "application/x-www-form-urlencoded"));
        reply.AssertError(HttpStatusCode.UnsupportedMediaType, "body");
    }

    [Fact]
    public async Task MissingBodyIsA415Envelope()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = await agent.SendAsync(HttpMethod.Post, "/livechat/sessions", null);
        reply.AssertError(HttpStatusCode.UnsupportedMediaType, "body");
    }

    [Theory]
    [InlineData("{bad json")]
    [InlineData("{\"agent_id\": 1,}")]
    [InlineData("")]
    public async Task MalformedJsonIsA400OnBody(string json)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = await agent.PostAsync("/livechat/sessions", json == "" ? " " : json);
        reply.AssertError(HttpStatusCode.BadRequest, "body");
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    public async Task ABodyThatIsNotAnObjectIsA400OnBody(string json)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var reply = await agent.PostAsync("/livechat/sessions", json);
        reply.AssertError(HttpStatusCode.BadRequest, "body");
    }

    [Fact]
    public async Task DeeplyNestedJsonIsA400NotACrash()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var json = "{\"a\":" + new string('[', 200) + new string(']', 200) + "}";
        var reply = await agent.PostAsync("/livechat/sessions", json);
        reply.AssertError(HttpStatusCode.BadRequest, "body");
    }

    [Theory]
    [InlineData(200)]
    [InlineData(129)]
    public async Task OverlongRequestIdIsReplaced(int length)
    {
        var reply = await server.SendAsync(HttpMethod.Get, "/health/live", configure: r => r.Headers.Add("X-Request-ID", new string('a', length)));
        reply.AssertStatus(HttpStatusCode.OK);
        Assert.NotEqual(new string('a', length), reply.Meta.GetProperty("request_id").GetString());
    }

    [Fact]
    public async Task RequestIdWithControlCharactersIsReplaced()
    {
        // A tab is legal in an HTTP header but would break a log line. (Non-ASCII bytes never get this far:
        // Kestrel refuses such a request itself.)
        var reply = await server.SendAsync(HttpMethod.Get, "/health/live", configure: r => r.Headers.TryAddWithoutValidation("X-Request-ID", "abc\tdef"));
        reply.AssertStatus(HttpStatusCode.OK);
        Assert.Matches("^[0-9a-f]{32}$", reply.Meta.GetProperty("request_id").GetString()!);
    }

    [Fact]
    public void AGeneratedRequestIdIsADistinctUuidVersion7OfNow()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ids = Enumerable.Range(0, 1000).Select(_ => RequestIdMiddleware.NewId()).ToList();
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var id in ids)
        {
            Assert.Matches("^[0-9a-f]{32}$", id);
            var uuid = Guid.ParseExact(id, "N");
            Assert.Equal(7, uuid.Version);
            Assert.InRange(uuid.Variant, 0x8, 0xB); // RFC 9562's variant: the top bits 10
            Assert.InRange(Convert.ToInt64(id[..12], 16), before, after);
        }
    }
}
