namespace Livechat.Changes;

/// <summary>Who made an administrative change, and in which request (contract section 21).</summary>
/// <param name="UserId">The caller; null for the service itself (a retention purge).</param>
/// <param name="RequestId">The request's <c>meta.request_id</c>; null for the service itself.</param>
public sealed record AuditActor(long? UserId, string? RequestId)
{
    /// <summary>The service's own jobs (retention).</summary>
    public static readonly AuditActor Service = new(null, null);
}

/// <summary>
/// An administrative action on the tenant's configuration or data (a webhook, a setting, an erasure, a canned
/// response, a purge). The change that does it raises this, and the audit log's handler writes its row in the same
/// transaction, so the log holds an action if and only if the action committed.
/// </summary>
public sealed record Audited(long TenantId, AuditActor Actor, string Action, string? Target) : DomainEvent(TenantId);
