using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Livechat.Auth;

public static class AuthSetup
{
    /// <summary>The hub path, where browsers cannot set headers on WebSockets and send the token as <c>access_token</c>.</summary>
    public const string HubPath = "/livechat/hub";

    /// <summary>
    /// Browsers cannot set headers on WebSockets or <c>EventSource</c>: the hub and the SSE streams also take
    /// the token as <c>access_token</c> and the tenant as <c>tenant_id</c> in the query. Nothing else does, and
    /// the access log writes paths without query strings, so tokens do not end up in logs.
    /// </summary>
    public static bool AcceptsQueryCredentials(PathString path) => path.StartsWithSegments(HubPath) || path.Equals(UserStreamPath) || IsSessionEvents(path);

    /// <summary>The per-user event stream, exactly this path.</summary>
    public const string UserStreamPath = "/livechat/stream";

    /// <summary>
    /// Exactly <c>/livechat/sessions/{id}/events</c>. "Starts with /livechat/sessions and ends with /events"
    /// also matched <c>/livechat/sessions/events</c>, which routes to <c>GET/PATCH /livechat/sessions/{id}</c>:
    /// a REST endpoint that then took a token from the query (found by the security suite).
    /// </summary>
    private static bool IsSessionEvents(PathString path)
    {
        if (!path.StartsWithSegments("/livechat/sessions", out var rest) || !rest.HasValue) return false;
        var segments = rest.Value!.Split('/');
        return segments.Length == 3 && segments[0].Length == 0 && segments[1].Length > 0 && segments[2] == "events";
    }

    public static IServiceCollection AddLivechatAuth(this IServiceCollection services)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, TimeProvider>((jwt, authOptions, time) => Configure(jwt, authOptions.Value, time));
        services.AddAuthorization();
        return services;
    }

    private static void Configure(JwtBearerOptions jwt, AuthOptions auth, TimeProvider time)
    {
        // Our claim names are the token's own (sub, role, tenant_id): no mapping to WS-* URIs.
        jwt.MapInboundClaims = false;
        // Nothing reads the token back from the authentication properties (GetTokenAsync): not storing it there spares
        // every request a copy and a formatted expiry.
        jwt.SaveToken = false;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = auth.Issuer,
            ValidAudience = auth.Audience,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromSeconds(auth.ClockSkewSeconds),
            NameClaimType = "sub",
            RoleClaimType = "role",
            // The service's clock, not the library's DateTime.UtcNow: the same time every other rule reads (and tests set).
            LifetimeValidator = (notBefore, expires, _, parameters) => TokenLifetime.Validate(notBefore, expires, parameters.ClockSkew, time),
        };
        if (!string.IsNullOrEmpty(auth.SigningKey))
        {
            jwt.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(auth.SigningKey));
            // Only the algorithm we sign with: no 'none', no confusion with other key types.
            jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
            // One fixed key: a token found valid is remembered, and only its lifetime is checked again (ValidatedTokens).
            jwt.TokenHandlers.Clear();
            jwt.TokenHandlers.Add(new ValidatedTokens(time) { MapInboundClaims = false });
        }
        else
        {
            jwt.Authority = auth.Authority;
            jwt.RequireHttpsMetadata = !auth.Authority!.StartsWith("http://localhost", StringComparison.OrdinalIgnoreCase);
            // Asymmetric only: an HS256 token "signed" with the authority's public key must never pass.
            jwt.TokenValidationParameters.ValidAlgorithms =
            [
                SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
                SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
                SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
            ];
        }
        jwt.Events = new JwtBearerEvents
        {
            OnMessageReceived = context =>
            {
                if (AcceptsQueryCredentials(context.HttpContext.Request.Path)
                    && context.Request.Query.TryGetValue("access_token", out var token))
                {
                    context.Token = token.ToString();
                }
                return Task.CompletedTask;
            },
            // SignalR knows a connection's user by the name identifier claim, which claim mapping would make of
            // 'sub': give it exactly the token's 'sub', never a name identifier the token brings itself. (The
            // tenant binding of hub connections is HubDoor's.)
            OnTokenValidated = context =>
            {
                if (context.Principal?.Identity is System.Security.Claims.ClaimsIdentity identity)
                {
                    foreach (var claim in identity.FindAll(System.Security.Claims.ClaimTypes.NameIdentifier).ToList()) identity.TryRemoveClaim(claim);
                    if (identity.FindFirst("sub") is { } sub) identity.AddClaim(new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, sub.Value));
                }
                return Task.CompletedTask;
            },
        };
    }
}
