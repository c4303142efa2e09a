using System.Globalization;
using System.Security.Claims;
using Microsoft.IdentityModel.Tokens;

namespace Livechat.Auth;

/// <summary>
/// A token's lifetime by the service's clock (its <see cref="TimeProvider"/>, which tests set), with the rules and the
/// refusals of IdentityModel's own check (which reads <c>DateTime.UtcNow</c>): valid from nbf - skew to exp + skew, and
/// refused as expired or not yet valid, so the 401's <c>WWW-Authenticate</c> says the same as before. The full
/// validation (<see cref="AuthSetup"/>'s <c>LifetimeValidator</c>) and a remembered token's check
/// (<see cref="ValidatedTokens"/>) both use it.
/// </summary>
public static class TokenLifetime
{
    /// <summary>
    /// When the caller's (already validated) token expires, from its <c>exp</c> claim. Long-lived connections
    /// (the hub, SSE streams) are checked once, at connect, and use this to end when the token does.
    /// </summary>
    public static DateTimeOffset? ExpiresAt(ClaimsPrincipal? user) =>
        long.TryParse(user?.FindFirst("exp")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var exp)
            ? DateTimeOffset.FromUnixTimeSeconds(exp)
            : null;

    public static bool Holds(DateTime? notBefore, DateTime? expires, TimeSpan skew, TimeProvider time) =>
        Refusal(notBefore, expires, skew, time) is null;

    /// <summary>The full validation's <c>LifetimeValidator</c>: true, or the refusal thrown (the handler reports its kind).</summary>
    public static bool Validate(DateTime? notBefore, DateTime? expires, TimeSpan skew, TimeProvider time) =>
        Refusal(notBefore, expires, skew, time) is { } refusal ? throw refusal : true;

    private static SecurityTokenValidationException? Refusal(DateTime? notBefore, DateTime? expires, TimeSpan skew, TimeProvider time)
    {
        // The JWT handler reads a missing nbf as DateTime.MinValue; a missing exp never gets here (RequireExpirationTime).
        var from = notBefore is { } nbf && nbf != DateTime.MinValue ? nbf.ToUniversalTime() : (DateTime?)null;
        if (expires is not { } exp) return new SecurityTokenNoExpirationException("The token has no expiration time.");
        var to = exp.ToUniversalTime();
        if (from > to) return new SecurityTokenInvalidLifetimeException($"The token's nbf ({from:O}) is after its exp ({to:O}).") { NotBefore = from, Expires = to };
        var now = time.GetUtcNow().UtcDateTime;
        if (from is { } start && start > now + skew) return new SecurityTokenNotYetValidException($"The token is not valid before {start:O}.") { NotBefore = start };
        if (to < now - skew) return new SecurityTokenExpiredException($"The token expired at {to:O}.") { Expires = to };
        return null;
    }
}
