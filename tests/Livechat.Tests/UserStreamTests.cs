using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>Contract section 12: <c>GET /livechat/stream</c>, every event a user would get on the hub without joining.</summary>
public abstract class UserStreamTests(RealtimeServer server)
{
    private const int Quiet = 400;

    private static async Task<SseClient> OpenAsync(LivechatServer server, Caller caller)
    {
        var stream = await SseClient.OpenUserStreamAsync(server, caller);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);
        return stream; // live once the response has started: the first byte comes after the subscription

    }

    [Fact]
    public async Task ATenantUsersStreamCarriesItsSessionsEventsNamedWithIdsButTypingWithout()
    {
        var (agent, user, session) = await server.ConversationAsync();
        await using var stream = await OpenAsync(server, user);

        var sent = await agent.SendMessageAsync(session, "for the user's stream");
        var (name, id, data) = await stream.NextNamedAsync();
        Assert.Equal("messageCreated", name);
        Assert.Matches(@"^\d+-\d+$", id); // its place in the log of events: the stream resumes from it
        Assert.Equal(sent.ToString(), data.ToString());
        var notification = await stream.NextNamedAsync("notificationCreated");
        Assert.Equal(sent.Text("id"), notification.Text("message_id"));

        var answer = await user.SendMessageAsync(session, "answer");
        Assert.Equal(answer.ToString(), (await stream.NextNamedAsync("messageCreated")).ToString());
        (await agent.PostAsync($"/livechat/sessions/{session}/read", new { message_id = answer.Text("id") })).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(agent.UserId, (await stream.NextNamedAsync("messagesRead")).GetProperty("user_id").GetInt64());
        (await agent.PostAsync($"/livechat/sessions/{session}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
        var typing = await stream.NextNamedAsync();
        Assert.Equal(("typing", (string?)null, agent.UserId), (typing.Name, typing.Id, typing.Data.GetProperty("user_id").GetInt64())); // never replayed
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("CLOSED", (await stream.NextNamedAsync("sessionUpdated")).Text("status"));
        Assert.Empty(stream.Drain()); // nothing unnamed
    }

    [Fact]
    public async Task ATenantUserHearsNothingOfSessionsItDoesNotTakePartIn()
    {
        var (agent, user, _) = await server.ConversationAsync();
        await using var stream = await OpenAsync(server, user);
        var colleague = server.Agent(agent.TenantId);
        await colleague.GoOnlineAsync();
        var other = await server.TenantUser(agent.TenantId).StartSessionAsync(colleague.UserId);
        await colleague.SendMessageAsync(other, "not for that user");
        (await colleague.PostAsync($"/livechat/sessions/{other}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
        (await colleague.PatchAsync($"/livechat/sessions/{other}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        await Task.Delay(Quiet);
        Assert.Empty(stream.DrainNamed().Select(e => $"{e.Name} {e.Data}"));
    }

    [Fact]
    public async Task AnAgentsStreamCarriesEverySessionUpdatedAndPresenceOfTheTenantButOnlyItsOwnSessionsMessages()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await using var stream = await OpenAsync(server, agent);

        var colleague = server.Agent(tenant);
        await colleague.GoOnlineAsync();
        var presence = await stream.NextNamedAsync("presenceUpdated");
        Assert.Equal(colleague.UserId, presence.GetProperty("agent_id").GetInt64());
        var user = server.TenantUser(tenant);
        var theirs = await user.StartSessionAsync(colleague.UserId);
        Assert.Equal(theirs, (await stream.NextNamedAsync("sessionUpdated")).Text("id"));
        await colleague.SendMessageAsync(theirs, "not the agent's session");

        var mine = await agent.StartSessionAsync();
        Assert.Equal(mine, (await stream.NextNamedAsync("sessionUpdated")).Text("id"));
        var sent = await user.SendMessageAsync(mine, "to the agent");
        Assert.Equal(sent.ToString(), (await stream.NextNamedAsync("messageCreated")).ToString());
        await Task.Delay(Quiet);
        Assert.DoesNotContain(stream.DrainNamed(), e => e.Name == "messageCreated");
    }

    [Fact]
    public async Task AnAgentsStreamCarriesTheSessionsAssignedToIt()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        await using var stream = await OpenAsync(server, agent);
        var user = server.TenantUser(tenant);
        await using var userStream = await OpenAsync(server, user);

        var routed = (await user.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data; // routed to the one agent
        Assert.Equal(agent.UserId, routed.GetProperty("agent_id").GetInt64());
        var assigned = await stream.NextNamedAsync("sessionAssigned");
        Assert.Equal(routed.Text("id"), assigned.Text("id"));
        await Task.Delay(Quiet);
        Assert.DoesNotContain(userStream.DrainNamed(), e => e.Name == "sessionAssigned");
    }

    [Fact]
    public async Task EventsOfAnotherTenantNeverArriveEvenForTheSameUserId()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var strangerTenant = await server.NewTenantAsync();
        await using var strangerAgent = await OpenAsync(server, server.Agent(strangerTenant, agent.UserId));
        await using var strangerUser = await OpenAsync(server, server.TenantUser(strangerTenant, user.UserId));

        var sent = await agent.SendMessageAsync(session, "tenant secret");
        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = sent.Text("id") })).AssertStatus(HttpStatusCode.OK);
        (await user.PostAsync($"/livechat/sessions/{session}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        await server.Agent(agent.TenantId).GoOnlineAsync();
        await Task.Delay(Quiet);
        Assert.Empty(strangerAgent.DrainNamed());
        Assert.Empty(strangerUser.DrainNamed());
    }

    [Fact]
    public async Task TheStreamNeedsTheSameTokenAndTenantAsTheHub()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        (await server.SendAsync(HttpMethod.Get, "/livechat/stream")).AssertError(HttpStatusCode.Unauthorized, "request");
        (await server.SendAsync(HttpMethod.Get, "/livechat/stream", agent.Token, "abc")).AssertError(HttpStatusCode.BadRequest, "x_tenant_id");
        (await server.SendAsync(HttpMethod.Get, "/livechat/stream", agent.Token, (await server.NewTenantAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .AssertError(HttpStatusCode.Forbidden, "request");
        var inactive = await server.NewTenantAsync(active: false);
        var inactiveAgent = server.Agent(inactive);
        (await inactiveAgent.GetAsync("/livechat/stream")).AssertError(HttpStatusCode.Forbidden, "request");
        (await server.SendAsync(HttpMethod.Get, $"/livechat/stream?access_token={agent.Token}&tenant_id=abc")).AssertError(HttpStatusCode.BadRequest, "x_tenant_id");
    }

    [Fact]
    public async Task BrowsersMayPassTheTokenAndTenantInTheQueryOfExactlyThisPath()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/stream?access_token={agent.Token}&tenant_id={agent.TenantId}");
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Only there: a REST endpoint next to it takes credentials from headers alone.
        (await server.SendAsync(HttpMethod.Get, $"/livechat/sessions?access_token={agent.Token}&tenant_id={agent.TenantId}"))
            .AssertError(HttpStatusCode.Unauthorized, "request");
    }

    [Fact]
    public async Task AnIdleStreamSendsKeepAliveComments()
    {
        await using var stream = await OpenAsync(server, server.Agent(await server.NewTenantAsync()));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (stream.Comments < 2 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(stream.Comments >= 2, "no keep-alive comment within 10 s (the fixture sets 1 s)");
    }

    [Fact]
    public async Task AStreamEndsWhenItsTokenExpires()
    {
        var tenant = await server.NewTenantAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/livechat/stream");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            LivechatServer.Token(LivechatServer.NewUserId(), [tenant], ["SUPPORT_AGENT"], TimeSpan.FromSeconds(2)));
        request.Headers.Add("X-Tenant-ID", tenant.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await AssertEndsAsync(request);
    }

    [Fact]
    public async Task AStreamEndsWhenItsTenantIsDeactivated()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/livechat/stream");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", agent.Token);
        request.Headers.Add("X-Tenant-ID", tenant.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var ended = AssertEndsAsync(request);
        await Task.Delay(500);
        await server.Services.GetRequiredService<Livechat.Tenants.TenantStore>().DeactivateAsync(tenant, CancellationToken.None);
        await ended;
    }

    private async Task AssertEndsAsync(HttpRequestMessage request)
    {
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (await reader.ReadLineAsync(timeout.Token) is not null) { } // keep-alives, then the end of the stream
        Assert.False(timeout.IsCancellationRequested);
    }
}

public sealed class UserStreamTestsOnSqlite(RealtimeSqliteServer server) : UserStreamTests(server), IClassFixture<RealtimeSqliteServer>;

public sealed class UserStreamTestsOnPostgres(RealtimePostgresServer server) : UserStreamTests(server), IClassFixture<RealtimePostgresServer>;

/// <summary>The per-user stream counts against the same per-user cap as the per-session streams.</summary>
public sealed class UserStreamCapTests(CappedServer server) : IClassFixture<CappedServer>
{
    [Fact]
    public async Task AUserStreamCountsAgainstTheCapOnEventStreams()
    {
        var tenant = await server.NewTenantAsync();
        var owner = server.Agent(tenant);
        var session = await owner.StartSessionAsync();
        var reader = server.TenantUser(tenant);
        await using var first = await SseClient.OpenAsync(server, reader, session);
        await using var second = await SseClient.OpenUserStreamAsync(server, reader);
        Assert.Equal(HttpStatusCode.OK, first.Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.Response.StatusCode);
        var third = await reader.GetAsync("/livechat/stream");
        third.AssertError(HttpStatusCode.TooManyRequests, "request");
        Assert.Equal("30", third.Headers.RetryAfter?.ToString());
    }
}
