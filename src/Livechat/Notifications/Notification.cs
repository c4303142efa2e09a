using Livechat.Changes;

namespace Livechat.Notifications;

public static class NotificationTypes
{
    /// <summary>To the tenant side: an agent replied.</summary>
    public const string LivechatReply = "LIVECHAT_REPLY";

    /// <summary>To a session's agent: its customer wrote (contract section 18).</summary>
    public const string LivechatMessage = "LIVECHAT_MESSAGE";

    /// <summary>To an agent: a session was assigned to it by routing or by a colleague; no <c>message_id</c>.</summary>
    public const string LivechatAssigned = "LIVECHAT_ASSIGNED";
}

/// <summary>
/// An in-app notification for one user: a tenant user (an agent's reply) or an agent (its customer's message, a
/// session assigned to it). <c>read_at</c> is null until it is marked read; <c>message_id</c> is absent only on an
/// assignment, which names no message.
/// </summary>
public sealed record Notification(
    Guid Id,
    long TenantId,
    long UserId,
    string Type,
    Guid SessionId,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] Guid? MessageId,
    string Preview,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ReadAt);

public sealed record ReadAllResult(int Marked);

public sealed record NotificationCreated(Notification Notification) : DomainEvent(Notification.TenantId), IPushedEvent
{
    public static string Name => "notificationCreated";

    public Push Push => new(Name, Notification, Hearers.User) { UserId = Notification.UserId };
}
