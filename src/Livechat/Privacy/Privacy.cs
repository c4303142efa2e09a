using System.ComponentModel.DataAnnotations;
using Prometheus;

namespace Livechat.Privacy;

/// <summary>The tenant's settings (contract section 21): <c>retention_days</c>, null to keep everything.</summary>
public sealed record TenantSettings(int? RetentionDays);

/// <summary><c>PATCH /livechat/settings</c>: <c>retention_days</c>, null or 1..3650.</summary>
public sealed record UpdateSettingsRequest(int? RetentionDays);

/// <summary><c>POST /livechat/users/{id}/erase</c> answers the job to follow.</summary>
public sealed record ErasureAccepted(Guid JobId);

/// <summary>What an erasure removed so far.</summary>
public sealed record ErasureCounts(int Messages, int Attachments, int Notifications, int ReadMarkers, int Ratings, int Names);

/// <summary><c>GET /livechat/erasures/{job_id}</c>: <c>pending</c> until every batch ran, then <c>done</c>.</summary>
public sealed record ErasureJob(Guid JobId, long UserId, string Status, ErasureCounts Counts, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

/// <summary>One row of the audit log, newest first (<c>GET /livechat/audit</c>); <c>actor_id</c> null for the service's own purges.</summary>
public sealed record AuditEntry(Guid Id, long? ActorId, string Action, string? Target, string? RequestId, DateTimeOffset CreatedAt);

/// <summary>The retention job's clock and pace (<c>Livechat__Retention__*</c>).</summary>
public sealed class RetentionOptions
{
    public const string Section = "Livechat:Retention";

    /// <summary>The length of a retention "day", so a test (or a demo) can run a purge in seconds.</summary>
    [Range(1, 86400)]
    public int SecondsPerDay { get; set; } = 86400;

    /// <summary>How often each instance looks for sessions to purge and erasures left by a stopped instance.</summary>
    [Range(1, 86400)]
    public int IntervalSeconds { get; set; } = 300;

    /// <summary>At most this many messages are deleted (or erased) in one transaction.</summary>
    [Range(1, 10000)]
    public int MessagesPerBatch { get; set; } = 500;

    /// <summary>The pause between two batches, so a purge leaves the database to the desk's writes in between.</summary>
    [Range(0, 60000)]
    public int PauseMilliseconds { get; set; } = 20;
}

/// <summary>What the retention job and erasures delete, for <c>/metrics</c> (no tenant label: cardinality stays bounded).</summary>
public static class PrivacyMetrics
{
    public static readonly Counter Purged = Metrics.CreateCounter(
        "livechat_retention_purged_total", "Rows the retention job deleted, by kind (sessions, messages, attachments).", "kind");

    public static readonly Counter Erased = Metrics.CreateCounter(
        "livechat_erasure_erased_total", "Messages erasures turned into placeholders.");
}
