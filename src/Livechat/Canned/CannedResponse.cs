using System.Text.Json.Serialization;

namespace Livechat.Canned;

/// <summary>An agent's saved answer (contract section 17), shared by the tenant's agents and picked by its <c>shortcut</c>.</summary>
public sealed record CannedResponse(
    Guid Id,
    string Shortcut,
    string Title,
    string Body,
    long CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The body with a session's values filled in (<c>GET .../{id}?session_id=</c> only); absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Rendered { get; init; }
}

/// <summary><c>POST /livechat/canned-responses</c>; <c>PATCH</c> takes any of the three.</summary>
public sealed record CannedResponseRequest(string Shortcut, string Title, string Body);
