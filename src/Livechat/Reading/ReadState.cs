namespace Livechat.Reading;

/// <summary>A participant's read marker in a session (contract section 11), for the caller of <c>POST .../read</c>.</summary>
public sealed record ReadState(Guid SessionId, long UserId, Guid? LastReadMessageId, long UnreadCount);

/// <summary>The payload of <c>messagesRead</c>: whose marker moved, to which message, when.</summary>
public sealed record MessagesReadPayload(Guid SessionId, long UserId, Guid LastReadMessageId, DateTimeOffset ReadAt);

/// <summary>The payload of <c>typing</c>. Never stored, never replayed.</summary>
public sealed record TypingPayload(Guid SessionId, long UserId, bool IsTyping);
