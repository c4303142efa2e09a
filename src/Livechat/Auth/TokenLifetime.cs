using System.Globalization;
using System.Security.Claims;

namespace Livechat.Auth;

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
}
