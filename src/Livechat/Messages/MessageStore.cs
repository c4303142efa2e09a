using System.Data.Common;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Data;
using Livechat.Realtime;
using Livechat.Notifications;
using Livechat.Reading;
using Livechat.Sessions;

namespace Livechat.Messages;

public abstract record SendOutcome
{
    public sealed record Sent(long TenantId, ChatMessage Message, long Seq, bool ByAgent, IReadOnlyList<Notification> Notifications) : SendOutcome
    {
        /// <summary>Who hears of the message on their own streams, as of its transaction.</summary>
        public SessionAudience? Audience { get; init; }
    }
    public sealed record SessionNotFound : SendOutcome;
    public sealed record SessionClosed : SendOutcome;
    /// <summary>The session already has this sender's message with this <c>client_message_id</c>: nothing was written.</summary>
    public sealed record Replayed(ChatMessage Message) : SendOutcome;
    /// <summary>The <c>client_message_id</c> is taken by a different message.</summary>
    public sealed record ClientIdConflict : SendOutcome;
}

public abstract record PageOutcome
{
    public sealed record Found(Page<ChatMessage> Page) : PageOutcome;
    public sealed record SessionNotFound : PageOutcome;
    public sealed record UnknownCursor : PageOutcome;
}

public sealed class MessageStore(Database database, NotificationStore notifications, RealtimePublisher publisher, TimeProvider time)
{
    private const string Columns = "id, session_id, sender_id, message, created_at, client_message_id";

    /// <summary>
    /// Stores a message, and for an agent's message the tenant side's notifications, in one transaction.
    /// The session row is the lock: bumping <c>last_seq</c> (only while OPEN) both assigns the message's
    /// order key and makes concurrent senders to one session queue, so seq order is commit order. The
    /// session's order key makes the pushes follow that order on PostgreSQL as well (see Database.WriteAsync).
    /// </summary>
    public async Task<SendOutcome> SendAsync(CurrentUser sender, Guid sessionId, string text, string? clientMessageId, CancellationToken cancellationToken)
    {
        Task<SendOutcome> Attempt() => database.WriteAsync(
            (connection, transaction) => SendAsync(connection, transaction, sender, sessionId, text, clientMessageId, cancellationToken),
            cancellationToken, Announce, orderKey: sessionId);
        try
        {
            return await Attempt();
        }
        catch (DbException e) when (e.IsUniqueViolation() && clientMessageId is not null)
        {
            // A concurrent resend with the same client_message_id won: running again finds its message.
            return await Attempt();
        }
    }

    private async Task<SendOutcome> SendAsync(DbConnection connection, DbTransaction transaction, CurrentUser sender, Guid sessionId, string text, string? clientMessageId, CancellationToken cancellationToken)
    {
        if (clientMessageId is not null)
        {
            await using var existing = connection.Sql($"""
                SELECT {Columns} FROM chat_messages
                WHERE tenant_id = @tenant AND session_id = @session AND client_message_id = @client
                """, transaction).With("tenant", sender.TenantId).With("session", sessionId).With("client", clientMessageId);
            await using var reader = await existing.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var first = Read(reader);
                return first.SenderId == sender.UserId && first.Message == text ? new SendOutcome.Replayed(first) : new SendOutcome.ClientIdConflict();
            }
        }

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
        var message = new ChatMessage(Guid.CreateVersion7(now), sessionId, sender.UserId, text, now) { ClientMessageId = clientMessageId };
        await using (var insert = connection.Sql("""
            INSERT INTO chat_messages (tenant_id, session_id, seq, id, sender_id, message, created_at, client_message_id)
            VALUES (@tenant, @session, @seq, @id, @sender, @message, @now, @client)
            """, transaction)
            .With("tenant", sender.TenantId).With("session", sessionId).With("seq", seq).With("id", message.Id)
            .With("sender", sender.UserId).With("message", text).With("now", now).With("client", clientMessageId))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await ReadMarkers.MoveAsync(connection, transaction, sender.TenantId, sessionId, sender.UserId, message.Id, seq, now, cancellationToken);
        if (!sender.IsAgent)
        {
            await SessionStore.AddParticipantAsync(connection, transaction, sender, sessionId, cancellationToken);
            return new SendOutcome.Sent(sender.TenantId, message, seq, false, []) { Audience = await SessionAudience.LoadAsync(connection, transaction, sender.TenantId, sessionId, cancellationToken) };
        }
        var notified = await notifications.CreateForReplyAsync(connection, transaction, sender.TenantId, message, cancellationToken);
        return new SendOutcome.Sent(sender.TenantId, message, seq, true, notified) { Audience = await SessionAudience.LoadAsync(connection, transaction, sender.TenantId, sessionId, cancellationToken) };
    }

    private void Announce(SendOutcome outcome)
    {
        if (outcome is not SendOutcome.Sent sent) return;
        LivechatMetrics.MessagesSent.WithLabels(sent.ByAgent ? "agent" : "tenant_user").Inc();
        publisher.Publish(new MessageCreated(sent.TenantId, sent.Message, sent.Seq) { Audience = sent.Audience });
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
            while (await reader.ReadAsync(cancellationToken)) rows.Add((Read(reader), reader.GetInt64(6)));
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
        new(reader.GetId(0), reader.GetId(1), reader.GetInt64(2), reader.GetString(3), reader.GetTime(4)) { ClientMessageId = reader.IsDBNull(5) ? null : reader.GetString(5) };
}
