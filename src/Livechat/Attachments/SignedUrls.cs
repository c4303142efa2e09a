using Livechat.Messages;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Livechat.Attachments;

/// <summary>
/// Download links that work without <c>Authorization</c> (an <c>&lt;img src&gt;</c>), bound to one attachment, its
/// tenant and an expiry by an HMAC-SHA256 with the server's key: <c>/livechat/attachments/{id}/content?expires=&amp;sig=</c>.
/// Verification also accepts the previous keys, so a key can be rotated without breaking the links already out
/// (docs/security.md).
/// </summary>
public sealed class SignedUrls : IAttachmentLinks
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    private readonly byte[] key;
    private readonly byte[][] verifying;
    private readonly TimeProvider time;

    public SignedUrls(IOptions<AttachmentOptions> options, TimeProvider time, ILogger<SignedUrls> logger)
    {
        this.time = time;
        var configured = options.Value.SigningKey;
        if (string.IsNullOrEmpty(configured))
        {
            // Links signed here work only on this instance until it restarts: fine for one machine trying it out,
            // not for several instances, hence the warning.
            key = RandomNumberGenerator.GetBytes(32);
            logger.LogWarning("Livechat:Attachments:SigningKey is not set: download links are signed with a random key, valid only on this instance until it restarts.");
        }
        else
        {
            key = Encoding.UTF8.GetBytes(configured);
        }
        verifying = [key, .. options.Value.PreviousSigningKeys.Where(k => k.Length > 0).Select(Encoding.UTF8.GetBytes)];
    }

    public string UrlFor(long tenantId, Guid id, TimeSpan? lifetime = null)
    {
        var expires = (time.GetUtcNow() + (lifetime ?? Lifetime)).ToUnixTimeSeconds();
        return string.Create(CultureInfo.InvariantCulture, $"/livechat/attachments/{id:D}/content?expires={expires}&sig={Sign(key, tenantId, id, expires)}");
    }

    /// <summary>True when <paramref name="signature"/> signs this attachment of this tenant until a time not yet past.</summary>
    public bool Verify(long tenantId, Guid id, string expiresText, string signature)
    {
        if (!long.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var expires)) return false;
        if (expires < time.GetUtcNow().ToUnixTimeSeconds()) return false;
        if (signature.Length != 64) return false;
        var given = Encoding.ASCII.GetBytes(signature.ToLowerInvariant());
        return verifying.Any(k => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(k, tenantId, id, expires)), given));
    }

    private static string Sign(byte[] key, long tenantId, Guid id, long expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{id:D}\n{tenantId}\n{expires}"))));
}
