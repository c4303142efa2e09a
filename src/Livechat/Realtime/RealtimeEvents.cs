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

/// <summary>
/// SignalR groups. Every name starts with the tenant, so a group can only ever hold connections that were
/// admitted to that tenant at connect time.
/// </summary>
public static class HubGroups
{
    public static string Session(long tenantId, Guid sessionId) => $"t{tenantId}:session:{sessionId}";
    /// <summary>Tenant users that joined a session: they get its <c>sessionUpdated</c> (agents get all of them through <see cref="Agents"/>; the groups never overlap, so nobody gets one twice).</summary>
    public static string SessionUsers(long tenantId, Guid sessionId) => $"t{tenantId}:session-users:{sessionId}";
    public static string Agents(long tenantId) => $"t{tenantId}:agents";
    public static string User(long tenantId, long userId) => $"t{tenantId}:user:{userId}";
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
}
