using Prometheus;

namespace Livechat.Api;

/// <summary>
/// Prometheus metrics at <c>/metrics</c>. HTTP rate and latency by route come from prometheus-net's HTTP
/// middleware (<c>http_requests_received_total</c>, <c>http_request_duration_seconds</c>, labelled by
/// endpoint); these are Livechat's own. No label carries a tenant or user id: cardinality stays bounded.
/// </summary>
public static class LivechatMetrics
{
    public static readonly Counter MessagesSent = Metrics.CreateCounter(
        "livechat_messages_sent_total", "Messages stored, by the sender's side.", "sender");

    public static readonly Gauge HubConnections = Metrics.CreateGauge(
        "livechat_hub_connections", "Open hub connections on this instance.");

    public static readonly Gauge SseStreams = Metrics.CreateGauge(
        "livechat_sse_streams", "Open Server-Sent Events streams on this instance.");

    public static readonly Counter RateLimitRejections = Metrics.CreateCounter(
        "livechat_rate_limit_rejections_total", "Requests refused by a rate limit.", "surface");

    public static readonly Counter DatabaseErrors = Metrics.CreateCounter(
        "livechat_database_errors_total", "Requests that failed because the database failed.");

    public static readonly Counter PushesDropped = Metrics.CreateCounter(
        "livechat_realtime_pushes_dropped_total", "Realtime pushes dropped because the queue was full.");
}
