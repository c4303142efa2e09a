using System.Net;
using System.Text;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Livechat.Tests;

/// <summary>Contract section 3: token, tenant, role.</summary>
public abstract class AuthTests(LivechatServer server)
{
    [Fact]
    public async Task UnknownTenantIs403()
    {
        var reply = await server.SendAsync(HttpMethod.Get, "/livechat/sessions", LivechatServer.Token(1, [987654321], [Roles.SupportAgent]), "987654321");
        reply.AssertError(HttpStatusCode.Forbidden, "request");
    }

    [Fact]
    public async Task InactiveTenantIs403()
    {
        var tenant = await server.NewTenantAsync(active: false);
        var reply = await server.Agent(tenant).GetAsync("/livechat/sessions");
        reply.AssertError(HttpStatusCode.Forbidden, "request");
    }

    [Fact]
    public async Task TokenWithSeveralTenantsAndRolesActsInEachGrantedTenant()
    {
        var first = await server.NewTenantAsync();
        var second = await server.NewTenantAsync();
        var token = LivechatServer.Token(LivechatServer.NewUserId(), [first, second], ["VIEWER", Roles.SupportAgent]);
        foreach (var tenant in new[] { first, second })
        {
            var reply = await server.SendAsync(HttpMethod.Post, "/livechat/sessions", token, tenant.ToString(System.Globalization.CultureInfo.InvariantCulture), "{}");
            reply.AssertStatus(HttpStatusCode.Created);
            Assert.Equal(tenant, reply.Data.GetProperty("tenant_id").GetInt64());
        }
    }

    [Fact]
    public async Task HostNameResolvesTheTenantWhenTheHeaderIsAbsent()
    {
        var domain = $"coop-{Guid.NewGuid():N}.example.test";
        var tenant = await server.NewTenantAsync(domain);
        var token = LivechatServer.Token(LivechatServer.NewUserId(), [tenant], [Roles.SupportAgent]);
        var reply = await server.SendAsync(HttpMethod.Post, "/livechat/sessions", token, json: "{}", configure: r => r.Headers.Host = domain);
        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(tenant, reply.Data.GetProperty("tenant_id").GetInt64());
    }

    [Fact]
    public async Task TenantHeaderWinsOverTheHostName()
    {
        var domain = $"shop-{Guid.NewGuid():N}.example.test";
        var hostTenant = await server.NewTenantAsync(domain);
        var headerTenant = await server.NewTenantAsync();
        var token = LivechatServer.Token(LivechatServer.NewUserId(), [hostTenant, headerTenant], [Roles.SupportAgent]);
        var reply = await server.SendAsync(HttpMethod.Post, "/livechat/sessions", token, headerTenant.ToString(System.Globalization.CultureInfo.InvariantCulture), "{}",
            configure: r => r.Headers.Host = domain);
        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(headerTenant, reply.Data.GetProperty("tenant_id").GetInt64());
    }

    [Fact]
    public async Task ADeactivatedTenantIsRefusedFromThenOn()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        (await agent.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK);
        await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Livechat.Tenants.TenantStore>(server.Services).DeactivateAsync(tenant, CancellationToken.None);
        (await agent.GetAsync("/livechat/sessions")).AssertError(HttpStatusCode.Forbidden, "request");
    }
}

public sealed class AuthTestsOnSqlite(SqliteServer server) : AuthTests(server), IClassFixture<SqliteServer>;

public sealed class AuthTestsOnPostgres(PostgresServer server) : AuthTests(server), IClassFixture<PostgresServer>;

