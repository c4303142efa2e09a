using System.Text.RegularExpressions;

namespace Livechat.Sessions;

/// <summary>
/// What a label is (contract section 18): <c>^[a-z0-9][a-z0-9_-]{0,31}$</c> once trimmed and lower-cased
/// ("Billing " is <c>billing</c>), at most <see cref="MaxPerSession"/> on a session, duplicates merged, sorted.
/// </summary>
public static partial class SessionLabels
{
    public const int MaxPerSession = 10;

    public const string Rule = "A label is 1 to 32 characters: lower-case letters, digits, '_' and '-', beginning with a letter or a digit.";

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,31}$")]
    private static partial Regex Form();

    /// <summary>The label as it is kept, or null when it is not one.</summary>
    public static string? Normalise(string text)
    {
        var label = text.Trim().ToLowerInvariant();
        return Form().IsMatch(label) ? label : null;
    }
}
