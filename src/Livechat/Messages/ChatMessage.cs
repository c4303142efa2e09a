using System.Text;
using Livechat.Changes;
using System.Text.Json.Serialization;

namespace Livechat.Messages;

public sealed record ChatMessage(Guid Id, Guid SessionId, long SenderId, string Message, DateTimeOffset CreatedAt)
{
    /// <summary>The sender's own id for the message, when it sent one (extension: lets a frontend match its optimistic copy).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClientMessageId { get; init; }
}

/// <summary>A message was stored.</summary>
public sealed record MessageCreated(long TenantId, ChatMessage Message, bool ByAgent) : DomainEvent(TenantId), IPushedEvent, IWebhookEvent
{
    public static string Name => "messageCreated";

    public const string WebhookType = "message.created";

    public WebhookEvent Webhook => new(WebhookType, Message);

    public Push Push => new(Name, Message, Hearers.Session) { SessionId = Message.SessionId, Actor = Message.SenderId, Message = (Message.Id, Seq) };

    /// <summary>
    /// The message's place in its session (it never goes on the wire). The database assigns it: a planned send
    /// learns it from its insert's row, after the handlers ran and before any sink hears of the event.
    /// </summary>
    public long Seq { get; internal set; }

    /// <summary>
    /// The session's agent and tenant-side participants as the message's own insert saw them: who the message is
    /// for on the per-user streams (Realtime/SessionAudience.cs). Read by the insert, so a message needs no
    /// statement of its own for it; set, like <see cref="Seq"/>, before any sink hears of the event.
    /// </summary>
    public IReadOnlyList<long> SessionUsers { get; internal set; } = [];
}

/// <summary><c>client_message_id</c> (optional, 1 to 100 printable characters) makes a resend return the first message instead of a copy.</summary>
public sealed record SendMessageRequest(string Message, string? ClientMessageId);

public static class MessageRules
{
    public const int MaxLength = 5000;

    public static bool IsValidClientMessageId(string value) => value.Length is >= 1 and <= 100 && value.All(c => c is >= ' ' and <= '~');

    /// <summary>
    /// Why a message text is refused, or null when it is fine. Length counts Unicode characters (an emoji is
    /// one), not UTF-16 units. Control characters other than tab and line breaks are refused: they cannot be
    /// typed, PostgreSQL cannot store NUL, and they are a classic way to break a log or a terminal.
    /// </summary>
    public static string? Problem(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return "message must not be empty.";
        var characters = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(c)) return "message must be valid Unicode text.";
            else if (char.IsControl(c) && c is not ('\t' or '\n' or '\r')) return "message must not contain control characters.";
            if (++characters > MaxLength) return $"message must be at most {MaxLength} characters long.";
        }
        if (!VisibleText.HasVisibleCharacter(text)) return "message must not be empty: it has no visible character.";
        return null;
    }

    /// <summary>The start of a message for a notification: at most 140 characters, never a split surrogate pair.</summary>
    public static string Preview(string text)
    {
        const int max = 140;
        var flat = text.ReplaceLineEndings(" ").Trim();
        var builder = new StringBuilder(max + 1);
        var count = 0;
        foreach (var rune in flat.EnumerateRunes())
        {
            if (count++ == max) return builder.Append('…').ToString();
            builder.Append(rune.ToString());
        }
        return builder.ToString();
    }
}
