using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using HubException = Microsoft.AspNetCore.SignalR.HubException;

namespace Livechat.Tests.Security;

/// <summary>A server whose hub connections may join only three sessions, so the cap is reached in a test.</summary>
public sealed class FewSessionsPerConnectionServer : LivechatServer
{
    public const int Cap = 3;

    public FewSessionsPerConnectionServer() : base(DatabaseProvider.Sqlite) => Settings["Livechat:Realtime:MaxSessionsPerConnection"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// OWASP API4:2023 Unrestricted Resource Consumption. Every input has a bound and crossing it is a clean 4xx
/// (never a 500, never a hang), after which the service keeps serving: bodies over 64 KiB (with or without a
/// Content-Length) are a 413 envelope, page sizes over 100 and messages over 5,000 characters are 400, JSON
/// nested deeper than 32 is 400, oversized or too many headers and over-long URLs are refused by the server
/// (431/414/400), hub frames over 32 KiB close the connection, and a hub connection cannot join more sessions
/// than <c>Livechat:Realtime:MaxSessionsPerConnection</c>. (Rate limits and connection caps: LimitsTests.)
/// </summary>
public sealed class Api4ResourceConsumptionTests(FewSessionsPerConnectionServer server) : IClassFixture<FewSessionsPerConnectionServer>
{
    private async Task AssertStillServesAsync()
    {
        (await server.SendAsync(HttpMethod.Get, "/health/live")).AssertStatus(HttpStatusCode.OK);
    }

    private static string MessageBody(int length) => $"{{\"message\":\"{new string('a', length)}\"}}";

    [Fact]
    public async Task ABodyOver64KiBIs413WithTheEnvelope()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        foreach (var path in new[] { $"/livechat/sessions/{session}/messages", "/livechat/sessions" })
        {
            var reply = await agent.PostAsync(path, MessageBody(65 * 1024));
            reply.AssertError(HttpStatusCode.RequestEntityTooLarge, "body");
        }
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task AChunkedBodyOver64KiBIs413Too()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var bytes = Encoding.UTF8.GetBytes(MessageBody(200 * 1024));
        var reply = await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", null, request =>
        {
            var content = new StreamContent(new MemoryStream(bytes));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Content = content;
            request.Headers.TransferEncodingChunked = true;
        });
        reply.AssertError(HttpStatusCode.RequestEntityTooLarge, "body");
        Assert.Empty((await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
    }

    [Theory]
    [InlineData("101")]
    [InlineData("1000000")]
    [InlineData("2147483648")]
    [InlineData("99999999999999999999")]
    [InlineData("0")]
    [InlineData("-1")]
    public async Task APageSizeOutside1To100Is400OnEveryList(string limit)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        foreach (var path in new[] { $"/livechat/sessions/{session}/messages", "/livechat/sessions", "/tickets", "/notifications" })
            (await agent.GetAsync($"{path}?limit={limit}")).AssertError(HttpStatusCode.BadRequest, "limit");
    }

    [Fact]
    public async Task AMessageOver5000CharactersIs400AndNothingIsStored()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = new string('x', 5001) })).AssertError(HttpStatusCode.BadRequest, "message");
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = string.Concat(Enumerable.Repeat("😀", 5001)) })).AssertError(HttpStatusCode.BadRequest, "message");
        Assert.Empty((await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = new string('x', 5000) })).AssertStatus(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData(33)]
    [InlineData(1000)]
    [InlineData(20000)]
    public async Task JsonNestedDeeperThan32Is400(int depth)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        // The root object is level 1; the rest is arrays inside an ignored property.
        var nested = new string('[', depth - 1) + new string(']', depth - 1);
        var body = $"{{\"message\":\"deep\",\"extra\":{nested}}}";
        var reply = await agent.PostAsync($"/livechat/sessions/{session}/messages", body);
        Assert.True(reply.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, reply.Text);
        reply.AssertError(reply.Status, "body");
        Assert.Empty((await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        var sessionPatch = await agent.PatchAsync($"/livechat/sessions/{session}", $"{{\"status\":\"CLOSED\",\"x\":{nested}}}");
        Assert.Equal(reply.Status, sessionPatch.Status);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task JsonNestedExactly32DeepIsStillRead()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var nested = new string('[', 31) + new string(']', 31);
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", $"{{\"message\":\"ok\",\"extra\":{nested}}}")).AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task TooManyHeadersAreRefusedWithoutAServerError()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/livechat/sessions");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.Token);
        request.Headers.Add("X-Tenant-ID", Probe.Id(agent.TenantId));
        for (var i = 0; i < 500; i++) request.Headers.TryAddWithoutValidation($"X-Filler-{i}", "x");
        using var response = await server.Http.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.RequestHeaderFieldsTooLarge or HttpStatusCode.BadRequest, $"{response.StatusCode}");
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData("X-Filler", 40 * 1024)]
    [InlineData("X-Request-ID", 40 * 1024)]
    [InlineData("Authorization", 40 * 1024)]
    [InlineData("X-Tenant-ID", 40 * 1024)]
    public async Task AHugeHeaderIsRefusedWithoutAServerError(string name, int size)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/livechat/sessions");
        request.Headers.TryAddWithoutValidation(name, (name == "Authorization" ? "Bearer " : "") + new string('7', size));
        using var response = await server.Http.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.RequestHeaderFieldsTooLarge or HttpStatusCode.BadRequest, $"{response.StatusCode}");
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task AnOverLongUrlIsRefusedWithoutAServerError()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/sessions?limit=5&cursor={new string('a', 20_000)}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.Token);
        request.Headers.Add("X-Tenant-ID", Probe.Id(agent.TenantId));
        using var response = await server.Http.SendAsync(request);
        Assert.True((int)response.StatusCode is 400 or 414 or 431, $"{response.StatusCode}");
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task AHubConnectionCannotJoinMoreSessionsThanTheCap()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var sessions = new List<string>();
        for (var i = 0; i <= FewSessionsPerConnectionServer.Cap; i++)
        {
            var session = await agent.StartSessionAsync();
            (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
            sessions.Add(session);
        }
        await using var client = await HubClient.ConnectAsync(server, agent);
        foreach (var session in sessions.Take(FewSessionsPerConnectionServer.Cap)) await client.Connection.InvokeAsync("JoinSession", session);
        // Joining one already joined costs nothing.
        await client.Connection.InvokeAsync("JoinSession", sessions[0]);

        var refused = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("JoinSession", sessions[^1]));
        Assert.Contains($"at most {FewSessionsPerConnectionServer.Cap}", refused.Message, StringComparison.Ordinal);
        // Unknown ids do not get around the cap by failing later.
        await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("JoinSession", Guid.CreateVersion7().ToString()));

        await client.Connection.InvokeAsync("LeaveSession", sessions[0]);
        await client.Connection.InvokeAsync("JoinSession", sessions[^1]);
        Assert.Equal(HubConnectionState.Connected, client.Connection.State);
    }

    [Fact]
    public async Task AHubFrameOver32KiBClosesThatConnectionOnly()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        await using var client = await HubClient.ConnectAsync(server, agent);
        var closed = new TaskCompletionSource<Exception?>();
        client.Connection.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
        await Assert.ThrowsAnyAsync<Exception>(() => client.Connection.InvokeAsync("JoinSession", new string('a', 40 * 1024)));
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await using var again = await HubClient.ConnectAsync(server, agent);
        Assert.Equal(HubConnectionState.Connected, again.Connection.State);
        await AssertStillServesAsync();
    }
}
