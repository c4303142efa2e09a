using System.Globalization;
using System.Text;

namespace Livechat.Agents;

/// <summary>
/// The names users' tokens carry (the standard <c>name</c> claim, contract section 18), as the service keeps them:
/// at most <see cref="MaxLength"/> characters, control characters and bidirectional overrides taken out, runs of
/// white space made one space. A name with nothing visible left counts as none.
/// </summary>
public static class UserNames
{
    public const int MaxLength = 100;

    /// <summary>The remembered name of <c>@tenant</c>'s user <paramref name="userColumn"/> as a scalar subquery, NULL when none.</summary>
    public static string Of(string tenantColumn, string userColumn) =>
        $"(SELECT n.name FROM user_names n WHERE n.tenant_id = {tenantColumn} AND n.user_id = {userColumn})";

    /// <summary>The name to keep for a claim's value, or null when it has none worth showing.</summary>
    public static string? Clean(string? claim)
    {
        if (string.IsNullOrEmpty(claim)) return null;
        var name = new StringBuilder(Math.Min(claim.Length, MaxLength));
        var characters = 0;
        var space = false;
        foreach (var rune in claim.EnumerateRunes()) // a lone surrogate reads as U+FFFD
        {
            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune))
            {
                space = name.Length > 0; // leading white space goes, inner runs become one space
                continue;
            }
            // Embeddings, overrides and isolates reorder what follows them: a name must not turn a line around.
            if (rune.Value is (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069)) continue;
            if (space)
            {
                if (++characters > MaxLength) break;
                name.Append(' ');
                space = false;
            }
            if (++characters > MaxLength) break;
            name.Append(rune.ToString());
        }
        var text = name.ToString().TrimEnd();
        return text.EnumerateRunes().Any(IsVisible) ? text : null;
    }

    // Zero-width and format characters (U+200B, U+FEFF, U+2060...) alone show nothing.
    private static bool IsVisible(Rune rune) =>
        !Rune.IsWhiteSpace(rune) && Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Format or UnicodeCategory.Control or UnicodeCategory.Surrogate)
        && rune.Value is not (0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800); // fillers and the blank braille pattern
}
