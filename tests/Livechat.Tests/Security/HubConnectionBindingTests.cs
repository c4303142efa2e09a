using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Livechat.Tests.Security;

/// <summary>Who tries to use a connection token that is not theirs.</summary>
public enum Intruder
{
    /// <summary>A user of another tenant, with its own valid token and its own tenant.</summary>
    OtherTenant,

    /// <summary>Another user (an agent, even) of the victim's tenant.</summary>
    OtherUserOfTheSameTenant,

    /// <summary>The victim's own user id, with a token that also grants another tenant, in that other tenant.</summary>
    SameUserInAnotherTenant,
}

/// <summary>
/// A hub connection token (<c>/livechat/hub?id=...</c>) travels in URLs and can leak; it works only for the
/// tenant and user that negotiated it. On every transport (long polling send and poll, Server-Sent Events,
/// WebSockets), for a live connection and for a token negotiated but not yet used, anyone else is refused
/// with an envelope, and the victim's connection gets nothing extra.
/// </summary>
public abstract class HubConnectionBindingTests(LivechatServer server)
{
    public static TheoryData<HttpTransportType, Intruder> Cases()
    {
        var cases = new TheoryData<HttpTransportType, Intruder>();
        foreach (var transport in new[] { HttpTransportType.LongPolling, HttpTransportType.ServerSentEvents, HttpTransportType.WebSockets })
            foreach (var intruder in Enum.GetValues<Intruder>())
                cases.Add(transport, intruder);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AConnectionTokenIsRefusedToAnyoneButTheTenantAndUserThatNegotiatedIt(HttpTransportType transport, Intruder intruder)
    {
        var (agent, victim, session) = await server.ConversationAsync();
        var otherAgent = server.Agent(victim.TenantId);
        var otherSession = await otherAgent.StartSessionAsync();
        await using var connection = await SpiedHubClient.ConnectAsync(server, victim, transport);
        await connection.Hub.InvokeAsync("JoinSession", session);
        var unused = await HubProbe.NegotiateAsync(server, victim.Token, victim.TenantId);
        var (token, tenant) = await HubProbe.IntruderAsync(server, victim, intruder);

        foreach (var connectionToken in new[] { connection.ConnectionToken, unused })
            await HubProbe.AssertEveryTransportRefusesAsync(server, transport, token, tenant, connectionToken, otherSession);

        // The intruder's JoinSession never reached the victim's connection: it gets its own session's message only.
        await otherAgent.SendMessageAsync(otherSession, "not for the victim");
        var sent = await agent.SendMessageAsync(session, "for the victim");
        Assert.Equal(sent.GetProperty("id").GetString(), (await connection.NextMessageAsync()).GetProperty("id").GetString());
        // The control: the next message of the victim's session is the next thing the connection gets, nothing in between.
        var control = await agent.SendMessageAsync(session, "control");
        Assert.Equal(control.GetProperty("id").GetString(), (await connection.NextMessageAsync()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task TheOwnerOfATokenStillUsesItAfterIntrudersWereRefused()
    {
        var (_, victim, session) = await server.ConversationAsync();
        var token = await HubProbe.NegotiateAsync(server, victim.Token, victim.TenantId);
        var stranger = server.Agent(await server.NewTenantAsync());
        await HubProbe.AssertEveryTransportRefusesAsync(server, HttpTransportType.LongPolling, stranger.Token, stranger.TenantId.ToString(CultureInfo.InvariantCulture), token, session);

        // The owner then opens the connection over long polling with that token and completes the handshake.
        var tenant = victim.TenantId.ToString(CultureInfo.InvariantCulture);
        using (var first = await HubProbe.SendAsync(server, HttpMethod.Get, victim.Token, tenant, token)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var send = await HubProbe.SendAsync(server, HttpMethod.Post, victim.Token, tenant, token, "{\"protocol\":\"json\",\"version\":1}\u001e"))
            Assert.Equal(HttpStatusCode.OK, send.StatusCode);
        using (var poll = await HubProbe.SendAsync(server, HttpMethod.Get, victim.Token, tenant, token))
        {
            Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
            Assert.Contains("{}", await poll.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var end = await HubProbe.SendAsync(server, HttpMethod.Delete, victim.Token, tenant, token)) Assert.Equal(HttpStatusCode.Accepted, end.StatusCode);
    }
}

public sealed class HubConnectionBindingTestsOnSqlite(SqliteServer server) : HubConnectionBindingTests(server), IClassFixture<SqliteServer>;

public sealed class HubConnectionBindingTestsOnPostgres(PostgresServer server) : HubConnectionBindingTests(server), IClassFixture<PostgresServer>;

/// <summary>The same across two instances sharing PostgreSQL and Redis: a token of A is nobody else's on A, nor anyone's on B.</summary>
public sealed class HubConnectionBindingAcrossInstancesTests(TwoInstances instances) : IClassFixture<TwoInstances>
{
    [Theory]
    [InlineData(HttpTransportType.LongPolling)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    [InlineData(HttpTransportType.WebSockets)]
    public async Task ATokenNegotiatedOnAIsRefusedToOthersOnBothInstances(HttpTransportType transport)
    {
        var (agent, victim, session) = await instances.A.ConversationAsync();
        var otherAgent = instances.A.Agent(victim.TenantId);
        var otherSession = await otherAgent.StartSessionAsync();
        await using var connection = await SpiedHubClient.ConnectAsync(instances.A, victim, transport);
        await connection.Hub.InvokeAsync("JoinSession", session);

        foreach (var server in new[] { instances.A, instances.B })
        {
            foreach (var intruder in Enum.GetValues<Intruder>())
            {
                var (token, tenant) = await HubProbe.IntruderAsync(server, victim, intruder);
                await HubProbe.AssertEveryTransportRefusesAsync(server, transport, token, tenant, connection.ConnectionToken, otherSession);
            }
        }
        // The victim's own user on B does not reach A's connection either: tokens live on the instance that issued them.
        var victimOnB = instances.B.TenantUser(victim.TenantId, victim.UserId);
        await HubProbe.AssertEveryTransportRefusesAsync(instances.B, transport, victimOnB.Token, victim.TenantId.ToString(CultureInfo.InvariantCulture),
            connection.ConnectionToken, otherSession);

        await otherAgent.SendMessageAsync(otherSession, "not for the victim");
        var sent = await agent.SendMessageAsync(session, "for the victim");
        Assert.Equal(sent.GetProperty("id").GetString(), (await connection.NextMessageAsync()).GetProperty("id").GetString());
        // The control: the next message of the victim's session is the next thing the connection gets, nothing in between.
        var control = await agent.SendMessageAsync(session, "control");
        Assert.Equal(control.GetProperty("id").GetString(), (await connection.NextMessageAsync()).GetProperty("id").GetString());
    }
}

/// <summary>Raw hub requests, as an attacker who holds someone else's connection token would send them.</summary>
internal static class HubProbe
{
    public static async Task<(string Token, string Tenant)> IntruderAsync(LivechatServer server, Caller victim, Intruder intruder)
    {
        switch (intruder)
        {
            case Intruder.OtherTenant:
                var stranger = server.Agent(await server.NewTenantAsync());
                return (stranger.Token, stranger.TenantId.ToString(CultureInfo.InvariantCulture));
            case Intruder.OtherUserOfTheSameTenant:
                var colleague = server.Agent(victim.TenantId);
                return (colleague.Token, victim.TenantId.ToString(CultureInfo.InvariantCulture));
            default:
                var second = await server.NewTenantAsync();
                var token = LivechatServer.Token(victim.UserId, [victim.TenantId, second], [Roles.SupportAgent]);
                return (token, second.ToString(CultureInfo.InvariantCulture));
        }
    }

    public static async Task<string> NegotiateAsync(LivechatServer server, string token, long tenant)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/livechat/hub/negotiate?negotiateVersion=1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Tenant-ID", tenant.ToString(CultureInfo.InvariantCulture));
        using var response = await server.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("connectionToken").GetString()!;
    }

    public static async Task<HttpResponseMessage> SendAsync(LivechatServer server, HttpMethod method, string token, string tenant, string connectionToken,
        string? body = null, string? accept = null)
    {
        using var request = new HttpRequestMessage(method, $"/livechat/hub?id={Uri.EscapeDataString(connectionToken)}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Tenant-ID", tenant);
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "text/plain");
        // A poll or a stream that was (wrongly) accepted would hang: headers are enough to judge.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        return await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string what)
    {
        using (response)
        {
            Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound,
                $"{what}: {(int)response.StatusCode}");
            Envelope.AssertShape(await Reply.ReadAsync(response));
        }
    }

    /// <summary>Every request an intruder could make with the token on <paramref name="transport"/> is refused.</summary>
    public static async Task AssertEveryTransportRefusesAsync(LivechatServer server, HttpTransportType transport, string token, string tenant,
        string connectionToken, string sessionToJoin)
    {
        var join = $"{{\"type\":1,\"invocationId\":\"66\",\"target\":\"JoinSession\",\"arguments\":[\"{sessionToJoin}\"]}}\u001e";
        var handshake = "{\"protocol\":\"json\",\"version\":1}\u001e";
        switch (transport)
        {
            case HttpTransportType.LongPolling:
                await AssertRefusedAsync(await SendAsync(server, HttpMethod.Post, token, tenant, connectionToken, handshake + join), "long polling send");
                await AssertRefusedAsync(await SendAsync(server, HttpMethod.Get, token, tenant, connectionToken), "long polling poll");
                await AssertRefusedAsync(await SendAsync(server, HttpMethod.Delete, token, tenant, connectionToken), "long polling delete");
                break;
            case HttpTransportType.ServerSentEvents:
                await AssertRefusedAsync(await SendAsync(server, HttpMethod.Get, token, tenant, connectionToken, accept: "text/event-stream"), "SSE stream");
                await AssertRefusedAsync(await SendAsync(server, HttpMethod.Post, token, tenant, connectionToken, handshake + join), "SSE send");
                break;
            default:
                using (var socket = new ClientWebSocket())
                {
                    socket.Options.CollectHttpResponseDetails = true;
                    socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
                    socket.Options.SetRequestHeader("X-Tenant-ID", tenant);
                    var uri = new UriBuilder(server.BaseAddress) { Scheme = "ws", Path = "/livechat/hub", Query = $"id={Uri.EscapeDataString(connectionToken)}" }.Uri;
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                    await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, timeout.Token));
                    Assert.True(socket.HttpStatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound,
                        $"WebSocket upgrade: {(int)socket.HttpStatusCode}");
                }
                // The query string credentials browsers use are bound the same way.
                using (var socket = new ClientWebSocket())
                {
                    socket.Options.CollectHttpResponseDetails = true;
                    var uri = new UriBuilder(server.BaseAddress)
                    {
                        Scheme = "ws",
                        Path = "/livechat/hub",
                        Query = $"id={Uri.EscapeDataString(connectionToken)}&access_token={token}&tenant_id={tenant}",
                    }.Uri;
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                    await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, timeout.Token));
                    Assert.True(socket.HttpStatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound,
                        $"WebSocket upgrade (query credentials): {(int)socket.HttpStatusCode}");
                }
                break;
        }
    }
}

