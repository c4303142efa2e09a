using System.Text.Json.Serialization;
using Livechat.Changes;

namespace Livechat.Sessions;

public static class SessionStatus
{
    public const string Open = "OPEN";
    public const string Closed = "CLOSED";
}

public sealed record ChatSession(
    Guid Id,
    long TenantId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? AgentId,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>Messages of other users after the caller's read marker (GET of one session and of the list only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? UnreadCount { get; init; }

    /// <summary>The session's newest message (GET only); absent when it has none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Messages.ChatMessage? LastMessage { get; init; }
}

public sealed record StartSessionRequest(long? AgentId);

public sealed record UpdateSessionRequest(string Status);

/// <summary>A session was opened.</summary>
public sealed record SessionStarted(ChatSession Session) : DomainEvent(Session.TenantId);

/// <summary>A session's status or agent changed.</summary>
public sealed record SessionUpdated(ChatSession Session) : DomainEvent(Session.TenantId);

/// <summary>
/// A start was refused because the agent asked for is not available: a support ticket must stand for the
/// request (the Tickets feature opens or reuses it, in the same transaction, and answers with <c>TicketOpened</c>).
/// </summary>
public sealed record ChatRefused(long TenantId, long RequesterId, long AgentId, string Presence) : DomainEvent(TenantId);
