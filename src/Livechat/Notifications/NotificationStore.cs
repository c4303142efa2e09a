using System.Data.Common;
using Livechat.Api;
using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Notifications;

public sealed class NotificationStore(Database database, WritePath writes)
{
    internal const string Columns = "id, tenant_id, user_id, type, session_id, message_id, preview, created_at, read_at";

    /// <summary>The caller's notifications, newest first; null when the cursor is not one of them.</summary>
    public Task<Page<Notification>?> ListAsync(CurrentUser user, bool unreadOnly, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => NewestFirst.PageAsync(connection, "notifications", Columns, "tenant_id = @tenant AND user_id = @user",
            unreadOnly ? "AND read_at IS NULL" : "", command => command.With("tenant", user.TenantId).With("user", user.UserId),
            page, Read, n => n.Id, cancellationToken), cancellationToken);

    /// <summary>Marks one notification read (again is fine: the first read time stays). Null when it is not the caller's.</summary>
    public Task<Written<Notification?>> MarkReadAsync(CurrentUser user, Guid id, IdempotencyClaim? claim, CancellationToken cancellationToken) =>
        writes.RunAsync(async scope =>
        {
            await using var command = scope.Sql($"""
                UPDATE notifications SET read_at = COALESCE(read_at, @now)
                WHERE tenant_id = @tenant AND user_id = @user AND id = @id
                RETURNING {Columns}
                """).With("now", scope.Now).With("tenant", user.TenantId).With("user", user.UserId).With("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return Change.Of(await reader.ReadAsync(cancellationToken) ? Read(reader) : null);
        }, claim, cancellationToken);

    public Task<Written<ReadAllResult>> MarkAllReadAsync(CurrentUser user, IdempotencyClaim? claim, CancellationToken cancellationToken) =>
        writes.RunAsync(async scope =>
        {
            await using var command = scope.Sql("""
                UPDATE notifications SET read_at = @now WHERE tenant_id = @tenant AND user_id = @user AND read_at IS NULL
                """).With("now", scope.Now).With("tenant", user.TenantId).With("user", user.UserId);
            return Change.Of(new ReadAllResult(await command.ExecuteNonQueryAsync(cancellationToken)));
        }, claim, cancellationToken);

    private static Notification Read(DbDataReader reader) =>
        new(reader.GetId(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetId(4), reader.IsDBNull(5) ? null : reader.GetId(5),
            reader.GetString(6), reader.GetTime(7), reader.GetTimeOrNull(8));
}
