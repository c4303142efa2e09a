using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Livechat.Auth;

/// <summary>
/// The JWT handler of the signing-key mode, remembering the tokens it found valid: a client sends the same token with
/// every request, and checking its signature, issuer and audience again (and building its claims from the JSON) was a
/// tenth of the service's CPU a message on PostgreSQL (docs/performance.md, session 26). What a token's text decides
/// never changes for it, with one key that is fixed at start-up; time does, so a remembered token is only used while
/// its lifetime (with the clock skew) holds by the same clock as the full check (the service's <see cref="TimeProvider"/>,
/// <see cref="TokenLifetime"/>), and otherwise checked again in full,
/// which answers as before (an expired token is refused with its reason). Only valid tokens are kept, at most
/// <see cref="MaxKept"/>; each request gets its own copy of the claims, which <c>OnTokenValidated</c> edits.
/// Not used with an authority, whose keys rotate: there every token is checked in full.
/// </summary>
internal sealed class ValidatedTokens(TimeProvider time) : JsonWebTokenHandler
{
    /// <summary>Tokens kept at most; past this the memory starts again empty (a token is then checked in full once more).</summary>
    private const int MaxKept = 10_000;

    private readonly ConcurrentDictionary<string, (JsonWebToken Token, ClaimsIdentity Identity)> valid = new(StringComparer.Ordinal);

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (valid.TryGetValue(token, out var known))
        {
            if (TokenLifetime.Holds(known.Token.ValidFrom, known.Token.ValidTo, validationParameters.ClockSkew, time))
                return new TokenValidationResult { IsValid = true, SecurityToken = known.Token, ClaimsIdentity = known.Identity.Clone() };
            valid.TryRemove(token, out _);
        }
        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result is { IsValid: true, SecurityToken: JsonWebToken checkedToken })
        {
            if (valid.Count >= MaxKept) valid.Clear();
            valid[token] = (checkedToken, result.ClaimsIdentity.Clone());
        }
        return result;
    }
}
