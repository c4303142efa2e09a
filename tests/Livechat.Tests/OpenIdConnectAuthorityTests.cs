using System.Net;
using System.Security.Cryptography;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Livechat.Tests;

/// <summary>
/// A stand-in identity provider on loopback: OpenID Connect discovery and a JWKS with one RSA key, the two
/// documents an authority serves. Livechat fetches them exactly as it would from a real one.
/// </summary>
public sealed class IdentityProvider : IAsyncLifetime
{
    private WebApplication? app;

    public RsaSecurityKey Key { get; } = new(RSA.Create(2048)) { KeyId = "test-key-1" };

    public string Authority { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        app = builder.Build();
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Authority,
            ["jwks_uri"] = $"{Authority}/jwks",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        app.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(Key.Rsa.ExportParameters(false)) { KeyId = Key.KeyId });
            return Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
        });
        await app.StartAsync();
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        Authority = $"http://localhost:{port}"; // http is accepted for localhost only
    }

    public string Token(long user, long tenant, string role, string? issuer = null) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Authority,
            Audience = LivechatServer.Audience,
            Claims = new Dictionary<string, object> { ["sub"] = user.ToString(System.Globalization.CultureInfo.InvariantCulture), ["tenant_id"] = tenant, ["role"] = role },
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.RsaSha256),
        });

    public async Task DisposeAsync()
    {
        if (app is not null) await app.DisposeAsync();
    }
}

/// <summary>A Livechat that trusts the <see cref="IdentityProvider"/> instead of a signing key.</summary>
public sealed class AuthorityServer : IAsyncLifetime
{
    public IdentityProvider Provider { get; } = new();
    public LivechatServer Server { get; } = new SqliteServer();

    public async Task InitializeAsync()
    {
        await Provider.InitializeAsync();
        Server.Settings["Livechat:Auth:SigningKey"] = null;
        Server.Settings["Livechat:Auth:Authority"] = Provider.Authority;
        Server.Settings["Livechat:Auth:Issuer"] = Provider.Authority;
        await Server.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Provider.DisposeAsync();
    }
}

/// <summary>Issue 2, item 3: an OpenID Connect authority as the alternative to a signing key.</summary>
public sealed class OpenIdConnectAuthorityTests(AuthorityServer fixture) : IClassFixture<AuthorityServer>
{
    private LivechatServer Server => fixture.Server;

    [Fact]
    public async Task ATokenSignedByTheAuthoritysKeyIsAccepted()
    {
        var tenant = await Server.NewTenantAsync();
        var token = fixture.Provider.Token(41, tenant, "SUPPORT_AGENT");
        var reply = await Server.SendAsync(HttpMethod.Post, "/livechat/sessions", token, tenant.ToString(System.Globalization.CultureInfo.InvariantCulture), "{}");
        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(41, reply.Data.GetProperty("agent_id").GetInt64());
    }

    [Fact]
    public async Task AnHs256TokenIsRefusedInAuthorityModeEvenWithTheOldDevelopmentKey()
    {
        var tenant = await Server.NewTenantAsync();
        var reply = await Server.SendAsync(HttpMethod.Get, "/livechat/sessions", LivechatServer.Token(41, [tenant], ["SUPPORT_AGENT"]),
            tenant.ToString(System.Globalization.CultureInfo.InvariantCulture));
        reply.AssertError(HttpStatusCode.Unauthorized, "request");
    }

    [Fact]
    public async Task ATokenFromTheRightKeyButAnotherIssuerIsRefused()
    {
        var tenant = await Server.NewTenantAsync();
        var token = fixture.Provider.Token(41, tenant, "SUPPORT_AGENT", issuer: "https://impostor.example");
        var reply = await Server.SendAsync(HttpMethod.Get, "/livechat/sessions", token, tenant.ToString(System.Globalization.CultureInfo.InvariantCulture));
        reply.AssertError(HttpStatusCode.Unauthorized, "request");
    }
}
