using System.Net;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Livechat.Tests.Security;

/// <summary>
/// OWASP API2:2023 Broken Authentication. Every way a token can be wrong (expired, not yet valid, wrong
/// issuer, wrong audience, wrong key, another HMAC algorithm, <c>alg: none</c>, an HS256 token keyed with an
/// RSA public key's PEM, an RS256 token from a stranger's key, no <c>exp</c>, a bad <c>sub</c>) is a 401 on
/// every authenticated operation of the OpenAPI document, on the hub's negotiate request and on the SSE
/// stream; a valid token for another tenant is a 403 on all three. A token in the query string is accepted
/// only where browsers cannot send headers (the hub and the SSE stream), never on a REST endpoint.
/// </summary>
public sealed class Api2AuthenticationTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private static readonly Dictionary<string, Func<long, long, string>> BadTokens = new(StringComparer.Ordinal)
    {
        ["expired"] = (user, tenant) => Jwt.Sign(user, tenant, Roles.SupportAgent, d =>
        {
            d.NotBefore = DateTime.UtcNow.AddHours(-3);
            d.IssuedAt = d.NotBefore;
            d.Expires = DateTime.UtcNow.AddHours(-1);
        }),
        ["expired just beyond the clock skew"] = (user, tenant) => Jwt.Sign(user, tenant, Roles.SupportAgent, d =>
        {
            d.NotBefore = DateTime.UtcNow.AddMinutes(-10);
            d.IssuedAt = d.NotBefore;
            d.Expires = DateTime.UtcNow.AddSeconds(-45);
        }),
        ["not yet valid"] = (user, tenant) => Jwt.Sign(user, tenant, Roles.SupportAgent, d =>
        {
            d.NotBefore = DateTime.UtcNow.AddHours(1);
            d.Expires = DateTime.UtcNow.AddHours(2);
        }),
        ["wrong issuer"] = (user, tenant) => Jwt.Sign(user, tenant, Roles.SupportAgent, d => d.Issuer = "https://evil.example"),
        ["wrong audience"] = (user, tenant) => Jwt.Sign(user, tenant, Roles.SupportAgent, d => d.Audience = "another-api"),
        ["no audience"] = (user, tenant) => Jwt.Sign(user, tenant, Roles.SupportAgent, d => d.Audience = null),
        ["wrong key"] = (user, tenant) => Jwt.Sign(user, tenant, Roles.SupportAgent, credentials: Jwt.Hmac("a-completely-different-key-of-32-bytes-or-more")),
        ["right key but HS512"] = (user, tenant) => Jwt.ManualHmac(user, tenant, Roles.SupportAgent, "HS512", LivechatServer.SigningKey),
        ["right key but alg HS256 spelled hs256"] = (user, tenant) => Jwt.ManualHmac(user, tenant, Roles.SupportAgent, "hs256", LivechatServer.SigningKey),
        ["alg none"] = (user, tenant) => Jwt.AlgNone(user, tenant, Roles.SupportAgent),
        ["alg none with a signature"] = (user, tenant) => Jwt.AlgNone(user, tenant, Roles.SupportAgent, "c2lnbmF0dXJl"),
        ["HS256 keyed with an RSA public key PEM"] = (user, tenant) => Jwt.Hs256SignedWithPublicKeyPem(user, tenant, Roles.SupportAgent),
        ["RS256 from a stranger's key"] = (user, tenant) => Jwt.Rs256WithForeignKey(user, tenant, Roles.SupportAgent),
        ["missing exp"] = (user, tenant) => Jwt.Sign(user, tenant, Roles.SupportAgent, d => d.Expires = null),
        ["signature stripped"] = (user, tenant) =>
        {
            var token = Jwt.Sign(user, tenant, Roles.SupportAgent);
            return token[..(token.LastIndexOf('.') + 1)];
        },
        ["payload swapped under a valid signature"] = (user, tenant) =>
        {
            var real = Jwt.Sign(user, tenant, "TENANT_ADMIN").Split('.');
            var forged = Jwt.Sign(user, tenant, Roles.SupportAgent).Split('.');
            return $"{real[0]}.{forged[1]}.{real[2]}";
        },
        ["missing sub"] = (user, tenant) => Jwt.Sign(user, tenant, Roles.SupportAgent, d => d.Claims.Remove("sub")),
        ["sub zero"] = (user, tenant) => Jwt.Sign(0, tenant, Roles.SupportAgent),
        ["sub not a number"] = (user, tenant) => Jwt.Sign(user, tenant, Roles.SupportAgent, d => d.Claims["sub"] = "1 OR 1=1"),
        ["garbage"] = (_, _) => "not.a.jwt",
        ["empty"] = (_, _) => "",
    };

    public static TheoryData<string> BadTokenNames() => new(BadTokens.Keys.Order(StringComparer.Ordinal));

    /// <summary>Every authenticated operation of the OpenAPI document with a concrete path.</summary>
    private async Task<List<(string Operation, HttpMethod Method, string Path)>> AuthenticatedOperationsAsync()
    {
        // Every documented operation needs a token (health, which does not, is not in the document).
        var operations = await Probe.OpenApiOperationsAsync(server);
        Assert.NotEmpty(operations);
        return operations.Select(o =>
        {
            var (method, path) = Probe.Concrete(o, Guid.CreateVersion7().ToString());
            return (o, method, path + (method == HttpMethod.Get ? "?limit=5" : ""));
        }).ToList();
    }

    private static string? BodyFor(HttpMethod method) => method == HttpMethod.Get ? null : "{}";

    [Theory]
    [MemberData(nameof(BadTokenNames))]
    public async Task ABadTokenIs401OnEveryAuthenticatedOperation(string why)
    {
        var tenant = await server.NewTenantAsync();
        var token = BadTokens[why](LivechatServer.NewUserId(), tenant);
        foreach (var (operation, method, path) in await AuthenticatedOperationsAsync())
        {
            var reply = await server.AsAsync(method, path, token, tenant, BodyFor(method));
            Assert.True(reply.Status == HttpStatusCode.Unauthorized, $"{why} on {operation}: {(int)reply.Status} {reply.Text}");
            reply.AssertError(HttpStatusCode.Unauthorized, "request");
            Assert.StartsWith("Bearer", reply.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(BadTokenNames))]
    public async Task ABadTokenCannotConnectToTheHub(string why)
    {
        var tenant = await server.NewTenantAsync();
        var token = BadTokens[why](LivechatServer.NewUserId(), tenant);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => HubClient.ConnectAsync(server, token, Probe.Id(tenant)));
        Assert.True(refused.StatusCode == HttpStatusCode.Unauthorized, $"{why}: {refused.StatusCode} {refused.Message}");

        // The browser way: token and tenant in the query of the negotiate request.
        using var negotiate = await server.Http.PostAsync(
            $"/livechat/hub/negotiate?negotiateVersion=1&tenant_id={tenant}&access_token={Uri.EscapeDataString(token)}", null);
        Assert.Equal(HttpStatusCode.Unauthorized, negotiate.StatusCode);
    }

    [Theory]
    [MemberData(nameof(BadTokenNames))]
    public async Task ABadTokenCannotOpenAnEventStream(string why)
    {
        var tenant = await server.NewTenantAsync();
        var session = await server.Agent(tenant).StartSessionAsync();
        var token = BadTokens[why](LivechatServer.NewUserId(), tenant);
        var inHeader = await server.AsAsync(HttpMethod.Get, $"/livechat/sessions/{session}/events", token, tenant);
        Assert.True(inHeader.Status == HttpStatusCode.Unauthorized, $"{why}: {inHeader.Text}");
        inHeader.AssertError(HttpStatusCode.Unauthorized, "request");
        var inQuery = await server.AsAsync(HttpMethod.Get, $"/livechat/sessions/{session}/events?tenant_id={tenant}&access_token={Uri.EscapeDataString(token)}", null, null);
        inQuery.AssertError(HttpStatusCode.Unauthorized, "request");
    }

    [Fact]
    public async Task AValidTokenForAnotherTenantIs403OnHttpTheHubAndTheStream()
    {
        var mine = await server.NewTenantAsync();
        var theirs = await server.NewTenantAsync();
        var session = await server.Agent(theirs).StartSessionAsync();
        var token = LivechatServer.Token(LivechatServer.NewUserId(), [mine], [Roles.SupportAgent]);

        foreach (var (operation, method, path) in await AuthenticatedOperationsAsync())
        {
            var reply = await server.AsAsync(method, path, token, theirs, BodyFor(method));
            Assert.True(reply.Status == HttpStatusCode.Forbidden, $"{operation}: {(int)reply.Status} {reply.Text}");
            reply.AssertError(HttpStatusCode.Forbidden, "request");
            reply.AssertLeaksNothing([session], operation);
        }

        var hub = await Assert.ThrowsAsync<HttpRequestException>(() => HubClient.ConnectAsync(server, token, Probe.Id(theirs)));
        Assert.Equal(HttpStatusCode.Forbidden, hub.StatusCode);
        (await server.AsAsync(HttpMethod.Get, $"/livechat/sessions/{session}/events", token, theirs)).AssertError(HttpStatusCode.Forbidden, "request");
        (await server.AsAsync(HttpMethod.Get, $"/livechat/sessions/{session}/events?tenant_id={theirs}&access_token={token}", null, null))
            .AssertError(HttpStatusCode.Forbidden, "request");
    }

    [Fact]
    public async Task ATokenWithoutATenantClaimIs403()
    {
        var tenant = await server.NewTenantAsync();
        var token = Jwt.Sign(LivechatServer.NewUserId(), tenant, Roles.SupportAgent, d => d.Claims.Remove("tenant_id"));
        (await server.AsAsync(HttpMethod.Get, "/livechat/sessions", token, tenant)).AssertError(HttpStatusCode.Forbidden, "request");
        var hub = await Assert.ThrowsAsync<HttpRequestException>(() => HubClient.ConnectAsync(server, token, Probe.Id(tenant)));
        Assert.Equal(HttpStatusCode.Forbidden, hub.StatusCode);
    }

    [Fact]
    public async Task ATokenInTheQueryStringIsNotAcceptedOnRestEndpoints()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var token = Uri.EscapeDataString(agent.Token);
        // The event streams take it (EventSource cannot send headers): the per-session one and the per-user one.
        var rest = (await AuthenticatedOperationsAsync())
            .Where(o => !o.Operation.EndsWith("/events", StringComparison.Ordinal) && o.Operation != "GET /livechat/stream").ToList();
        Assert.NotEmpty(rest);
        foreach (var (operation, method, path) in rest)
        {
            var concrete = Probe.Concrete(operation, session).Path;
            var separator = method == HttpMethod.Get ? "?limit=5&" : "?";
            foreach (var parameter in new[] { "access_token", "token", "bearer" })
            {
                var reply = await server.AsAsync(method, $"{concrete}{separator}{parameter}={token}", null, agent.TenantId, BodyFor(method));
                Assert.True(reply.Status == HttpStatusCode.Unauthorized, $"{operation} with ?{parameter}=: {(int)reply.Status} {reply.Text}");
                reply.AssertError(HttpStatusCode.Unauthorized, "request");
            }
        }

        // Paths that merely end like the event stream are REST endpoints too.
        foreach (var path in new[] { "/livechat/sessions/events", $"/livechat/sessions/{session}/messages/events", "/tickets/events", "/notifications/events",
            "/livechat/stream/x", "/livechat/streams", $"/livechat/sessions/{session}/stream" })
        {
            var reply = await server.AsAsync(HttpMethod.Get, $"{path}?limit=5&access_token={token}&tenant_id={agent.TenantId}", null, agent.TenantId);
            Assert.True(reply.Status is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound, $"{path}: {(int)reply.Status} {reply.Text}");
            Assert.NotEqual(HttpStatusCode.BadRequest, reply.Status);
        }

        // The stream itself does take it (EventSource cannot send headers).
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/sessions/{session}/events?tenant_id={agent.TenantId}&access_token={token}");
        using var stream = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        using var userStreamRequest = new HttpRequestMessage(HttpMethod.Get, $"/livechat/stream?tenant_id={agent.TenantId}&access_token={token}");
        using var userStream = await server.Http.SendAsync(userStreamRequest, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, userStream.StatusCode);
    }

    [Fact]
    public async Task TheSameTokenKeepsWorkingForItsOwnTenantSoTheRefusalsAboveAreAboutTheToken()
    {
        var tenant = await server.NewTenantAsync();
        var token = Jwt.Sign(LivechatServer.NewUserId(), tenant, Roles.SupportAgent);
        (await server.AsAsync(HttpMethod.Get, "/livechat/sessions", token, tenant)).AssertStatus(HttpStatusCode.OK);
        // The hand-signed variants above are refused for their algorithm, not for being hand-signed.
        var manual = Jwt.ManualHmac(LivechatServer.NewUserId(), tenant, Roles.SupportAgent, "HS256", LivechatServer.SigningKey);
        (await server.AsAsync(HttpMethod.Get, "/livechat/sessions", manual, tenant)).AssertStatus(HttpStatusCode.OK);
        await using var client = await HubClient.ConnectAsync(server, token, Probe.Id(tenant));
    }
}