/// <summary>A victim's hub connection made with the official client, whose connection token the test reads off the negotiate answer.</summary>
internal sealed class SpiedHubClient : IAsyncDisposable
{
    private readonly Channel<JsonElement> messages = Channel.CreateUnbounded<JsonElement>();

    private SpiedHubClient(HubConnection hub, string connectionToken)
    {
        Hub = hub;
        ConnectionToken = connectionToken;
    }

    public HubConnection Hub { get; }

    public string ConnectionToken { get; }

    public static async Task<SpiedHubClient> ConnectAsync(LivechatServer server, Caller caller, HttpTransportType transport)
    {
        NegotiateSpy? spy = null;
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, $"livechat/hub?tenant_id={caller.TenantId}"), options =>
            {
                options.AccessTokenProvider = () => Task.FromResult<string?>(caller.Token);
                options.Transports = transport;
                options.HttpMessageHandlerFactory = inner => spy = new NegotiateSpy(inner);
            })
            .Build();
        await hub.StartAsync();
        var client = new SpiedHubClient(hub, await spy!.Token.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        hub.On<JsonElement>("messageCreated", payload => client.messages.Writer.TryWrite(payload.Clone()));
        return client;
    }

    public async Task<JsonElement> NextMessageAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await messages.Reader.ReadAsync(timeout.Token);
    }

    public List<JsonElement> DrainMessages()
    {
        var list = new List<JsonElement>();
        while (messages.Reader.TryRead(out var item)) list.Add(item);
        return list;
    }

    public async ValueTask DisposeAsync() => await Hub.DisposeAsync();

    private sealed class NegotiateSpy(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public TaskCompletionSource<string> Token { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.RequestUri!.AbsolutePath.EndsWith("/negotiate", StringComparison.Ordinal) && response.IsSuccessStatusCode)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                if (document.RootElement.TryGetProperty("connectionToken", out var token)) Token.TrySetResult(token.GetString()!);
            }
            return response;
        }
    }
}
