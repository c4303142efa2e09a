using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>Contract section 12: <c>GET /livechat/stream</c>, every event a user would get on the hub without joining.</summary>
public abstract class UserStreamTests(RealtimeServer server)
{
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
        var (agent, user, session) = await server.ConversationAsync();
        await using var stream = await OpenAsync(server, user);
        var colleague = server.Agent(agent.TenantId);
        await colleague.GoOnlineAsync();
        var other = await server.TenantUser(agent.TenantId).StartSessionAsync(colleague.UserId);
        await colleague.SendMessageAsync(other, "not for that user");
        (await colleague.PostAsync($"/livechat/sessions/{other}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
        (await colleague.PatchAsync($"/livechat/sessions/{other}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);

        // The control: a message in the user's own session comes after all that on the same stream, and first.
        var control = await agent.SendMessageAsync(session, "for the user");
        var events = await stream.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("id") == control.Text("id"));
        Assert.Empty(events.SkipLast(1).Select(e => $"{e.Name} {e.Data}"));
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
        var sent = await user.SendMessageAsync(mine, "to the agent");
        // The first message the stream carries is the one in the agent's own session: the colleague's, sent before it, never came.
        var events = await stream.NamedUntilAsync(e => e.Name == "messageCreated");
        Assert.Equal(sent.ToString(), events[^1].Data.ToString());
        Assert.Contains(events, e => e.Name == "sessionUpdated" && e.Data.Text("id") == mine);
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
        // The control: the agent's answer reaches the user's stream after anything the routing sent it.
        var control = await agent.SendMessageAsync(routed.Text("id"), "hello");
        var events = await userStream.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("id") == control.Text("id"));
        Assert.DoesNotContain(events, e => e.Name == "sessionAssigned");
    }

    [Fact]
    public async Task EventsOfAnotherTenantNeverArriveEvenForTheSameUserId()
    {
        var (agent, user, session) = await server.ConversationAsync();
        // The same two user ids in another tenant, with a session of their own, set up before their streams open.
        var strangerTenant = await server.NewTenantAsync();
        var strangerAgentCaller = server.Agent(strangerTenant, agent.UserId);
        var strangerUserCaller = server.TenantUser(strangerTenant, user.UserId);
        await strangerAgentCaller.GoOnlineAsync();
        var theirs = await strangerUserCaller.StartSessionAsync(strangerAgentCaller.UserId);
        await using var strangerAgent = await OpenAsync(server, strangerAgentCaller);
        await using var strangerUser = await OpenAsync(server, strangerUserCaller);

        var sent = await agent.SendMessageAsync(session, "tenant secret");
        (await user.PostAsync($"/livechat/sessions/{session}/read", new { message_id = sent.Text("id") })).AssertStatus(HttpStatusCode.OK);
        (await user.PostAsync($"/livechat/sessions/{session}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        await server.Agent(agent.TenantId).GoOnlineAsync();

        // The control: a message in the other tenant's session reaches both streams after all that, and first.
        var control = await strangerAgentCaller.SendMessageAsync(theirs, "their own");
        foreach (var stream in new[] { strangerAgent, strangerUser })
        {
            var events = await stream.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("id") == control.Text("id"));
            Assert.Empty(events.SkipLast(1).Select(e => $"{e.Name} {e.Data}"));
        }
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
        using var response = await OpenRawAsync(request);
        Assert.True(await SseClient.EndsWithinAsync(response, TimeSpan.FromSeconds(15)), "the stream did not end within 15 s of its token's 2 s lifetime");
    }

    [Fact]
    public async Task AStreamEndsWhenItsTenantIsDeactivated()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/livechat/stream");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", agent.Token);
        request.Headers.Add("X-Tenant-ID", tenant.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await OpenRawAsync(request); // live: its headers came after its first byte, written once subscribed
        await server.Services.GetRequiredService<Livechat.Tenants.TenantStore>().DeactivateAsync(tenant, CancellationToken.None);
        Assert.True(await SseClient.EndsWithinAsync(response, TimeSpan.FromSeconds(15)), "the stream did not end within 15 s of its tenant's deactivation");
    }

    private async Task<HttpResponseMessage> OpenRawAsync(HttpRequestMessage request)
    {
        var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
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
