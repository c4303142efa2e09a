using System.Text.Json.Serialization;
using Livechat.Api;
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
    [property: WireValues(SessionStatus.Open, SessionStatus.Closed)] string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>1-based place in the tenant's queue; present only while the session waits for an agent (extension).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? QueuePosition { get; init; }

    /// <summary>Messages of other users after the caller's read marker (GET of one session and of the list only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? UnreadCount { get; init; }

    /// <summary>The session's newest message (GET only); absent when it has none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Messages.ChatMessage? LastMessage { get; init; }

    /// <summary>The customer's satisfaction rating (contract section 20); absent until it rated the closed session.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Rating? Rating { get; init; }

    /// <summary>The tenant user who started the session (contract section 18); absent when an agent started it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? CustomerId { get; init; }

    /// <summary>The customer's remembered name (its token's <c>name</c> claim); absent when none is known.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CustomerName { get; init; }

    /// <summary>The agent's remembered name; absent without an agent or a known name.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AgentName { get; init; }

    /// <summary>The session's labels, sorted (contract section 18); absent when it has none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Labels { get; init; }
}

/// <summary>A customer's rating of a closed session (contract section 20): 1..5 and an optional comment.</summary>
public sealed record Rating(
    Guid SessionId,
    int Score,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Comment,
    DateTimeOffset CreatedAt);

public static class RatingRules
{
    public const int MaxCommentLength = 1000;
}

public sealed record StartSessionRequest(long? AgentId);

/// <summary><c>POST /livechat/sessions/{id}/transfer</c>: an agent, or null to hand the session back to the queue.</summary>
public sealed record TransferSessionRequest(long? AgentId);

public sealed record UpdateSessionRequest(string Status);

/// <summary><c>POST /livechat/sessions/{id}/rating</c>: 1..5, and an optional comment.</summary>
public sealed record RateSessionRequest(int Score, string? Comment);

/// <summary>A session was opened.</summary>
public sealed record SessionStarted(ChatSession Session) : DomainEvent(Session.TenantId), IPushedEvent, IWebhookEvent
{
    public static string Name => "sessionUpdated";

    public const string WebhookType = "session.created";

    public WebhookEvent Webhook => new(WebhookType, Session);

    public Push Push => new(Name, Session, Hearers.SessionState) { SessionId = Session.Id };
}

/// <summary>A session's status, agent or labels changed.</summary>
public sealed record SessionUpdated(ChatSession Session) : DomainEvent(Session.TenantId), IPushedEvent, IWebhookEvent
{
    public static string Name => "sessionUpdated";

    /// <summary>Status, agent, queue position or labels changed (closed, assigned, queued, transferred, requeued, labelled).</summary>
    public const string WebhookType = "session.updated";

    public WebhookEvent Webhook => new(WebhookType, Session);

    public Push Push => new(Name, Session, Hearers.SessionState) { SessionId = Session.Id };
}

/// <summary>An agent just received a session (a start, the queue, a transfer): it goes to that agent's connections.</summary>
public sealed record SessionAssigned(ChatSession Session) : DomainEvent(Session.TenantId), IPushedEvent
{
    public static string Name => "sessionAssigned";

    /// <summary>The agent who assigned it (its own start, a transfer, a claim); null when routing did (a start, the queue).</summary>
    public long? By { get; init; }

    public Push Push => new(Name, Session, Hearers.User) { SessionId = Session.Id, UserId = Session.AgentId };
}

/// <summary>A session's customer rated it: to the tenant's agents and the session's tenant users, and the webhook <c>session.rated</c>.</summary>
public sealed record SessionRated(long TenantId, Rating Rating) : DomainEvent(TenantId), IPushedEvent, IWebhookEvent
{
    public static string Name => "sessionRated";

    public const string WebhookType = "session.rated";

    public WebhookEvent Webhook => new(WebhookType, Rating);

    public Push Push => new(Name, Rating, Hearers.SessionState) { SessionId = Rating.SessionId };
}

/// <summary>
/// A start was refused because the agent asked for (or, for a routed start, every agent: <paramref name="AgentId"/>
/// null) is not available: a support ticket must stand for the request (the Tickets feature opens or reuses it,
/// in the same transaction, and answers with an event that is a <see cref="ITicketForRefusedChat"/>).
/// </summary>
public sealed record ChatRefused(long TenantId, long RequesterId, long? AgentId, string Presence) : DomainEvent(TenantId);

/// <summary>The event that answers a <see cref="ChatRefused"/>: it names the ticket that stands for the refused start.</summary>
public interface ITicketForRefusedChat
{
    Guid TicketId { get; }
}

/// <summary>The front of the tenant's queue moved (a chat left it, or one was put at its head): positions changed.</summary>
public sealed record QueueChanged(long TenantId) : DomainEvent(TenantId), ICoalescingEvent;
