using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Livechat.Webhooks;

/// <summary>Secrets and signatures of the Standard Webhooks scheme (https://www.standardwebhooks.com).</summary>
public static class WebhookSigner
{
    public const string SecretPrefix = "whsec_";

    /// <summary>How long a rotated-out secret keeps signing beside the new one.</summary>
    public static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);

    /// <summary><c>whsec_</c> + base64 of 32 random bytes.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The <c>webhook-signature</c> header: <c>v1,&lt;base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")&gt;</c> for each
    /// secret, space-separated; key is the base64-decoded part after <c>whsec_</c>.
    /// </summary>
    public static string Sign(string eventId, long timestamp, string body, IEnumerable<string> secrets)
    {
        var content = Encoding.UTF8.GetBytes($"{eventId}.{timestamp.ToString(CultureInfo.InvariantCulture)}.{body}");
        return string.Join(' ', secrets.Select(secret => "v1," + Convert.ToBase64String(HMACSHA256.HashData(Key(secret), content))));
    }

    private static byte[] Key(string secret) => Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
}
