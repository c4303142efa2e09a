using Livechat.Api;
using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Privacy;

/// <summary>
/// The audit log's door to the write path: an <see cref="Audited"/> event becomes its row in the transaction of the
/// change that raised it (a deferred statement, so it travels with the change's others). Nothing updates or deletes
/// a row: the API only reads them.
/// </summary>
public sealed class RecordAudit : IChangeHandler
{
    public Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        if (domainEvent is not Audited audited) return Task.CompletedTask;
        scope.Defer("""
            INSERT INTO audit_log (tenant_id, id, actor_id, action, target, request_id, created_at)
            VALUES (@tenant, @id, @actor, @action, @target, @request, @now)
            """).With("tenant", audited.TenantId).With("id", Guid.CreateVersion7(scope.Now)).With("actor", audited.Actor.UserId)
            .With("action", audited.Action).With("target", audited.Target).With("request", audited.Actor.RequestId).With("now", scope.Now);
        return Task.CompletedTask;
    }
}

/// <summary>Reads the audit log, newest first.</summary>
public sealed class AuditStore(Database database)
{
    private const string Columns = "id, actor_id, action, target, request_id, created_at";

    public Task<Page<AuditEntry>?> ListAsync(long tenantId, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => NewestFirst.PageAsync(connection, "audit_log", Columns, "tenant_id = @tenant", "",
            command => command.With("tenant", tenantId), page,
            reader => new AuditEntry(reader.GetId(0), reader.GetInt64OrNull(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetTime(5)),
            entry => entry.Id, cancellationToken), cancellationToken);
}

/// <summary>The tenant's settings: a row once one was set.</summary>
public sealed class SettingsStore(Database database, WritePath writes)
{
    public Task<TenantSettings> GetAsync(long tenantId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT retention_days FROM tenant_settings WHERE tenant_id = @tenant").With("tenant", tenantId);
            var days = await command.ExecuteScalarAsync(cancellationToken);
            return new TenantSettings(days is null or DBNull ? null : Convert.ToInt32(days, System.Globalization.CultureInfo.InvariantCulture));
        }, cancellationToken);

    /// <summary>Sets <c>retention_days</c>, and records who did, in one transaction.</summary>
    public Task<TenantSettings> SetRetentionAsync(long tenantId, int? days, AuditActor actor, CancellationToken cancellationToken) =>
        writes.RunAsync(async scope =>
        {
            await using var upsert = scope.Sql("""
                INSERT INTO tenant_settings (tenant_id, retention_days, updated_at) VALUES (@tenant, @days, @now)
                ON CONFLICT (tenant_id) DO UPDATE SET retention_days = excluded.retention_days, updated_at = excluded.updated_at
                """).With("tenant", tenantId).With("days", days).With("now", scope.Now);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
            var shown = days?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null";
            return Change.Of(new TenantSettings(days), new Audited(tenantId, actor, "settings.updated", $"retention_days={shown}"));
        }, cancellationToken);
}
