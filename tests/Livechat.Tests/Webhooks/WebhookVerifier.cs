namespace Livechat.Tests.Webhooks;

// The receiver's side, exactly as docs/webhooks.md shows it (a test checks that the two stay the same).
// <verify-csharp>
using System.Security.Cryptography;
using System.Text;

public static class WebhookVerifier
{
    /// <summary>True when one of the signatures in <paramref name="signatureHeader"/> is the secret's, and the timestamp is recent.</summary>
    public static bool Verify(string secret, string id, string timestamp, string signatureHeader, string body, TimeSpan? tolerance = null)
    {
        if (!long.TryParse(timestamp, out var seconds)) return false;
        var age = DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (age.Duration() > (tolerance ?? TimeSpan.FromMinutes(5))) return false; // a replayed old request

        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
        var expected = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        foreach (var part in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = part.IndexOf(',');
            if (comma < 0 || part[..comma] != "v1") continue;
            byte[] given;
            try { given = Convert.FromBase64String(part[(comma + 1)..]); } catch (FormatException) { continue; }
            if (CryptographicOperations.FixedTimeEquals(given, expected)) return true;
        }
        return false;
    }
}
// </verify-csharp>
