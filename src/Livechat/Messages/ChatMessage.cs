using System.Text;
using Livechat.Changes;
using System.Text.Json.Serialization;

namespace Livechat.Messages;

public sealed record ChatMessage(Guid Id, Guid SessionId, long SenderId, string Message, DateTimeOffset CreatedAt)
{
    /// <summary>The sender's own id for the message, when it sent one (extension: lets a frontend match its optimistic copy).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClientMessageId { get; init; }

    /// <summary>The sender's remembered name when it sent the message (contract section 18); absent when it had none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SenderName { get; init; }

    /// <summary>An internal note (contract section 16): only agents ever read it. Absent on ordinary messages.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Internal { get; init; }

    /// <summary>The files it carries, in the order they were uploaded (contract section 15); absent when none, so a message without files reads as in the seed.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Attachment>? Attachments { get; init; }

    /// <summary>
    /// An erased message (contract section 21): a placeholder with an empty <c>message</c>, kept so that ids, order and
    /// cursors stay valid. Absent on every other message.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Deleted { get; init; }
}

/// <summary>A message was stored: an ordinary one, or an internal note, which only agents hear.</summary>
public sealed record MessageCreated(long TenantId, ChatMessage Message, bool ByAgent) : DomainEvent(TenantId), IPushedEvent, IWebhookEvent
{
    public static string Name => "messageCreated";

    public const string WebhookType = "message.created";

    /// <summary>A note's webhook type: a note is never a <c>message.created</c>, which the tenant side may show.</summary>
    public const string NoteWebhookType = "note.created";

    /// <summary>
    /// The message as webhook payloads carry it, when that differs from <see cref="Message"/>: its attachments'
    /// links valid 24 h, not 15 minutes (contract section 15), since a receiver may act on it later.
    /// </summary>
    public ChatMessage? WebhookMessage { get; init; }

    public WebhookEvent Webhook => new(Message.Internal ? NoteWebhookType : WebhookType, WebhookMessage ?? Message);

    public Push Push => new(Name, Message, Hearers.Session)
    {
        SessionId = Message.SessionId, Actor = Message.SenderId, Message = (Message.Id, Seq), AgentsOnly = Message.Internal,
    };

    /// <summary>
    /// The message's place in its session (it never goes on the wire). The database assigns it: the send's
    /// insert returns it, and the event published is the copy made with it (<see cref="ChangeScope.Happened"/>);
    /// the handlers, which run before the insert's row is read, see 0.
    /// </summary>
    public long Seq { get; init; }

    /// <summary>Whatever a handler writes for the message needs the message row: a send to a session that was not open made none.</summary>
    public override EventCondition HappenedIf => new(HappenedSql, Message.Id);

    /// <summary>The SQL of <see cref="HappenedIf"/>: the message row exists.</summary>
    public const string HappenedSql = "EXISTS (SELECT 1 FROM chat_messages WHERE tenant_id = @tenant AND id = @happened)";
}

/// <summary>
/// <c>client_message_id</c> (optional, 1 to 100 printable characters) makes a resend return the first message instead of a copy.
/// <c>attachment_ids</c> (optional, 1 to 10 of the caller's staged, ready uploads in the session) attaches them; then
/// <c>message</c> may be empty or absent, and the files' names are stored as its text. <c>internal</c>: an agent's note (section 16).
/// </summary>
public sealed record SendMessageRequest(string? Message, string? ClientMessageId, IReadOnlyList<Guid>? AttachmentIds, bool? Internal);

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
