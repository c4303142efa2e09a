using System.Globalization;
using System.Text;
using Livechat.Messages;

namespace Livechat.Search;

/// <summary>One condition of a search: a word, or a phrase (words in this order); the query's last bare word also matches as a prefix.</summary>
public sealed record SearchTerm(IReadOnlyList<string> Words, bool Prefix);

/// <summary>
/// The query language of <c>GET /livechat/search</c> (contract section 19, docs/search.md), parsed here and nowhere
/// else: the engines only ever see the words it found, each alone in quotes, so nothing a caller types is the
/// engine's syntax. A word is a run of letters and digits (any script, with their combining marks); everything
/// else separates words. Words outside double quotes are each required; a quoted part is a phrase; the last bare
/// word also matches as a prefix. <c>OR</c>, <c>NEAR</c>, <c>*</c>, <c>:</c>, parentheses are words or separators.
/// </summary>
public sealed record SearchQuery(IReadOnlyList<SearchTerm> Terms)
{
    public const int MaxLength = 200;

    /// <summary>More words than this is no search a person types; each costs the engine a lookup.</summary>
    public const int MaxWords = 32;

    /// <summary>The query <paramref name="q"/>, or why it is refused (a 400 on <c>q</c>).</summary>
    public static (SearchQuery? Query, string? Problem) Parse(string? q)
    {
        if (string.IsNullOrWhiteSpace(q)) return (null, $"q is required: 1 to {MaxLength} characters to search for.");
        var length = 0;
        foreach (var _ in q.EnumerateRunes()) length++;
        if (length > MaxLength) return (null, $"q must be at most {MaxLength} characters long.");
        if (q.Count(c => c == '"') % 2 != 0) return (null, "q has an unbalanced double quote: close the phrase, or leave the quote out.");

        var terms = new List<SearchTerm>();
        var parts = q.Split('"');
        for (var i = 0; i < parts.Length; i++)
        {
            var words = Words(parts[i]);
            if (i % 2 == 1) // inside quotes
            {
                if (words.Count > 0) terms.Add(new SearchTerm(words, Prefix: false));
            }
            else
            {
                terms.AddRange(words.Select(w => new SearchTerm([w], Prefix: false)));
            }
        }
        if (terms.Count == 0) return (null, "q must contain a word: letters or digits (punctuation alone finds nothing).");
        if (terms.Sum(t => t.Words.Count) > MaxWords) return (null, $"q has more than {MaxWords} words.");
        // The last word as typed is also a prefix, unless it closed a phrase (the phrase is what was typed whole).
        var last = terms[^1];
        var endsInPhrase = q.TrimEnd().EndsWith('"');
        if (!endsInPhrase && last.Words.Count == 1) terms[^1] = last with { Prefix = true };
        return (new SearchQuery(terms), null);
    }

    /// <summary>The words of a text, in order: runs of letters, digits and combining marks.</summary>
    public static List<string> Words(string text) => [.. Spans(text).Select(s => text.Substring(s.Start, s.Length))];

    /// <summary>Where the words of a text are (the highlight marks these).</summary>
    public static IEnumerable<(int Start, int Length)> Spans(string text)
    {
        var start = -1;
        var i = 0;
        while (i < text.Length)
        {
            var rune = Rune.GetRuneAt(text, i);
            var inWord = IsWordRune(rune);
            if (inWord && start < 0) start = i;
            else if (!inWord && start >= 0)
            {
                yield return (start, i - start);
                start = -1;
            }
            i += rune.Utf16SequenceLength;
        }
        if (start >= 0) yield return (start, text.Length - start);
    }

    private static bool IsWordRune(Rune rune) => Rune.IsLetterOrDigit(rune) || Rune.GetUnicodeCategory(rune) is
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    /// <summary>
    /// The query for PostgreSQL's <c>to_tsquery('livechat_search', ...)</c>: each word a quoted lexeme (a word holds
    /// no quote, backslash or operator), a phrase joined by <c>&lt;-&gt;</c>, the prefix marked <c>:*</c>, all ANDed.
    /// </summary>
    public string ToPostgres() => ToPostgres(Terms);

    /// <summary>The query of <paramref name="terms"/> alone, as <see cref="ToPostgres()"/> writes the whole.</summary>
    public static string ToPostgres(IEnumerable<SearchTerm> terms) => string.Join(" & ", terms.Select(t =>
        t.Words.Count == 1 ? $"'{t.Words[0]}'{(t.Prefix ? ":*" : "")}" : "(" + string.Join(" <-> ", t.Words.Select(w => $"'{w}'")) + ")"));

    /// <summary>
    /// The query for SQLite's FTS5: the tenant's token first, then each term a quoted string in column <c>body</c>
    /// (a phrase is one string of several words), the prefix marked <c>*</c>, all ANDed.
    /// </summary>
    /// <para>
    /// With <paramref name="prefixWords"/> (the index's whole words the prefix begins, at least one), the prefix is searched
    /// as those words, any of them: FTS5 walks an OR of words a page at a time, where a prefix first merges every word's
    /// list of rows.
    /// </para>
    public string ToFts5(long tenantId, IReadOnlyList<string>? prefixWords = null) =>
        $"tenant : t{tenantId.ToString(CultureInfo.InvariantCulture)} AND " +
        string.Join(" AND ", Terms.Select(t => t.Prefix && prefixWords is { Count: > 0 }
            ? $"body : ({string.Join(" OR ", prefixWords.Select(w => $"\"{w}\""))})"
            : $"body : \"{string.Join(' ', t.Words)}\"{(t.Prefix ? " *" : "")}"));

    /// <summary>
    /// The last word when it is a prefix, folded as the index folds words (<see cref="IndexWords.Entry"/>), or null: none,
    /// or one with letters beyond ASCII once folded, which <c>message_search_words</c> does not hold (the prefix search stays then).
    /// </summary>
    public string? FoldedPrefix => Terms[^1] is { Prefix: true } last && IndexWords.Entry(last.Words[0]) is { } folded && !folded.EndsWith('*') ? folded : null;
}
