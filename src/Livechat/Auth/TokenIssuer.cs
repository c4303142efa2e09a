using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Livechat.Auth;

/// <summary>Mints HS256 tokens with the configured key: the <c>token</c> verb and the development start-up use it.</summary>
public static class TokenIssuer
{
    /// <param name="name">The standard <c>name</c> claim (the user's display name), left out when null.</param>
    public static string Issue(AuthOptions options, long userId, IEnumerable<long> tenantIds, IEnumerable<string> roles, TimeSpan lifetime, DateTimeOffset now,
        string? name = null)
    {
        if (string.IsNullOrEmpty(options.SigningKey))
            throw new InvalidOperationException("Tokens can only be minted with Livechat:Auth:SigningKey (an OpenID Connect authority issues its own).");
        var tenantList = tenantIds.ToArray();
        var roleList = roles.ToArray();
        var claims = new Dictionary<string, object>
        {
            ["sub"] = userId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["tenant_id"] = tenantList.Length == 1 ? tenantList[0] : tenantList,
            ["role"] = roleList.Length == 1 ? roleList[0] : roleList,
        };
        if (name is not null) claims["name"] = name;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.SigningKey)), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }
}
