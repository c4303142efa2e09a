using System.Text.Json.Serialization;

namespace Livechat.Api;

/// <summary>The only body shape of the API (contract section 2): success or failure, ours or the framework's.</summary>
public sealed record ApiResponse<T>(
    bool Success,
    string Message,
    T? Data,
    Meta Meta,
    IReadOnlyDictionary<string, string[]>? Errors);

public sealed record Meta(string RequestId, DateTimeOffset Timestamp)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Pagination? Pagination { get; init; }

    /// <summary>Set when a failed session start opened (or reused) a support ticket.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Guid? TicketId { get; init; }

    /// <summary>Set when a session start is refused because the agent already has an open session.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Guid? SessionId { get; init; }
}

public sealed record Pagination(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NextCursor,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PrevCursor,
    bool HasNext,
    bool HasPrev,
    int Limit);

/// <summary>A page of items with the cursors that lead away from it.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, Pagination Pagination);
