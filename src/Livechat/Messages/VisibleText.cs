using System.Globalization;
using System.Text;

namespace Livechat.Messages;

/// <summary>
/// Whether a text shows anything. A message made only of white space, zero-width and format characters
/// (U+200B, U+FEFF, U+2060, U+202E...) or fillers (U+3164 HANGUL FILLER...) is an empty bubble, so it is
/// refused like an empty one. Such characters stay welcome <em>inside</em> a message with visible text.
/// </summary>
public static class VisibleText
{
    public static bool HasVisibleCharacter(string text)
    {
        foreach (var rune in text.EnumerateRunes())
            if (IsVisible(rune)) return true;
        return false;
    }

    private static bool IsVisible(Rune rune)
    {
        if (Rune.IsWhiteSpace(rune)) return false;
        var category = Rune.GetUnicodeCategory(rune);
        if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate) return false;
        return !IsDefaultIgnorable(rune.Value) && rune.Value != 0x2800; // U+2800 BRAILLE PATTERN BLANK
    }

    /// <summary>Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): rendered as nothing.</summary>
    private static bool IsDefaultIgnorable(int c) => c is 0x00AD or 0x034F or 0x061C or 0x115F or 0x1160 or 0x17B4 or 0x17B5
        or (>= 0x180B and <= 0x180F) or (>= 0x200B and <= 0x200F) or (>= 0x202A and <= 0x202E) or (>= 0x2060 and <= 0x206F)
        or 0x3164 or (>= 0xFE00 and <= 0xFE0F) or 0xFEFF or 0xFFA0 or (>= 0xFFF0 and <= 0xFFF8) or (>= 0x1BCA0 and <= 0x1BCA3)
        or (>= 0x1D173 and <= 0x1D17A) or (>= 0xE0000 and <= 0xE0FFF);
}
