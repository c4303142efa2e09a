using System.Text;
using Microsoft.Extensions.Options;

namespace Livechat.Auth;

public sealed class AuthOptions
{
    public const string Section = "Livechat:Auth";

    public string Issuer { get; set; } = "livechat";
    public string Audience { get; set; } = "livechat";

    /// <summary>HS256 key, at least 32 bytes of UTF-8. Either this or <see cref="Authority"/>.</summary>
    public string? SigningKey { get; set; }

    /// <summary>OpenID Connect authority whose JWKS signs the tokens (RS/ES/PS algorithms).</summary>
    public string? Authority { get; set; }

    /// <summary>Tolerance for clocks that disagree, in seconds.</summary>
    public int ClockSkewSeconds { get; set; } = 30;
}

/// <summary>Fails the start with a message an operator can act on; never falls back to a development key.</summary>
public sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var hasKey = !string.IsNullOrEmpty(options.SigningKey);
        var hasAuthority = !string.IsNullOrEmpty(options.Authority);
        if (!hasKey && !hasAuthority)
            return ValidateOptionsResult.Fail("Set Livechat__Auth__SigningKey (HS256, at least 32 bytes) or Livechat__Auth__Authority (an OpenID Connect issuer): no token can be validated without one.");
        if (hasKey && hasAuthority)
            return ValidateOptionsResult.Fail("Set either Livechat__Auth__SigningKey or Livechat__Auth__Authority, not both.");
        if (hasKey && Encoding.UTF8.GetByteCount(options.SigningKey!) < 32)
            return ValidateOptionsResult.Fail("Livechat__Auth__SigningKey must be at least 32 bytes long for HS256.");
        if (string.IsNullOrWhiteSpace(options.Issuer) || string.IsNullOrWhiteSpace(options.Audience))
            return ValidateOptionsResult.Fail("Livechat__Auth__Issuer and Livechat__Auth__Audience must not be empty.");
        if (options.ClockSkewSeconds is < 0 or > 300)
            return ValidateOptionsResult.Fail("Livechat__Auth__ClockSkewSeconds must be between 0 and 300.");
        return ValidateOptionsResult.Success;
    }
}
