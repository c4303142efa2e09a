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
    DateTimeOffset UpdatedAt);

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
