using System.Data.Common;
using Livechat.Api;
using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Messages;

public abstract record SendOutcome
{
    public sealed record Sent(ChatMessage Message) : SendOutcome;
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

public sealed class MessageStore(Database database, WritePath writes, KnownParticipants participants)
{
    private const string Columns = "id, session_id, sender_id, message, created_at, client_message_id, internal";

    /// <summary>
    /// Stores a message and announces it (<see cref="MessageCreated"/>: notifications and pushes follow from
    /// it). The session row is the lock: bumping <c>last_seq</c> (only while OPEN) both assigns the message's
    /// order key and makes concurrent senders to one session queue, so seq order is commit order; the session
    /// id as order key keeps the pushes in that order too. A send to a session that is not open writes nothing
    /// and answers why (one read, after the write, for those only): it never fails the batch it ran in.
    /// </summary>
    public async Task<Written<SendOutcome>> SendAsync(CurrentUser sender, Guid sessionId, string text, string? clientMessageId, bool isInternal, IdempotencyClaim? claim,
        CancellationToken cancellationToken)
    {
        // An agent never joins; a tenant user joins with their first message (recorded in its transaction).
        var join = !sender.IsAgent && !participants.Contains(sender.TenantId, sessionId, sender.UserId);
        // A message without a client_message_id needs no read before its insert, so it can be planned (pipelined on PostgreSQL).
        Task<Written<SendOutcome>> Attempt() =>
            writes.RunAsync(scope => SendAsync(scope, sender, join, sessionId, text, clientMessageId, isInternal, cancellationToken), claim, cancellationToken, orderKey: sessionId,
                plannable: clientMessageId is null);
        Written<SendOutcome> written;
        try
        {
            written = await Attempt();
        }
        catch (DbException e) when (e.IsUniqueViolation() && clientMessageId is not null)
        {
            // A concurrent resend with the same client_message_id won: running again finds its message.
            written = await Attempt();
        }
        // The write says "not open"; a session that does not exist (or is another tenant's) is unknown instead:
        // one read, after the write, only for these. Sessions are never deleted, so what it finds held at the insert too.
        if (written is not Written<SendOutcome>.Done { Outcome: SendOutcome.SessionClosed } notOpen) return written;
        var exists = await database.ReadAsync(connection => SessionExistsAsync(connection, sender.TenantId, sessionId, cancellationToken), cancellationToken);
        return exists ? written : notOpen with { Outcome = new SendOutcome.SessionNotFound() };
    }

    // A send is these statements, each repeating "this session, while OPEN", so on a session that is not open none
    // of them writes anything: the tenant user's participation (JoinSql), the bump, and the insert.
    private const string BumpSql = "UPDATE chat_sessions SET last_seq = last_seq + 1 WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN'";

    // The insert also returns the session's audience (MessageCreated.SessionUsers), so the audience costs no statement.
    private const string InsertSql = $"""
        INSERT INTO chat_messages (tenant_id, session_id, seq, id, sender_id, message, created_at, client_message_id, internal)
        SELECT tenant_id, id, last_seq, @id, @sender, @message, @now, @client, @internal FROM chat_sessions
        WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN'
        RETURNING seq, {SessionUsers.Columns}
        """;

    /// <summary>
    /// Tenant users who write in a session take part in it: they are notified of agent replies there. Run with
    /// a tenant user's message unless this process already saw them take part (<see cref="KnownParticipants"/>).
    /// </summary>
    private const string JoinSql = """
        INSERT INTO session_participants (tenant_id, session_id, user_id)
        SELECT tenant_id, id, @sender FROM chat_sessions WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN'
        ON CONFLICT DO NOTHING
        """;

    /// <summary>
    /// The send, defined once: its statements are deferred, so planned they travel with the rest of the batch,
    /// and unplanned they run right after the handlers (one round trip on PostgreSQL). The insert's row settles
    /// it: the message as it happened (its seq and audience), or, without a row, a session that was not open;
    /// then the event did not happen, and what the handlers deferred for it writes nothing (<see cref="MessageCreated.HappenedIf"/>).
    /// </summary>
    private static async Task<Change<SendOutcome>> SendAsync(ChangeScope scope, CurrentUser sender, bool join, Guid sessionId, string text, string? clientMessageId,
        bool isInternal, CancellationToken cancellationToken)
    {
        var message = new ChatMessage(Guid.CreateVersion7(scope.Now), sessionId, sender.UserId, text, scope.Now) { ClientMessageId = clientMessageId, Internal = isInternal };
        if (clientMessageId is not null)
        {
            // A resend answers the first copy: a read before the write, so this send is never planned.
            await using var existing = scope.Sql($"""
                SELECT {Columns} FROM chat_messages
                WHERE tenant_id = @tenant AND session_id = @session AND client_message_id = @client
                """).With("tenant", sender.TenantId).With("session", sessionId).With("client", clientMessageId);
            await using var reader = await existing.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var first = Read(reader);
                return Change.Of<SendOutcome>(first.SenderId == sender.UserId && first.Message == text && first.Internal == isInternal
                    ? new SendOutcome.Replayed(first) : new SendOutcome.ClientIdConflict());
            }
        }

