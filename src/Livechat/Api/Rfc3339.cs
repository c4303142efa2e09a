using System.Globalization;
using System.Text.RegularExpressions;

namespace Livechat.Api;

/// <summary>
/// An RFC 3339 time as query strings give it: a date, a time with seconds (a fraction optional) and an offset
/// or <c>Z</c>. .NET's own parser would also take a time without an offset (as the server's local time) or a
/// bare date; a query must not mean different instants on different servers.
/// </summary>
public static partial class Rfc3339
{
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Form();

    /// <summary>The instant, in UTC.</summary>
    public static bool TryParse(string text, out DateTimeOffset instant)
    {
        instant = default;
        if (!Form().IsMatch(text) || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)) return false;
        instant = parsed.ToUniversalTime();
        return true;
    }
}
