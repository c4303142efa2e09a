using System.Text;
using Livechat.Messages;

namespace Livechat.Search;

/// <summary>
/// A hit's <c>highlight</c> (contract section 19): the message text, or a window of at most <see cref="Window"/>
/// characters around its first match, with each match in <c>&lt;mark&gt;</c> and <c>&lt;/mark&gt;</c> and every other
/// <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c> escaped. Matches are found here with the query's own words, folded as the
/// engines fold them (<see cref="IndexWords.Fold"/>), so both databases highlight alike.
/// </summary>
public static class Highlight
{
    public const int Window = 300;

    public static string Of(string text, SearchQuery query)
    {
        var spans = SearchQuery.Spans(text).ToList();
        var folded = spans.Select(s => IndexWords.Fold(text.Substring(s.Start, s.Length))).ToList();
        var marked = new bool[spans.Count];
        foreach (var term in query.Terms)
        {
            var words = term.Words.Select(IndexWords.Fold).ToList();
            for (var i = 0; i + words.Count <= spans.Count; i++)
            {
                var matches = true;
                for (var k = 0; k < words.Count && matches; k++)
                {
                    var isLast = k == words.Count - 1;
                    matches = term.Prefix && isLast ? folded[i + k].StartsWith(words[k], StringComparison.Ordinal) : folded[i + k] == words[k];
                }
                if (!matches) continue;
                for (var k = 0; k < words.Count; k++) marked[i + k] = true;
            }
        }

        // The window: the whole text when it is short enough, else 300 characters that start a little before the first match.
        var from = 0;
        var to = text.Length;
        if (text.Length > Window)
        {
            var first = Array.IndexOf(marked, true);
            var anchor = first < 0 ? 0 : spans[first].Start;
            from = Math.Max(0, Math.Min(anchor - Window / 5, text.Length - Window));
            if (from > 0 && char.IsLowSurrogate(text[from])) from++;
            to = from + Window;
            if (to < text.Length && char.IsHighSurrogate(text[to - 1])) to--;
        }

        var html = new StringBuilder(to - from + 64);
        var at = from;
        for (var i = 0; i < spans.Count; i++)
        {
            var (start, length) = spans[i];
            if (!marked[i] || start < from || start + length > to) continue;
            Escape(html, text.AsSpan(at, start - at));
            // Adjacent marked words of one phrase share one mark when only spaces lie between them.
            var end = start + length;
            while (i + 1 < spans.Count && marked[i + 1] && spans[i + 1].Start + spans[i + 1].Length <= to
                && text.AsSpan(end, spans[i + 1].Start - end).IsWhiteSpace())
            {
                i++;
                end = spans[i].Start + spans[i].Length;
            }
            html.Append("<mark>");
            Escape(html, text.AsSpan(start, end - start));
            html.Append("</mark>");
            at = end;
        }
        Escape(html, text.AsSpan(at, to - at));
        return html.ToString();
    }

    private static void Escape(StringBuilder html, ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            switch (c)
            {
                case '<': html.Append("&lt;"); break;
                case '>': html.Append("&gt;"); break;
                case '&': html.Append("&amp;"); break;
                default: html.Append(c); break;
            }
        }
    }
}
