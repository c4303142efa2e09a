using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Livechat.Messages;

namespace Livechat.Canned;

/// <summary>The rules of a canned response's fields, how search reads a title, and how a body is rendered for a session.</summary>
public static partial class CannedText
{
    public const int MaxTitle = 200;
    public const int MaxBody = 5000;
    public const int MaxQuery = 100;

    public const string ShortcutRule = "shortcut must be 1 to 32 characters of a-z, 0-9, '_' and '-', starting with a letter or digit.";

    // The contract's ^[a-z0-9][a-z0-9_-]{0,31}$, with \z for $: .NET's $ also matches before a final line break.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]{0,31}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ShortcutPattern();

    public static bool IsShortcut(string value) => ShortcutPattern().IsMatch(value);

    /// <summary>Why a title is refused, or null: one line of 1 to 200 characters with something visible.</summary>
    public static string? TitleProblem(string title) =>
        TextProblem(title, "title", MaxTitle, allowLineBreaks: false);

    /// <summary>Why a body is refused, or null: the rules of a message's text (it becomes one), 1 to 5,000 characters.</summary>
    public static string? BodyProblem(string body) =>
        TextProblem(body, "body", MaxBody, allowLineBreaks: true);

    /// <summary>Characters are Unicode characters (an emoji is one), as for messages; control characters cannot be typed.</summary>
    private static string? TextProblem(string text, string field, int max, bool allowLineBreaks)
    {
        var most = max.ToString("N0", CultureInfo.InvariantCulture);
        var characters = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(c)) return $"{field} must be valid Unicode text.";
            else if (char.IsControl(c) && !(allowLineBreaks && c is '\t' or '\n' or '\r'))
                return allowLineBreaks ? $"{field} must not contain control characters other than tabs and line breaks." : $"{field} must be one line without control characters.";
            if (++characters > max) return $"{field} must be at most {most} characters long.";
        }
        return VisibleText.HasVisibleCharacter(text) ? null : $"{field} is required: 1 to {most} characters with at least one visible character.";
    }

    /// <summary>
    /// The title as search reads it: its words in lower case, each after one space (" refund policy 2024"), so that
    /// "a word starting with q" is <c>LIKE '% q%'</c>. A word is a run of letters, digits and combining marks.
    /// </summary>
    public static string Words(string text)
    {
        var words = new StringBuilder(text.Length + 1);
        var inWord = false;
        foreach (var rune in text.ToLowerInvariant().EnumerateRunes())
        {
            var wordCharacter = Rune.IsLetterOrDigit(rune)
                || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;
            if (wordCharacter && !inWord) words.Append(' ');
            if (wordCharacter) words.Append(rune.ToString());
            inWord = wordCharacter;
        }
        return words.ToString();
    }

    /// <summary>A LIKE pattern's literal part: <c>%</c>, <c>_</c> and the escape character itself match only themselves.</summary>
    public static string EscapeLike(string text) => text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");

    [GeneratedRegex(@"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    /// <summary>
    /// The body with <c>{{customer.name}}</c>, <c>{{agent.name}}</c> and <c>{{session.id}}</c> filled in (white space
    /// inside the braces allowed). A value the session does not have is an empty string; any other placeholder stays as written.
    /// </summary>
    public static string Render(string body, RenderValues values) => Placeholder().Replace(body, match => match.Groups[1].Value switch
    {
        "customer.name" => values.CustomerName ?? "",
        "agent.name" => values.AgentName ?? "",
        "session.id" => values.SessionId.ToString(),
        _ => match.Value,
    });
}

/// <summary>What a session gives the placeholders: the names are null when unknown.</summary>
public sealed record RenderValues(Guid SessionId, string? CustomerName, string? AgentName);
