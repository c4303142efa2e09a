using Livechat.Messages;
using Livechat.Api;
using System.Data.Common;
using Livechat.Auth;
using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Attachments;

/// <summary>Whether a caller may upload to a session (contract section 15): a participant of an OPEN session.</summary>
public enum SessionAccess
{
    Allowed,
    NotFound,
    Closed,
    NotParticipant,
}

public abstract record RecordOutcome
{
    public sealed record Recorded(Attachment Attachment) : RecordOutcome;
    public sealed record Refused(SessionAccess Access) : RecordOutcome;
    public sealed record OverQuota : RecordOutcome;
}

public abstract record DeleteOutcome
{
    public sealed record Deleted : DeleteOutcome;
    public sealed record NotFound : DeleteOutcome;
    public sealed record Sent : DeleteOutcome;
}

/// <summary>An attachment's row: the wire shape, and what only the service needs (its tenant, the message that took it).</summary>
public sealed record AttachmentRow(long TenantId, Attachment Attachment, Guid? MessageId)
{
    public bool Staged => MessageId is null;
}

/// <summary>
/// The <c>attachments</c> table and each tenant's <c>attachment_usage</c> (its quota). Bytes are the
/// <see cref="IAttachmentBytes"/>'s business; every change here that frees bytes frees their quota in the same
/// transaction. A message send takes staged uploads in its own transaction (Messages/MessageStore.cs).
/// </summary>
public sealed class AttachmentStore(Database database, WritePath writes)
{
    internal const string Columns = $"tenant_id, {MessageAttachments.Columns}, message_id";

    private const string AccessSql = """
        SELECT s.status,
               CASE WHEN @agent = 1 OR s.created_by = @user
                      OR EXISTS (SELECT 1 FROM session_participants p WHERE p.tenant_id = s.tenant_id AND p.session_id = s.id AND p.user_id = @user)
                    THEN 1 ELSE 0 END
        FROM chat_sessions s WHERE s.tenant_id = @tenant AND s.id = @session
        """;

    /// <summary>May the caller upload to the session: any agent of the tenant, or the tenant user who takes part; the session OPEN.</summary>
    public Task<SessionAccess> AccessAsync(CurrentUser caller, Guid sessionId, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => AccessAsync(connection, null, caller, sessionId, cancellationToken), cancellationToken);

    private static async Task<SessionAccess> AccessAsync(DbConnection connection, DbTransaction? transaction, CurrentUser caller, Guid sessionId,
        CancellationToken cancellationToken)
    {
        await using var command = connection.Sql(AccessSql, transaction)
            .With("tenant", caller.TenantId).With("session", sessionId).With("user", caller.UserId).With("agent", caller.IsAgent ? 1 : 0);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return SessionAccess.NotFound;
        if (reader.GetInt64(1) == 0) return SessionAccess.NotParticipant;
        return reader.GetString(0) == "OPEN" ? SessionAccess.Allowed : SessionAccess.Closed;
    }

    /// <summary>
    /// Records an upload whose bytes are stored, if the session still takes it and the tenant's quota has room.
    /// The quota is one row per tenant raised by a conditional UPDATE: concurrent uploads queue on its row lock,
    /// and each sees the total the one before it committed, so together they can never pass the quota.
    /// </summary>
    public Task<RecordOutcome> RecordAsync(CurrentUser caller, Attachment attachment, long quotaBytes, CancellationToken cancellationToken) =>
        writes.RunAsync<RecordOutcome>(async scope =>
        {
            var access = await AccessAsync(scope.Connection, scope.Transaction, caller, attachment.SessionId, cancellationToken);
            if (access != SessionAccess.Allowed) return Change.Of<RecordOutcome>(new RecordOutcome.Refused(access));
            await using (var usage = scope.Sql("INSERT INTO attachment_usage (tenant_id, bytes) VALUES (@tenant, 0) ON CONFLICT DO NOTHING")
                .With("tenant", caller.TenantId))
                await usage.ExecuteNonQueryAsync(cancellationToken);
            await using (var reserve = scope.Sql("""
                UPDATE attachment_usage SET bytes = bytes + @size WHERE tenant_id = @tenant AND bytes + @size <= @quota
                """).With("tenant", caller.TenantId).With("size", attachment.Size).With("quota", quotaBytes))
            {
                if (await reserve.ExecuteNonQueryAsync(cancellationToken) == 0) return Change.Of<RecordOutcome>(new RecordOutcome.OverQuota());
            }
            await using var insert = scope.Sql($"""
                INSERT INTO attachments ({Columns}) VALUES (@tenant, @id, @session, @uploader, @name, @type, @size, @sha, @status, @now, NULL)
                """)
                .With("tenant", caller.TenantId).With("id", attachment.Id).With("session", attachment.SessionId).With("uploader", attachment.UploaderId)
                .With("name", attachment.FileName).With("type", attachment.ContentType).With("size", attachment.Size).With("sha", attachment.Sha256)
                .With("status", attachment.Status).With("now", attachment.CreatedAt);
            await insert.ExecuteNonQueryAsync(cancellationToken);
            return Change.Of<RecordOutcome>(new RecordOutcome.Recorded(attachment));
        }, cancellationToken);

