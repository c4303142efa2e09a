using Livechat.Changes;

namespace Livechat.Reading;

/// <summary>A participant's read marker in a session (contract section 11), for the caller of <c>POST .../read</c>.</summary>
public sealed record ReadState(Guid SessionId, long UserId, Guid? LastReadMessageId, long UnreadCount);

/// <summary>The payload of <c>messagesRead</c>: whose marker moved, to which message, when.</summary>
public sealed record MessagesReadPayload(Guid SessionId, long UserId, Guid LastReadMessageId, DateTimeOffset ReadAt);


/// <summary>A read marker moved forward (<c>POST .../read</c>); pushed as <c>messagesRead</c>.</summary>
/// <remarks>A mark on an internal note (<c>OnNote</c>) is heard by agents only: it names the note.</remarks>
public sealed record MessagesRead(long TenantId, MessagesReadPayload Read, bool OnNote = false) : DomainEvent(TenantId), IPushedEvent, IWebhookEvent
{
    public static string Name => "messagesRead";

    /// <summary>A read marker moved forward; data is the <c>messagesRead</c> payload.</summary>
    public const string WebhookType = "messages.read";

    public WebhookEvent Webhook => new(WebhookType, Read);

    public Push Push => new(Name, Read, Hearers.Session) { SessionId = Read.SessionId, Actor = Read.UserId, AgentsOnly = OnNote };
}
