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
    DateTimeOffset UpdatedAt);

public sealed record StartSessionRequest(long? AgentId);

public sealed record UpdateSessionRequest(string Status);