/// <summary>Contract section 3 where the token or the header alone decides, before any storage: run once, on SQLite.</summary>
public sealed class AuthTokenTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private static string Sign(Action<SecurityTokenDescriptor> change, string key = LivechatServer.SigningKey)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = LivechatServer.Issuer,
            Audience = LivechatServer.Audience,
            Claims = new Dictionary<string, object> { ["sub"] = "77", ["tenant_id"] = 1, ["role"] = Roles.SupportAgent },
            NotBefore = now.AddMinutes(-1),
            IssuedAt = now.AddMinutes(-1),
            Expires = now.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        };
        change(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private static string Base64Url(string json) => Base64UrlEncoder.Encode(json);

    public static TheoryData<string, string> BadTokens()
    {
        var data = new TheoryData<string, string>
        {
            { "expired", Sign(d => { d.NotBefore = DateTime.UtcNow.AddHours(-3); d.IssuedAt = d.NotBefore; d.Expires = DateTime.UtcNow.AddHours(-1); }) },
            { "not yet valid", Sign(d => { d.NotBefore = DateTime.UtcNow.AddHours(1); d.Expires = DateTime.UtcNow.AddHours(2); }) },
            { "wrong issuer", Sign(d => d.Issuer = "someone-else") },
            { "wrong audience", Sign(d => d.Audience = "another-api") },
            { "wrong key", Sign(_ => { }, key: "a-completely-different-key-of-32-bytes-or-more") },
            { "no expiry", Sign(d => d.Expires = null) },
            { "garbage", "not.a.jwt" },
        };
        var payload = Base64Url($"{{\"sub\":\"77\",\"tenant_id\":1,\"role\":\"SUPPORT_AGENT\",\"iss\":\"{LivechatServer.Issuer}\",\"aud\":\"{LivechatServer.Audience}\",\"exp\":{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}}}");
        data.Add("alg none", $"{Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{payload}.");
        data.Add("alg none with signature", $"{Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{payload}.c2lnbmF0dXJl");
        return data;
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task BadTokensAre401WithBearerChallenge(string why, string token)
    {
        var tenant = await server.NewTenantAsync();
        var reply = await server.SendAsync(HttpMethod.Get, "/livechat/sessions?limit=5", token, tenant.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(reply.Status == HttpStatusCode.Unauthorized, $"{why}: {reply.Text}");
        reply.AssertError(HttpStatusCode.Unauthorized, "request");
        Assert.StartsWith("Bearer", reply.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A valid token is remembered (Auth/ValidatedTokens.cs), but its lifetime is checked on every request, by the
    /// service's clock: the same token that was accepted is refused once that clock passes its exp (with the reason in
    /// the challenge, as the full check gives it), and a token that differs in its signature is never taken for it.
    /// </summary>
    [Fact]
    public async Task ARememberedTokenIsRefusedOnceItExpiresAndAnAlteredOneAtOnce()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        await using var strict = await StrictServerAsync(clock);
        var (tenant, token) = await AgentTokenAsync(strict, clock.GetUtcNow().UtcDateTime, clock.GetUtcNow().UtcDateTime.AddMinutes(5));
        (await strict.SendAsync(HttpMethod.Get, "/livechat/sessions?limit=5", token, tenant)).AssertStatus(HttpStatusCode.OK);
        (await strict.SendAsync(HttpMethod.Get, "/livechat/sessions?limit=5", token, tenant)).AssertStatus(HttpStatusCode.OK);
        var altered = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];
        (await strict.SendAsync(HttpMethod.Get, "/livechat/sessions?limit=5", altered, tenant)).AssertError(HttpStatusCode.Unauthorized, "request");

        clock.Advance(TimeSpan.FromMinutes(5)); // exactly exp: still valid (the library's rule: refused only after it)
        (await strict.SendAsync(HttpMethod.Get, "/livechat/sessions?limit=5", token, tenant)).AssertStatus(HttpStatusCode.OK);
        clock.Advance(TimeSpan.FromSeconds(1));
        var expired = await strict.SendAsync(HttpMethod.Get, "/livechat/sessions?limit=5", token, tenant);
        expired.AssertError(HttpStatusCode.Unauthorized, "request");
        Assert.Contains("expired", expired.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    /// <summary>A token that is not valid yet by the service's clock is refused, and accepted once that clock reaches its nbf.</summary>
    [Fact]
    public async Task ATokenIsValidFromItsNotBeforeByTheServicesClock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        await using var strict = await StrictServerAsync(clock);
        var (tenant, token) = await AgentTokenAsync(strict, clock.GetUtcNow().UtcDateTime.AddMinutes(1), clock.GetUtcNow().UtcDateTime.AddMinutes(5));
        var early = await strict.SendAsync(HttpMethod.Get, "/livechat/sessions?limit=5", token, tenant);
        early.AssertError(HttpStatusCode.Unauthorized, "request");
        Assert.Contains("not valid before", early.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        clock.Advance(TimeSpan.FromMinutes(1));
        (await strict.SendAsync(HttpMethod.Get, "/livechat/sessions?limit=5", token, tenant)).AssertStatus(HttpStatusCode.OK);
    }

    /// <summary>A server on <paramref name="clock"/> with no clock skew, so a token's times are exact.</summary>
    private static async Task<LivechatServer> StrictServerAsync(FakeTimeProvider clock)
    {
        var strict = new LivechatServer(DatabaseProvider.Sqlite) { ConfigureServices = services => services.AddSingleton<TimeProvider>(clock) };
        strict.Settings["Livechat:Auth:ClockSkewSeconds"] = "0";
        await strict.StartAsync();
        return strict;
    }

    /// <summary>A new tenant of <paramref name="server"/>, and an agent's token of it valid from <paramref name="notBefore"/> to <paramref name="expires"/>.</summary>
    private static async Task<(string Tenant, string Token)> AgentTokenAsync(LivechatServer server, DateTime notBefore, DateTime expires)
    {
        var tenant = await server.NewTenantAsync();
        var token = Sign(d =>
        {
            d.Claims = new Dictionary<string, object> { ["sub"] = "77", ["tenant_id"] = tenant, ["role"] = Roles.SupportAgent };
            d.NotBefore = notBefore;
            d.Expires = expires;
        });
        return (tenant.ToString(System.Globalization.CultureInfo.InvariantCulture), token);
    }

    [Fact]
    public async Task NoTokenIs401()
    {
        var reply = await server.SendAsync(HttpMethod.Get, "/livechat/sessions", tenant: "1");
        reply.AssertError(HttpStatusCode.Unauthorized, "request");
        Assert.Contains("Bearer", reply.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonNumericSubjectIs401()
    {
        var tenant = await server.NewTenantAsync();
        var token = Sign(d => d.Claims = new Dictionary<string, object> { ["sub"] = "alice", ["tenant_id"] = tenant, ["role"] = Roles.SupportAgent });
        var reply = await server.SendAsync(HttpMethod.Get, "/livechat/sessions", token, tenant.ToString(System.Globalization.CultureInfo.InvariantCulture));
        reply.AssertError(HttpStatusCode.Unauthorized, "request");
    }

    [Fact]
    public async Task MissingTenantHeaderWithUnmappedHostIs400()
    {
        var tenant = await server.NewTenantAsync();
        var reply = await server.SendAsync(HttpMethod.Get, "/livechat/sessions", LivechatServer.Token(1, [tenant], [Roles.SupportAgent]));
        reply.AssertError(HttpStatusCode.BadRequest, "x_tenant_id");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("1.5")]
    [InlineData("+7")]
    [InlineData("7 8")]
    [InlineData("99999999999999999999999")]
    public async Task MalformedTenantHeaderIs400(string header)
    {
        var reply = await server.SendAsync(HttpMethod.Get, "/livechat/sessions", LivechatServer.Token(1, [1], [Roles.SupportAgent]), header);
        reply.AssertError(HttpStatusCode.BadRequest, "x_tenant_id");
    }

    [Fact]
    public async Task TenantNotGrantedByTheTokenIs403()
    {
        var mine = await server.NewTenantAsync();
        var theirs = await server.NewTenantAsync();
        var reply = await server.SendAsync(HttpMethod.Get, "/livechat/sessions", LivechatServer.Token(1, [mine], [Roles.SupportAgent]), theirs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        reply.AssertError(HttpStatusCode.Forbidden, "request");
    }
}
