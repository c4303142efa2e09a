using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 6: the plain Server-Sent Events stream of a session, with resume by Last-Event-ID.</summary>
public abstract class SseTests(RealtimeServer server)
{
    [Fact]
    public async Task EachNewMessageIsAnEventWithItsIdAndTheChatMessageJson()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        await using var stream = await SseClient.OpenAsync(server, agent, session);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);

        var sent = await agent.SendMessageAsync(session, "over SSE");
        var (id, data) = await stream.NextAsync();
        Assert.Equal(sent.GetProperty("id").GetString(), id);
        Assert.Equal(sent.ToString(), data.ToString());
    }

    [Fact]
    public async Task AReconnectWithLastEventIdReplaysExactlyTheMissedMessagesThenContinuesLive()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var before = new List<string>();
        for (var i = 0; i < 3; i++) before.Add((await agent.SendMessageAsync(session, $"before {i}")).GetProperty("id").GetString()!);

        var stream = await SseClient.OpenAsync(server, agent, session);
        var seen = new List<string>();
        for (var i = 0; i < 3; i++) await agent.SendMessageAsync(session, $"live {i}");
        for (var i = 0; i < 3; i++) seen.Add((await stream.NextAsync()).Id!);
        await stream.DisposeAsync();

        var missed = new List<string>();
        for (var i = 0; i < 5; i++) missed.Add((await agent.SendMessageAsync(session, $"missed {i}")).GetProperty("id").GetString()!);

        await using var resumed = await SseClient.OpenAsync(server, agent, session, lastEventId: seen[^1]);
        // Writers keep going while the replay runs: the seam between replay and live must hold.
        var during = Task.Run(async () =>
        {
            var ids = new List<string>();
            for (var i = 0; i < 10; i++) ids.Add((await agent.SendMessageAsync(session, $"during {i}")).GetProperty("id").GetString()!);
            return ids;
        });
        var expected = missed.Concat(await during).ToList();
        var replayed = new List<string>();
        for (var i = 0; i < expected.Count; i++) replayed.Add((await resumed.NextAsync()).Id!);
        Assert.Equal(expected, replayed);

        var after = (await agent.SendMessageAsync(session, "after")).GetProperty("id").GetString();
        Assert.Equal(after, (await resumed.NextAsync()).Id);
        Assert.Empty(resumed.Drain());
    }

    [Fact]
    public async Task AnIdleStreamSendsKeepAliveComments()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        await using var stream = await SseClient.OpenAsync(server, agent, session);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (stream.Comments == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(stream.Comments > 0, "no keep-alive comment within 10 s (the fixture sets 1 s)");
    }

    [Fact]
    public async Task AStreamEndsWhenItsTokenExpires()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var session = await agent.StartSessionAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/sessions/{session}/events");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            LivechatServer.Token(agent.UserId, [tenant], ["SUPPORT_AGENT"], TimeSpan.FromSeconds(2)));
        request.Headers.Add("X-Tenant-ID", tenant.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await SseClient.EndsWithinAsync(response, TimeSpan.FromSeconds(15)), "the stream did not end within 15 s of its token's 2 s lifetime");
    }

    [Fact]
    public async Task AnUnknownLastEventIdIs400()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var reply = await agent.SendAsync(HttpMethod.Get, $"/livechat/sessions/{session}/events", null,
            r => r.Headers.Add("Last-Event-ID", Guid.CreateVersion7().ToString()));
        reply.AssertError(HttpStatusCode.BadRequest, "last_event_id");
    }

    [Fact]
    public async Task AnotherTenantsSessionStreamIs404()
    {
        var owner = server.Agent(await server.NewTenantAsync());
        var session = await owner.StartSessionAsync();
        var stranger = server.Agent(await server.NewTenantAsync());
        (await stranger.GetAsync($"/livechat/sessions/{session}/events")).AssertError(HttpStatusCode.NotFound, "request");
    }

    [Fact]
    public async Task BrowsersMayPassTheTokenAndTenantInTheQuery()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/sessions/{session}/events?access_token={agent.Token}&tenant_id={agent.TenantId}");
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Only there: the REST endpoints take credentials from headers alone.
        var rest = await server.SendAsync(HttpMethod.Get, $"/livechat/sessions/{session}?access_token={agent.Token}&tenant_id={agent.TenantId}");
        rest.AssertError(HttpStatusCode.Unauthorized, "request");
    }
}

public sealed class SseTestsOnSqlite(RealtimeSqliteServer server) : SseTests(server), IClassFixture<RealtimeSqliteServer>;

public sealed class SseTestsOnPostgres(RealtimePostgresServer server) : SseTests(server), IClassFixture<RealtimePostgresServer>;
