using System.ComponentModel.DataAnnotations;

namespace Livechat.Realtime;

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
