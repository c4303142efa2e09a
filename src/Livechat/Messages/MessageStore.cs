using System.Data.Common;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Data;
using Livechat.Notifications;
using Livechat.Sessions;

namespace Livechat.Messages;

public abstract record SendOutcome
{
    public sealed record Sent(ChatMessage Message, IReadOnlyList<Notification> Notifications) : SendOutcome;
    public sealed record SessionNotFound : SendOutcome;
    public sealed record SessionClosed : SendOutcome;
}

public abstract record PageOutcome
{
    public sealed record Found(Page<ChatMessage> Page) : PageOutcome;
    public sealed record SessionNotFound : PageOutcome;
    public sealed record UnknownCursor : PageOutcome;
}

public sealed class MessageStore(Database database, NotificationStore notifications, TimeProvider time)
{
    private const string Columns = "id, session_id, sender_id, message, created_at";

    /// <summary>
    /// Stores a message, and for an agent's message the tenant side's notifications, in one transaction.
    /// The session row is the lock: bumping <c>last_seq</c> (only while OPEN) both assigns the message's
    /// order key and makes concurrent senders to one session queue, so seq order is commit order.
    /// </summary>
    public Task<SendOutcome> SendAsync(CurrentUser sender, Guid sessionId, string text, CancellationToken cancellationToken) =>
        database.WriteAsync<SendOutcome>(async (connection, transaction) =>
        {
            long seq;
            await using (var bump = connection.Sql("""
                UPDATE chat_sessions SET last_seq = last_seq + 1
                WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN'
                RETURNING last_seq
                """, transaction).With("tenant", sender.TenantId).With("session", sessionId))
            {
                var bumped = await bump.ExecuteScalarAsync(cancellationToken);
                if (bumped is null) return await WhyNotOpenAsync(connection, transaction, sender.TenantId, sessionId, cancellationToken);
                seq = Convert.ToInt64(bumped, System.Globalization.CultureInfo.InvariantCulture);
            }

            var now = time.Now();
            var message = new ChatMessage(Guid.CreateVersion7(now), sessionId, sender.UserId, text, now);
            await using (var insert = connection.Sql("""
                INSERT INTO chat_messages (tenant_id, session_id, seq, id, sender_id, message, created_at)
                VALUES (@tenant, @session, @seq, @id, @sender, @message, @now)
                """, transaction)
                .With("tenant", sender.TenantId).With("session", sessionId).With("seq", seq).With("id", message.Id)
                .With("sender", sender.UserId).With("message", text).With("now", now))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            if (!sender.IsAgent)
            {
                await SessionStore.AddParticipantAsync(connection, transaction, sender, sessionId, cancellationToken);
                return new SendOutcome.Sent(message, []);
            }
            var notified = await notifications.CreateForReplyAsync(connection, transaction, sender.TenantId, message, cancellationToken);
            return new SendOutcome.Sent(message, notified);
        }, cancellationToken);

    private static async Task<SendOutcome> WhyNotOpenAsync(DbConnection connection, DbTransaction transaction, long tenantId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql("SELECT status FROM chat_sessions WHERE tenant_id = @tenant AND id = @session", transaction)
            .With("tenant", tenantId).With("session", sessionId);
        return await command.ExecuteScalarAsync(cancellationToken) is null ? new SendOutcome.SessionNotFound() : new SendOutcome.SessionClosed();
    }

    /// <summary>
    /// One page of a session's messages in ascending order (contract section 5). Forward pages hold the
    /// messages after the cursor, backward pages the ones before it (or the newest ones without a cursor).
    /// </summary>
    public Task<PageOutcome> PageAsync(long tenantId, Guid sessionId, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync<PageOutcome>(async connection =>
        {
            long? cursorSeq = null;
            if (page.Cursor is { } cursor)
            {
                cursorSeq = await SeqOfAsync(connection, tenantId, sessionId, cursor, cancellationToken);
                if (cursorSeq is null)
                {
                    return await SessionExistsAsync(connection, tenantId, sessionId, cancellationToken)
                        ? new PageOutcome.UnknownCursor() : new PageOutcome.SessionNotFound();
                }
            }

            await using var command = connection.Sql(page.Backward
                ? $"SELECT {Columns} FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session AND seq < @seq ORDER BY seq DESC LIMIT @take"
                : $"SELECT {Columns} FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session AND seq > @seq ORDER BY seq LIMIT @take")
                .With("tenant", tenantId).With("session", sessionId).With("seq", cursorSeq ?? (page.Backward ? long.MaxValue : 0))
                .With("take", page.Limit + 1);
            var rows = new List<ChatMessage>(page.Limit + 1);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) rows.Add(Read(reader));
            }
            // Rows (or a cursor) prove the session is the tenant's; only an empty first page needs the check.
            if (rows.Count == 0 && cursorSeq is null && !await SessionExistsAsync(connection, tenantId, sessionId, cancellationToken))
                return new PageOutcome.SessionNotFound();
            return new PageOutcome.Found(page.ToPage(rows, m => m.Id));
        }, cancellationToken);

    /// <summary>Messages after <paramref name="afterId"/> (or from the start), oldest first: the SSE replay. Null when the id is not in the session.</summary>
    public Task<IReadOnlyList<ChatMessage>?> AfterAsync(long tenantId, Guid sessionId, Guid? afterId, int max, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ChatMessage>?>(async connection =>
        {
            long seq = 0;
            if (afterId is { } id)
            {
                var found = await SeqOfAsync(connection, tenantId, sessionId, id, cancellationToken);
                if (found is null) return null;
                seq = found.Value;
            }
            await using var command = connection.Sql($"SELECT {Columns} FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session AND seq > @seq ORDER BY seq LIMIT @take")
                .With("tenant", tenantId).With("session", sessionId).With("seq", seq).With("take", max);
            var rows = new List<ChatMessage>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) rows.Add(Read(reader));
            return rows;
        }, cancellationToken);

    private static async Task<long?> SeqOfAsync(DbConnection connection, long tenantId, Guid sessionId, Guid messageId, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql("SELECT seq FROM chat_messages WHERE tenant_id = @tenant AND id = @id AND session_id = @session")
            .With("tenant", tenantId).With("id", messageId).With("session", sessionId);
        var seq = await command.ExecuteScalarAsync(cancellationToken);
        return seq is null ? null : Convert.ToInt64(seq, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<bool> SessionExistsAsync(DbConnection connection, long tenantId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql("SELECT 1 FROM chat_sessions WHERE tenant_id = @tenant AND id = @session")
            .With("tenant", tenantId).With("session", sessionId);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    private static ChatMessage Read(DbDataReader reader) =>
        new(reader.GetId(0), reader.GetId(1), reader.GetInt64(2), reader.GetString(3), reader.GetTime(4));
}
