using System.Data.Common;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Data;
using Livechat.Messages;

namespace Livechat.Notifications;

public sealed class NotificationStore(Database database, TimeProvider time)
{
    private const string Columns = "id, tenant_id, user_id, type, session_id, message_id, preview, created_at, read_at";

    /// <summary>
    /// Notifies the tenant side of an agent's reply, inside the message's transaction. Recipients: the tenant
    /// users who take part in the session (started it or wrote in it); while none has, every known user of
    /// the tenant, so the first reply to a session an agent opened still reaches someone.
    /// </summary>
    public async Task<IReadOnlyList<Notification>> CreateForReplyAsync(DbConnection connection, DbTransaction transaction, long tenantId, ChatMessage message, CancellationToken cancellationToken)
    {
        var recipients = new List<long>();
        await using (var participants = connection.Sql("""
            SELECT user_id FROM session_participants WHERE tenant_id = @tenant AND session_id = @session
            """, transaction).With("tenant", tenantId).With("session", message.SessionId))
        await using (var reader = await participants.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) recipients.Add(reader.GetInt64(0));
        }
        if (recipients.Count == 0)
        {
            await using var everyone = connection.Sql("SELECT user_id FROM tenant_users WHERE tenant_id = @tenant", transaction).With("tenant", tenantId);
            await using var reader = await everyone.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) recipients.Add(reader.GetInt64(0));
        }

        var preview = MessageRules.Preview(message.Message);
        var created = new List<Notification>(recipients.Count);
        foreach (var userId in recipients)
        {
            var notification = new Notification(Guid.CreateVersion7(message.CreatedAt), tenantId, userId, NotificationTypes.LivechatReply,
                message.SessionId, message.Id, preview, message.CreatedAt, null);
            await using var insert = connection.Sql($"""
                INSERT INTO notifications ({Columns}) VALUES (@id, @tenant, @user, @type, @session, @message, @preview, @now, NULL)
                """, transaction)
                .With("id", notification.Id).With("tenant", tenantId).With("user", userId).With("type", notification.Type)
                .With("session", notification.SessionId).With("message", notification.MessageId).With("preview", preview)
                .With("now", notification.CreatedAt);
            await insert.ExecuteNonQueryAsync(cancellationToken);
            created.Add(notification);
        }
        return created;
    }

    /// <summary>The caller's notifications, newest first; null when the cursor is not one of them.</summary>
    public Task<Page<Notification>?> ListAsync(CurrentUser user, bool unreadOnly, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => NewestFirst.PageAsync(connection, "notifications", Columns, "tenant_id = @tenant AND user_id = @user",
            unreadOnly ? "AND read_at IS NULL" : "", command => command.With("tenant", user.TenantId).With("user", user.UserId),
            page, Read, n => n.Id, cancellationToken), cancellationToken);

    /// <summary>Marks one notification read (again is fine: the first read time stays). Null when it is not the caller's.</summary>
    public Task<Notification?> MarkReadAsync(CurrentUser user, Guid id, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Sql($"""
                UPDATE notifications SET read_at = COALESCE(read_at, @now)
                WHERE tenant_id = @tenant AND user_id = @user AND id = @id
                RETURNING {Columns}
                """, transaction).With("now", time.Now()).With("tenant", user.TenantId).With("user", user.UserId).With("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }, cancellationToken);

    public Task<int> MarkAllReadAsync(CurrentUser user, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Sql("""
                UPDATE notifications SET read_at = @now WHERE tenant_id = @tenant AND user_id = @user AND read_at IS NULL
                """, transaction).With("now", time.Now()).With("tenant", user.TenantId).With("user", user.UserId);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    private static Notification Read(DbDataReader reader) =>
        new(reader.GetId(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetId(4), reader.GetId(5),
            reader.GetString(6), reader.GetTime(7), reader.GetTimeOrNull(8));
}
