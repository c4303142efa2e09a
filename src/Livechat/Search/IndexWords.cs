using System.Globalization;
using System.Text;

namespace Livechat.Search;

/// <summary>
/// The words of a text as SQLite's FTS5 tokenizer (<c>unicode61 remove_diacritics 2</c>, migration 0090) stores them,
/// those of them that are ASCII once folded: what the send writes to <c>message_search_words</c> (migration 0102),
/// where a query's last word, a prefix, is looked up (Search/SearchStore.cs). A test feeds a corpus and every code
/// point of the BMP to FTS5 and compares (IndexWordsTests): a word this misses would be missing from prefix searches.
/// </summary>
/// <remarks>
/// FTS5's token characters are the letters, numbers, private-use characters and some diacritics (<see cref="IsTokenRune"/>);
/// its fold removes the diacritics, takes them off letters (é is e, ǖ is u) and lower-cases.
/// A word whose fold keeps a letter beyond ASCII (ß, ø, ł, Greek, CJK) is left out: where this fold and FTS5's
/// tables could disagree, the prefix is searched as one instead (<see cref="Folded"/>, <see cref="SearchQuery.FoldedPrefix"/>).
/// </remarks>
public static class IndexWords
{
    /// <summary>The distinct ASCII words of <paramref name="text"/>, folded, in the order they first occur.</summary>
    public static List<string> Of(string text)
    {
        var words = new List<string>();
        var start = -1;
        var ascii = true;
        for (var i = 0; i < text.Length;)
        {
            // A lone surrogate decodes as U+FFFD, a separator.
            Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var length);
            if (IsTokenRune(rune))
            {
                if (start < 0) (start, ascii) = (i, true);
                ascii &= rune.IsAscii;
            }
            else if (start >= 0)
            {
                Add(words, text[start..i], ascii);
                start = -1;
            }
            i += length;
        }
        if (start >= 0) Add(words, text[start..], ascii);
        return words;
    }

    private static void Add(List<string> words, string token, bool ascii)
    {
        var word = ascii ? token.ToLowerInvariant() : Folded(token);
        if (word is not null && !words.Contains(word, StringComparer.Ordinal)) words.Add(word);
    }

    /// <summary>
    /// <paramref name="word"/> as FTS5 stores it when that is ASCII, else null: decomposed, without its marks, in lower
    /// case, the long s (ſ) an s as FTS5's case folding has it.
    /// </summary>
    public static string? Folded(string word)
    {
        // A code point .NET does not know (which Normalize refuses) or a private one stays what it is: not ASCII.
        foreach (var rune in word.EnumerateRunes())
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse) return null;
        var folded = new StringBuilder(word.Length);
        foreach (var rune in word.Normalize(NormalizationForm.FormD).EnumerateRunes())
        {
            if (IsMark(rune)) continue;
            var lower = Rune.ToLowerInvariant(rune);
            if (lower.Value == 'ſ') lower = new Rune('s');
            if (!lower.IsAscii) return null;
            folded.Append((char)lower.Value);
        }
        return folded.Length == 0 ? null : folded.ToString();
    }

    /// <summary>
    /// FTS5's <c>unicode61</c> token characters, as its tables (an older Unicode than .NET's) have them: letters (L*),
    /// numbers (N*), private use (Co) and code points its tables do not know (Cn), and among the marks only the
    /// diacritics it removes (<see cref="IsFts5Diacritic"/>). The vowel signs U+19B0 to U+19C9 and U+1CF2, U+1CF3
    /// were marks in its tables (letters since), and it takes the non-characters U+FFFE and U+FFFF for separators: it
    /// splits words at them.
    /// </summary>
    /// <remarks>
    /// Where .NET knows a character FTS5's tables do not, .NET's category decides: a symbol there is a separator here,
    /// so a word beside it may be one FTS5 does not store, which only widens a prefix's OR by a word that matches
    /// nothing. The other way round, a word FTS5 stores and this misses, is what IndexWordsTests fails on.
    /// </remarks>
    public static bool IsTokenRune(Rune rune)
    {
        if (rune.IsAscii) return char.IsAsciiLetterOrDigit((char)rune.Value);
        if (rune.Value is >= 0x19B0 and <= 0x19C9 or 0x1CF2 or 0x1CF3 or 0xFFFE or 0xFFFF) return false;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter
                or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned => true,
            UnicodeCategory.NonSpacingMark => IsFts5Diacritic(rune.Value),
            _ => false,
        };
    }

    /// <summary>FTS5's <c>sqlite3Fts5UnicodeIsdiacritic</c>: the combining marks from U+0300 to U+0331 in its two bit masks.</summary>
    private static bool IsFts5Diacritic(int c) => c is >= 0x300 and <= 0x331 &&
        (c < 0x320 ? (0x08029FDFu & (1u << (c - 0x300))) != 0 : (0x000361F8u & (1u << (c - 0x320))) != 0);

    private static bool IsMark(Rune rune) => Rune.GetUnicodeCategory(rune) is
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
}
