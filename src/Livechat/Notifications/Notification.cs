using Livechat.Changes;

namespace Livechat.Notifications;

public static class NotificationTypes
{
    public const string LivechatReply = "LIVECHAT_REPLY";
}

/// <summary>An in-app notification for one tenant user. <c>read_at</c> is null until it is marked read.</summary>
public sealed record Notification(
    Guid Id,
    long TenantId,
    long UserId,
    string Type,
    Guid SessionId,
    Guid MessageId,
    string Preview,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ReadAt);

public sealed record ReadAllResult(int Marked);

public sealed record NotificationCreated(Notification Notification) : DomainEvent(Notification.TenantId), IPushedEvent
{
    public static string Name => "notificationCreated";

    public Push Push => new(Name, Notification, Hearers.User) { UserId = Notification.UserId };
}
