using System.ComponentModel.DataAnnotations;
using Livechat.Agents;
using Livechat.Messages;
using Livechat.Notifications;
using Livechat.Sessions;

namespace Livechat.Realtime;

/// <summary>Hub method and event names (contract section 6).</summary>
public static class HubEvents
{
    public const string MessageCreated = "messageCreated";
    public const string SessionUpdated = "sessionUpdated";
    public const string SessionAssigned = "sessionAssigned";
    public const string NotificationCreated = "notificationCreated";
    public const string PresenceUpdated = "presenceUpdated";
    public const string MessagesRead = "messagesRead";
    public const string Typing = "typing";
}

public sealed class RealtimeOptions
{
    public const string Section = "Livechat:Realtime";

    /// <summary>Seconds between keep-alive comments on an idle SSE stream (proxies close silent ones).</summary>
    [Range(1, 300)]
    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>Sessions one hub connection may join at once.</summary>
    [Range(1, 10_000)]
    public int MaxSessionsPerConnection { get; set; } = 100;

    /// <summary>Seconds between checks that the tenants of open hub connections are still active.</summary>
    [Range(1, 3600)]
    public int TenantCheckSeconds { get; set; } = 15;

    /// <summary>
    /// Minutes a per-user stream can resume over (<c>Last-Event-ID</c>, contract section 12: at least 10), and the
    /// most events the log keeps for that (with Redis in Redis, without it in memory); whichever is reached first.
    /// </summary>
    [Range(10, 24 * 60)]
    public int ReplayMinutes { get; set; } = 15;

    [Range(1_000, 10_000_000)]
    public int ReplayMaxEvents { get; set; } = 100_000;
}