    public Task<AttachmentRow?> FindAsync(long tenantId, Guid id, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {Columns} FROM attachments WHERE tenant_id = @tenant AND id = @id")
                .With("tenant", tenantId).With("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }, cancellationToken);

    /// <summary>By id alone, for a signed download link (which names no tenant: its signature binds one).</summary>
    public Task<AttachmentRow?> FindAnywhereAsync(Guid id, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {Columns} FROM attachments WHERE id = @id").With("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }, cancellationToken);

    /// <summary>Gives a claimed upload back until <paramref name="until"/> (clamd did not answer: try again then).</summary>
    public Task ReleaseScanAsync(AttachmentRow row, DateTimeOffset until, CancellationToken cancellationToken) =>
        database.WriteApartAsync(async (connection, transaction) =>
        {
            await using var release = connection.Sql("UPDATE attachments SET scan_lease_until = @until WHERE tenant_id = @tenant AND id = @id", transaction)
                .With("until", until).With("tenant", row.TenantId).With("id", row.Attachment.Id);
            return await release.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// The attachment as the caller may see it, or null: its uploader while it is staged; once a message carries
    /// it, the session's participants (any agent of the tenant, the tenant users who take part).
    /// </summary>
    public async Task<AttachmentRow?> FindForAsync(CurrentUser caller, Guid id, CancellationToken cancellationToken)
    {
        var row = await FindAsync(caller.TenantId, id, cancellationToken);
        if (row is null) return null;
        if (row.Attachment.UploaderId == caller.UserId) return row;
        if (row.Staged) return null;
        var access = await AccessAsync(caller, row.Attachment.SessionId, cancellationToken);
        return access is SessionAccess.Allowed or SessionAccess.Closed ? row : null;
    }

    /// <summary>The bytes a tenant's attachments hold now (what its quota counts).</summary>
    public Task<long> UsageAsync(long tenantId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT bytes FROM attachment_usage WHERE tenant_id = @tenant").With("tenant", tenantId);
            return await command.ExecuteScalarAsync(cancellationToken) is { } bytes ? Convert.ToInt64(bytes, System.Globalization.CultureInfo.InvariantCulture) : 0L;
        }, cancellationToken);

    /// <summary>Deletes the caller's staged upload and frees its quota (its bytes are the caller's to delete after).</summary>
    public Task<DeleteOutcome> DeleteStagedAsync(CurrentUser caller, Guid id, CancellationToken cancellationToken) =>
        writes.RunAsync<DeleteOutcome>(async scope =>
        {
            await using (var find = scope.Sql("SELECT message_id IS NULL FROM attachments WHERE tenant_id = @tenant AND id = @id AND uploader_id = @user")
                .With("tenant", caller.TenantId).With("id", id).With("user", caller.UserId))
            {
                var staged = await find.ExecuteScalarAsync(cancellationToken);
                if (staged is null) return Change.Of<DeleteOutcome>(new DeleteOutcome.NotFound());
                if (!Convert.ToBoolean(staged, System.Globalization.CultureInfo.InvariantCulture)) return Change.Of<DeleteOutcome>(new DeleteOutcome.Sent());
            }
            await DeleteRowAsync(scope, caller.TenantId, id, cancellationToken);
            return Change.Of<DeleteOutcome>(new DeleteOutcome.Deleted());
        }, cancellationToken);

    /// <summary>Deletes a row and frees its bytes from the quota (a rejected upload's were freed when it was rejected).</summary>
    internal static async Task DeleteRowAsync(ChangeScope scope, long tenantId, Guid id, CancellationToken cancellationToken)
    {
        await using (var free = scope.Sql("""
            UPDATE attachment_usage SET bytes = bytes - (SELECT size FROM attachments WHERE tenant_id = @tenant AND id = @id AND status <> 'rejected')
            WHERE tenant_id = @tenant AND EXISTS (SELECT 1 FROM attachments WHERE tenant_id = @tenant AND id = @id AND status <> 'rejected')
            """).With("tenant", tenantId).With("id", id))
            await free.ExecuteNonQueryAsync(cancellationToken);
        await using var delete = scope.Sql("DELETE FROM attachments WHERE tenant_id = @tenant AND id = @id").With("tenant", tenantId).With("id", id);
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes staged uploads created before <paramref name="cutoff"/>, at most <paramref name="limit"/>, freeing
    /// their quota; returns them, so their bytes can be deleted after the commit.
    /// </summary>
    public Task<IReadOnlyList<(long TenantId, Guid Id)>> DeleteStagedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken) =>
        writes.RunAsync<IReadOnlyList<(long TenantId, Guid Id)>>(async scope =>
        {
            var expired = new List<(long, Guid)>();
            await using (var find = scope.Sql("""
                SELECT tenant_id, id FROM attachments WHERE message_id IS NULL AND created_at < @cutoff ORDER BY created_at LIMIT @limit
                """).With("cutoff", cutoff).With("limit", limit))
            await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) expired.Add((reader.GetInt64(0), reader.GetId(1)));
            }
            foreach (var (tenant, id) in expired) await DeleteRowAsync(scope, tenant, id, cancellationToken);
            return Change.Of<IReadOnlyList<(long, Guid)>>(expired);
        }, cancellationToken);

