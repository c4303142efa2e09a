using System.Data.Common;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Data;
using Livechat.Realtime;
using Livechat.Notifications;
using Livechat.Sessions;

namespace Livechat.Messages;

public abstract record SendOutcome
{
    public sealed record Sent(long TenantId, ChatMessage Message, long Seq, IReadOnlyList<Notification> Notifications) : SendOutcome;
    public sealed record SessionNotFound : SendOutcome;
    public sealed record SessionClosed : SendOutcome;
}

public abstract record PageOutcome
{
    public sealed record Found(Page<ChatMessage> Page) : PageOutcome;
    public sealed record SessionNotFound : PageOutcome;
    public sealed record UnknownCursor : PageOutcome;
}

public sealed class MessageStore(Database database, NotificationStore notifications, RealtimePublisher publisher, TimeProvider time)
{
    private const string Columns = "id, session_id, sender_id, message, created_at";

    /// <summary>
    /// Stores a message, and for an agent's message the tenant side's notifications, in one transaction.
    /// The session row is the lock: bumping <c>last_seq</c> (only while OPEN) both assigns the message's
    /// order key and makes concurrent senders to one session queue, so seq order is commit order. The
    /// session's order key makes the pushes follow that order on PostgreSQL as well (see Database.WriteAsync).
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
                return new SendOutcome.Sent(sender.TenantId, message, seq, []);
            }
            var notified = await notifications.CreateForReplyAsync(connection, transaction, sender.TenantId, message, cancellationToken);
            return new SendOutcome.Sent(sender.TenantId, message, seq, notified);
        }, cancellationToken, Announce, orderKey: sessionId);

    private void Announce(SendOutcome outcome)
    {
        if (outcome is not SendOutcome.Sent sent) return;
        publisher.Publish(new MessageCreated(sent.TenantId, sent.Message, sent.Seq));
        foreach (var notification in sent.Notifications) publisher.Publish(new NotificationCreated(notification));
    }

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

    /// <summary>The order key of a message of the session, or null when the id is not one of its messages.</summary>
    public Task<long?> SeqOfAsync(long tenantId, Guid sessionId, Guid messageId, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => SeqOfAsync(connection, tenantId, sessionId, messageId, cancellationToken), cancellationToken);

    /// <summary>Up to <paramref name="max"/> messages after order key <paramref name="afterSeq"/>, oldest first: the SSE replay.</summary>
    public Task<List<(ChatMessage Message, long Seq)>> AfterAsync(long tenantId, Guid sessionId, long afterSeq, int max, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {Columns}, seq FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session AND seq > @seq ORDER BY seq LIMIT @take")
                .With("tenant", tenantId).With("session", sessionId).With("seq", afterSeq).With("take", max);
            var rows = new List<(ChatMessage, long)>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) rows.Add((Read(reader), reader.GetInt64(5)));
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
