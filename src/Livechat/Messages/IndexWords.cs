using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Livechat.Messages;

/// <summary>
/// The words of a text as SQLite's FTS5 tokenizer (<c>unicode61 remove_diacritics 2</c>, migration 0090) stores them,
/// for <c>message_search_words</c> (migration 0101), where a query's last word, a prefix, is looked up
/// (<c>Search/SearchStore.cs</c>): the words that are ASCII once folded, and for a word that begins in ASCII and goes on
/// beyond it, its ASCII beginning and a star (<see cref="Entry"/>). IndexWordsTests feeds a corpus and every code point
/// of the BMP and the SMP to FTS5 and compares: a word this misses would be missing from prefix searches.
/// </summary>
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
                Add(words, text.AsSpan(start, i - start), ascii);
                start = -1;
            }
            i += length;
        }
        if (start >= 0) Add(words, text.AsSpan(start), ascii);
        return words;
    }

    // The send runs this on every message: an ASCII token is lower-cased on the stack and allocated only when new.
    private static void Add(List<string> words, ReadOnlySpan<char> token, bool ascii)
    {
        if (!ascii)
        {
            if (Entry(token.ToString()) is { } entry && !words.Contains(entry, StringComparer.Ordinal)) words.Add(entry);
            return;
        }
        Span<char> lower = token.Length <= 128 ? stackalloc char[token.Length] : new char[token.Length];
        token.ToLowerInvariant(lower);
        foreach (var word in words)
        {
            if (lower.SequenceEqual(word)) return;
        }
        words.Add(new string(lower));
    }

    /// <summary>
    /// What the table holds for a token with characters beyond ASCII, as FTS5 folds it (its diacritics removed, its
    /// letters in lower case, <see cref="Plain"/>'s letters their ASCII letter): the word when that is ASCII ("Café" is
    /// <c>cafe</c>); else, when it begins with ASCII, that beginning and a star ("Straße" is <c>stra*</c>: some word of
    /// the index begins <c>stra</c> and goes on beyond ASCII, which <c>Search/SearchStore.cs</c> then looks up in the index
    /// itself); else null ("Øre").
    /// </summary>
    public static string? Entry(string token)
    {
        var folded = Fold(token);
        var ascii = 0;
        while (ascii < folded.Length && char.IsAscii(folded[ascii])) ascii++;
        return ascii == 0 ? null : ascii == folded.Length ? folded : string.Concat(folded.AsSpan(0, ascii), "*");
    }

    /// <summary>
    /// A word as FTS5 folds it, whatever its letters: its diacritics removed (<see cref="IsFts5Diacritic"/>), the letters
    /// of <see cref="Plain"/> their ASCII letter, the rest in lower case ("Café" is "cafe", "Øre" is "øre"). The search's
    /// highlight compares words by it (<c>Search/Highlight.cs</c>); PostgreSQL's <c>unaccent</c> agrees on these letters.
    /// Not <c>string.Normalize</c>, which does nothing under invariant globalization.
    /// </summary>
    public static string Fold(string word)
    {
        var folded = new StringBuilder(word.Length);
        foreach (var rune in word.EnumerateRunes())
        {
            if (rune.IsAscii) folded.Append(char.ToLowerInvariant((char)rune.Value));
            else if (IsFts5Diacritic(rune.Value)) continue;
            else if (rune.IsBmp && Plain.TryGetValue((char)rune.Value, out var letter)) folded.Append(letter);
            else folded.Append(Rune.ToLowerInvariant(rune).ToString());
        }
        return folded.ToString();
    }

    /// <summary>
    /// The letters beyond ASCII that FTS5's <c>remove_diacritics 2</c> and case folding make ASCII letters, read from
    /// FTS5 itself (every code point of the BMP and the SMP between two letters; IndexWordsTests checks them all the
    /// same way). A table, not <c>string.Normalize</c>: the service runs with invariant globalization, where
    /// <c>Normalize</c> leaves "é" as it is, and FTS5 takes diacritics off only the letters of its own table (not Ǡ).
    /// </summary>
    private static readonly FrozenDictionary<char, char> Plain = new (char Letter, string Accented)[]
    {
        ('a', "ÀÁÂÃÄÅàáâãäåĀāĂăĄąǍǎǞǟǺǻȀȁȂȃȦȧḀḁẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặÅ"),
        ('b', "ḂḃḄḅḆḇ"),
        ('c', "ÇçĆćĈĉĊċČčḈḉ"),
        ('d', "ĎďḊḋḌḍḎḏḐḑḒḓ"),
        ('e', "ÈÉÊËèéêëĒēĔĕĖėĘęĚěȄȅȆȇȨȩḔḕḖḗḘḙḚḛḜḝẸẹẺẻẼẽẾếỀềỂểỄễỆệ"),
        ('f', "Ḟḟ"),
        ('g', "ĜĝĞğĠġĢģǦǧǴǵḠḡ"),
        ('h', "ĤĥȞȟḢḣḤḥḦḧḨḩḪḫẖ"),
        ('i', "ÌÍÎÏìíîïĨĩĪīĬĭĮįİǏǐȈȉȊȋḬḭḮḯỈỉỊị"),
        ('j', "Ĵĵǰ"),
        ('k', "ĶķǨǩḰḱḲḳḴḵK"),
        ('l', "ĹĺĻļĽľḶḷḸḹḺḻḼḽ"),
        ('m', "ḾḿṀṁṂṃ"),
        ('n', "ÑñŃńŅņŇňǸǹṄṅṆṇṈṉṊṋ"),
        ('o', "ÒÓÔÕÖòóôõöŌōŎŏŐőƠơǑǒǪǫǬǭȌȍȎȏȪȫȬȭȮȯȰȱṌṍṎṏṐṑṒṓỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợ"),
        ('p', "ṔṕṖṗ"),
        ('r', "ŔŕŖŗŘřȐȑȒȓṘṙṚṛṜṝṞṟ"),
        ('s', "ŚśŜŝŞşŠšſȘșṠṡṢṣṤṥṦṧṨṩẛ"),
        ('t', "ŢţŤťȚțṪṫṬṭṮṯṰṱẗ"),
        ('u', "ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųƯưǓǔǕǖǗǘǙǚǛǜȔȕȖȗṲṳṴṵṶṷṸṹṺṻỤụỦủỨứỪừỬửỮữỰự"),
        ('v', "ṼṽṾṿ"),
        ('w', "ŴŵẀẁẂẃẄẅẆẇẈẉẘ"),
        ('x', "ẊẋẌẍ"),
        ('y', "ÝýÿŶŷŸȲȳẎẏẙỲỳỴỵỶỷỸỹ"),
        ('z', "ŹźŻżŽžẐẑẒẓẔẕ"),
    }.SelectMany(l => l.Accented.Select(a => (a, l.Letter))).ToFrozenDictionary(p => p.a, p => p.Letter);

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
}
