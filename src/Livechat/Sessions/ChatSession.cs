using System.Text.Json.Serialization;

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