    /// <summary>
    /// Claims the oldest scanning upload nobody holds a lease on, until <paramref name="leaseUntil"/>: a conditional
    /// UPDATE, so of two instances that pick the same one, one gets it.
    /// </summary>
    public Task<AttachmentRow?> ClaimScanAsync(DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        database.WriteApartAsync(async (connection, transaction) =>
        {
            await using var claim = connection.Sql($"""
                UPDATE attachments SET scan_lease_until = @until
                WHERE (tenant_id, id) = (SELECT tenant_id, id FROM attachments
                                         WHERE status = 'scanning' AND (scan_lease_until IS NULL OR scan_lease_until < @now)
                                         ORDER BY created_at, id LIMIT 1)
                  AND status = 'scanning' AND (scan_lease_until IS NULL OR scan_lease_until < @now)
                RETURNING {Columns}
                """, transaction).With("now", now).With("until", leaseUntil);
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }, cancellationToken);

    /// <summary>
    /// The scan's verdict: <c>ready</c>, or <c>rejected</c> with its quota freed. Raises
    /// <see cref="AttachmentUpdated"/> (with <paramref name="withUrl"/>'s link when ready) for the uploader.
    /// </summary>
    public Task<Attachment?> FinishScanAsync(AttachmentRow row, bool clean, Func<AttachmentRow, Attachment> withUrl, CancellationToken cancellationToken) =>
        writes.RunAsync<Attachment?>(async scope =>
        {
            var status = clean ? AttachmentStatus.Ready : AttachmentStatus.Rejected;
            await using (var update = scope.Sql("""
                UPDATE attachments SET status = @status, scan_lease_until = NULL WHERE tenant_id = @tenant AND id = @id AND status = 'scanning'
                """).With("status", status).With("tenant", row.TenantId).With("id", row.Attachment.Id))
            {
                if (await update.ExecuteNonQueryAsync(cancellationToken) == 0) return Change.Of<Attachment?>(null); // deleted meanwhile
            }
            if (!clean)
            {
                await using var free = scope.Sql("UPDATE attachment_usage SET bytes = bytes - @size WHERE tenant_id = @tenant")
                    .With("size", row.Attachment.Size).With("tenant", row.TenantId);
                await free.ExecuteNonQueryAsync(cancellationToken);
            }
            var updated = withUrl(row with { Attachment = row.Attachment with { Status = status } });
            return Change.Of<Attachment?>(updated, new AttachmentUpdated(row.TenantId, updated));
        }, cancellationToken);

    private static AttachmentRow Read(DbDataReader reader) =>
        new(reader.GetInt64(0), MessageAttachments.Read(reader, 1), reader.IsDBNull(10) ? null : reader.GetId(10));
}