        var created = new MessageCreated(sender.TenantId, message, sender.IsAgent);
        // Until the insert returns its row: not open (SendAsync above tells a closed session from an unknown one).
        SendOutcome outcome = new SendOutcome.SessionClosed();
        if (join) Bind(scope.Defer(JoinSql), sender, message);
        Bind(scope.Defer(BumpSql), sender, message);
        Bind(scope.DeferQuery(InsertSql, async (reader, ct) =>
        {
            if (!await reader.ReadAsync(ct))
            {
                scope.DidNotHappen(created);
                return;
            }
            scope.Happened(created, created with { Seq = reader.GetInt64(0), SessionUsers = SessionUsers.Read(reader, 1) });
            outcome = new SendOutcome.Sent(message);
        }), sender, message);
        return Change.Later(() => outcome, created);
    }

    /// <summary>Every statement of a send takes its parameters from the same names; each uses those it needs.</summary>
    private static DbCommand Bind(DbCommand command, CurrentUser sender, ChatMessage message) =>
        command.With("tenant", sender.TenantId).With("session", message.SessionId).With("id", message.Id).With("sender", sender.UserId)
            .With("message", message.Message).With("now", message.CreatedAt).With("client", message.ClientMessageId).With("internal", message.Internal);

    /// <summary>
    /// One page of a session's messages in ascending order (contract section 5). Forward pages hold the
    /// messages after the cursor, backward pages the ones before it (or the newest ones without a cursor).
    /// </summary>
    public Task<PageOutcome> PageAsync(CurrentUser caller, Guid sessionId, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync<PageOutcome>(async connection =>
        {
            var tenantId = caller.TenantId;
            long? cursorSeq = null;
            if (page.Cursor is { } cursor)
            {
                // A note is no cursor for a tenant user: it is not one of the messages it reads.
                cursorSeq = await SeqOfAsync(connection, caller, sessionId, cursor, cancellationToken);
                if (cursorSeq is null)
                {
                    return await SessionExistsAsync(connection, tenantId, sessionId, cancellationToken)
                        ? new PageOutcome.UnknownCursor() : new PageOutcome.SessionNotFound();
                }
            }

            await using var command = connection.Sql(page.Backward
                ? $"SELECT {Columns} FROM chat_messages m WHERE tenant_id = @tenant AND session_id = @session AND seq < @seq{MessageVisibility.Condition(caller.IsAgent, "m")} ORDER BY seq DESC LIMIT @take"
                : $"SELECT {Columns} FROM chat_messages m WHERE tenant_id = @tenant AND session_id = @session AND seq > @seq{MessageVisibility.Condition(caller.IsAgent, "m")} ORDER BY seq LIMIT @take")
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

    /// <summary>The order key of a message of the session the caller reads, or null when the id is not one of them.</summary>
    public Task<long?> SeqOfAsync(CurrentUser caller, Guid sessionId, Guid messageId, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => SeqOfAsync(connection, caller, sessionId, messageId, cancellationToken), cancellationToken);

    /// <summary>Up to <paramref name="max"/> messages the caller reads after order key <paramref name="afterSeq"/>, oldest first: the SSE replay.</summary>
    public Task<List<(ChatMessage Message, long Seq)>> AfterAsync(CurrentUser caller, Guid sessionId, long afterSeq, int max, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"""
                SELECT {Columns}, seq FROM chat_messages m
                WHERE tenant_id = @tenant AND session_id = @session AND seq > @seq{MessageVisibility.Condition(caller.IsAgent, "m")} ORDER BY seq LIMIT @take
                """).With("tenant", caller.TenantId).With("session", sessionId).With("seq", afterSeq).With("take", max);
            var rows = new List<(ChatMessage, long)>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) rows.Add((Read(reader), reader.GetInt64(7)));
            return rows;
        }, cancellationToken);

    private static async Task<long?> SeqOfAsync(DbConnection connection, CurrentUser caller, Guid sessionId, Guid messageId, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql($"SELECT seq FROM chat_messages m WHERE tenant_id = @tenant AND id = @id AND session_id = @session{MessageVisibility.Condition(caller.IsAgent, "m")}")
            .With("tenant", caller.TenantId).With("id", messageId).With("session", sessionId);
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
        new(reader.GetId(0), reader.GetId(1), reader.GetInt64(2), reader.GetString(3), reader.GetTime(4))
        {
            ClientMessageId = reader.IsDBNull(5) ? null : reader.GetString(5), Internal = reader.GetBoolean(6),
        };
}
