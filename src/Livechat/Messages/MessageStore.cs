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
    /// <summary>
    /// <c>attachment_ids</c> names something the message cannot take (nothing was written): <paramref name="Scanning"/>
    /// when the only problem is an upload still being scanned (409), otherwise 400.
    /// </summary>
    public sealed record AttachmentsRefused(string Problem, bool Scanning) : SendOutcome;
}

public abstract record PageOutcome
{
    public sealed record Found(Page<ChatMessage> Page) : PageOutcome;
    public sealed record SessionNotFound : PageOutcome;
    public sealed record UnknownCursor : PageOutcome;
}

public sealed class MessageStore(Database database, WritePath writes, KnownParticipants participants, IAttachmentLinks links)
{
    // attachment_count is last: a page reads the attachments table only when one of its rows has some.
    private const string Columns = "id, session_id, sender_id, message, created_at, client_message_id, attachment_count";

    /// <summary>
    /// Stores a message and announces it (<see cref="MessageCreated"/>: notifications and pushes follow from
    /// it). The session row is the lock: bumping <c>last_seq</c> (only while OPEN) both assigns the message's
    /// order key and makes concurrent senders to one session queue, so seq order is commit order; the session
    /// id as order key keeps the pushes in that order too. A send to a session that is not open writes nothing
    /// and answers why (one read, after the write, for those only): it never fails the batch it ran in.
    /// </summary>
    /// <para>
    /// With <paramref name="attachmentIds"/> (contract section 15) the send first reads those uploads, locked (a read
    /// before the write, so it is never planned), and refuses unless each is the sender's, of this session, ready
    /// and not yet taken; then the same statements run, and one more makes the message, once it exists, take them.
    /// </para>
    public async Task<Written<SendOutcome>> SendAsync(CurrentUser sender, Guid sessionId, string? text, string? clientMessageId,
        IReadOnlyList<Guid> attachmentIds, IdempotencyClaim? claim, CancellationToken cancellationToken)
    {
        // An agent never joins; a tenant user joins with their first message (recorded in its transaction).
        var join = !sender.IsAgent && !participants.Contains(sender.TenantId, sessionId, sender.UserId);
        // A message without a client_message_id needs no read before its insert, so it can be planned (pipelined on PostgreSQL).
        Task<Written<SendOutcome>> Attempt() =>
            writes.RunAsync(scope => SendAsync(scope, sender, join, sessionId, text, clientMessageId, attachmentIds, cancellationToken), claim, cancellationToken,
                orderKey: sessionId, plannable: clientMessageId is null && attachmentIds.Count == 0);
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
        // Attachments refused in a session that does not exist: the session is what is unknown.
        if (written is not Written<SendOutcome>.Done { Outcome: SendOutcome.SessionClosed or SendOutcome.AttachmentsRefused } notOpen) return written;
        var exists = await database.ReadAsync(connection => SessionExistsAsync(connection, sender.TenantId, sessionId, cancellationToken), cancellationToken);
        return exists ? written : notOpen with { Outcome = new SendOutcome.SessionNotFound() };
    }

    // A send is these statements, each repeating "this session, while OPEN", so on a session that is not open none
    // of them writes anything: the tenant user's participation (JoinSql), the bump, and the insert.
    private const string BumpSql = "UPDATE chat_sessions SET last_seq = last_seq + 1 WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN'";

    // The insert also returns the session's audience (MessageCreated.SessionUsers), so the audience costs no statement.
    private const string InsertSql = $"""
        INSERT INTO chat_messages (tenant_id, session_id, seq, id, sender_id, message, created_at, client_message_id, attachment_count)
        SELECT tenant_id, id, last_seq, @id, @sender, @message, @now, @client, @attachments FROM chat_sessions
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
    private async Task<Change<SendOutcome>> SendAsync(ChangeScope scope, CurrentUser sender, bool join, Guid sessionId, string? text, string? clientMessageId,
        IReadOnlyList<Guid> attachmentIds, CancellationToken cancellationToken)
    {
        if (clientMessageId is not null)
        {
            // A resend answers the first copy: a read before the write, so this send is never planned.
            await using var existing = scope.Sql($"""
                SELECT {Columns}, seq FROM chat_messages
                WHERE tenant_id = @tenant AND session_id = @session AND client_message_id = @client
                """).With("tenant", sender.TenantId).With("session", sessionId).With("client", clientMessageId);
            await using var reader = await existing.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var first = Read(reader);
                await reader.DisposeAsync();
                if (first.Message.SenderId != sender.UserId || (text is not null && first.Message.Message != text)) return Change.Of<SendOutcome>(new SendOutcome.ClientIdConflict());
                var replayed = await WithAttachmentsAsync(scope.Connection, scope.Transaction, sender.TenantId, sessionId, [first], cancellationToken);
                return Change.Of<SendOutcome>(new SendOutcome.Replayed(replayed[0]));
            }
        }

        var message = new ChatMessage(Guid.CreateVersion7(scope.Now), sessionId, sender.UserId, text ?? "", scope.Now) { ClientMessageId = clientMessageId };
        ChatMessage? forWebhooks = null;
        if (attachmentIds.Count > 0)
        {
            var (attachments, refused) = await TakeableAsync(scope, sender, sessionId, attachmentIds, cancellationToken);
            if (refused is not null) return Change.Of<SendOutcome>(refused);
            // Without a text, the files' names are the text, so a client that knows no attachments still shows something.
            message = message with
            {
                Message = text ?? string.Join(", ", attachments.Select(a => a.FileName)),
                Attachments = [.. attachments.Select(a => a with { Url = links.UrlFor(sender.TenantId, a.Id) })],
            };
            forWebhooks = message with
            {
                Attachments = [.. attachments.Select(a => a with { Url = links.UrlFor(sender.TenantId, a.Id, MessageAttachments.WebhookLinkLifetime) })],
            };
        }

        var created = new MessageCreated(sender.TenantId, message, sender.IsAgent) { WebhookMessage = forWebhooks };
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
        // Its uploads, once the message exists (its insert wrote nothing on a session that was not open): locked by TakeableAsync, so all of them.
        if (attachmentIds.Count > 0) Bind(scope.Defer(TakeSql), sender, message).WithIds(attachmentIds);
        return Change.Later(() => outcome, created);
    }

    /// <summary>Every statement of a send takes its parameters from the same names; each uses those it needs.</summary>
    private static DbCommand Bind(DbCommand command, CurrentUser sender, ChatMessage message) =>
        command.With("tenant", sender.TenantId).With("session", message.SessionId).With("id", message.Id).With("sender", sender.UserId)
            .With("message", message.Message).With("now", message.CreatedAt).With("client", message.ClientMessageId)
            .With("attachments", message.Attachments is { Count: > 0 } files ? files.Count : (int?)null);

    /// <summary>The message takes its uploads: the same conditions <see cref="TakeableAsync"/> checked, and the message row.</summary>
    private static readonly string TakeSql = $"""
        UPDATE attachments SET message_id = @id
        WHERE tenant_id = @tenant AND id IN ({MessageAttachments.IdList}) AND session_id = @session AND uploader_id = @sender
          AND status = 'ready' AND message_id IS NULL
          AND EXISTS (SELECT 1 FROM chat_messages WHERE tenant_id = @tenant AND id = @id)
        """;

    private static readonly string TakeableSql = $"""
        SELECT {MessageAttachments.Columns}, message_id FROM attachments WHERE tenant_id = @tenant AND id IN ({MessageAttachments.IdList})
        """;

    /// <summary>
    /// The uploads a send names, in upload order, or why it cannot take them. On PostgreSQL they are locked
    /// (<c>FOR UPDATE</c>) until the send commits, so a concurrent send of the same upload waits and then finds it
    /// taken; SQLite has one writer.
    /// </summary>
    private static async Task<(List<Attachment> Attachments, SendOutcome.AttachmentsRefused? Refused)> TakeableAsync(ChangeScope scope, CurrentUser sender,
        Guid sessionId, IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        var found = new Dictionary<Guid, (Attachment Attachment, bool Taken)>();
        await using (var command = scope.Sql(scope.Connection is Npgsql.NpgsqlConnection ? TakeableSql + " FOR UPDATE" : TakeableSql)
            .With("tenant", sender.TenantId).WithIds(ids))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var attachment = MessageAttachments.Read(reader, 0);
                found[attachment.Id] = (attachment, !reader.IsDBNull(9));
            }
        }
        var scanning = false;
        foreach (var id in ids)
        {
            // Another tenant's upload, or another user's or session's, is not one the caller may name: all answer alike.
            if (!found.TryGetValue(id, out var upload) || upload.Attachment.UploaderId != sender.UserId || upload.Attachment.SessionId != sessionId)
                return ([], new($"{id} is not an upload of yours in this session.", false));
            if (upload.Taken) return ([], new($"{id} is already attached to a message.", false));
            if (upload.Attachment.Status == AttachmentStatus.Rejected) return ([], new($"{id} was rejected by the virus scan.", false));
            scanning |= upload.Attachment.Status == AttachmentStatus.Scanning;
        }
        if (scanning) return ([], new("An upload is still being scanned: send it once it is ready (attachmentUpdated).", true));
        return ([.. found.Values.Select(f => f.Attachment).OrderBy(a => a.Id)], null);
    }

    /// <summary>
    /// The attachments of the rows that have some (<c>attachment_count</c>), with fresh links, in one query over the
    /// rows' range of seq; rows without any (most, and every row of a conversation without files) cost nothing.
    /// </summary>
    private async Task<List<ChatMessage>> WithAttachmentsAsync(DbConnection connection, DbTransaction? transaction, long tenantId, Guid sessionId,
        IReadOnlyList<Row> rows, CancellationToken cancellationToken)
    {
        var messages = rows.Select(r => r.Message).ToList();
        var carrying = rows.Where(r => r.AttachmentCount > 0).ToList();
        if (carrying.Count == 0) return messages;
        var byMessage = new Dictionary<Guid, List<Attachment>>();
        await using (var command = connection.Sql(AttachmentsOfSql, transaction).With("tenant", tenantId).With("session", sessionId)
            .With("from", carrying.Min(r => r.Seq)).With("to", carrying.Max(r => r.Seq)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var attachment = MessageAttachments.Read(reader, 1);
                if (attachment.Status == AttachmentStatus.Ready) attachment = attachment with { Url = links.UrlFor(tenantId, attachment.Id) };
                var messageId = reader.GetId(0);
                if (!byMessage.TryGetValue(messageId, out var list)) byMessage[messageId] = list = [];
                list.Add(attachment);
            }
        }
        return [.. messages.Select(m => byMessage.TryGetValue(m.Id, out var files) ? m with { Attachments = files } : m)];
    }

    private const string AttachmentsOfSql = $"""
        SELECT message_id, {MessageAttachments.Columns} FROM attachments
        WHERE tenant_id = @tenant AND message_id IN (
            SELECT m.id FROM chat_messages m
            WHERE m.tenant_id = @tenant AND m.session_id = @session AND m.seq BETWEEN @from AND @to AND m.attachment_count IS NOT NULL)
        ORDER BY id
        """;

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

            var rows = new List<Row>(page.Limit + 1);
            await using (var command = connection.Sql(page.Backward
                ? $"SELECT {Columns}, seq FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session AND seq < @seq ORDER BY seq DESC LIMIT @take"
                : $"SELECT {Columns}, seq FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session AND seq > @seq ORDER BY seq LIMIT @take")
                .With("tenant", tenantId).With("session", sessionId).With("seq", cursorSeq ?? (page.Backward ? long.MaxValue : 0))
                .With("take", page.Limit + 1))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) rows.Add(Read(reader));
            }
            // Rows (or a cursor) prove the session is the tenant's; only an empty first page needs the check.
            if (rows.Count == 0 && cursorSeq is null && !await SessionExistsAsync(connection, tenantId, sessionId, cancellationToken))
                return new PageOutcome.SessionNotFound();
            // The extra row (has_next) is read, not shown: it needs no attachments.
            var shown = rows.Take(page.Limit).ToList();
            var messages = await WithAttachmentsAsync(connection, null, tenantId, sessionId, shown, cancellationToken);
            return new PageOutcome.Found(page.ToPage(rows.Count > page.Limit ? [.. messages, rows[^1].Message] : messages, m => m.Id));
        }, cancellationToken);

    /// <summary>The order key of a message of the session, or null when the id is not one of its messages.</summary>
    public Task<long?> SeqOfAsync(long tenantId, Guid sessionId, Guid messageId, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => SeqOfAsync(connection, tenantId, sessionId, messageId, cancellationToken), cancellationToken);

    /// <summary>Up to <paramref name="max"/> messages after order key <paramref name="afterSeq"/>, oldest first: the SSE replay.</summary>
    public Task<List<(ChatMessage Message, long Seq)>> AfterAsync(long tenantId, Guid sessionId, long afterSeq, int max, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var rows = new List<Row>();
            await using (var command = connection.Sql($"SELECT {Columns}, seq FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session AND seq > @seq ORDER BY seq LIMIT @take")
                .With("tenant", tenantId).With("session", sessionId).With("seq", afterSeq).With("take", max))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) rows.Add(Read(reader));
            }
            var messages = await WithAttachmentsAsync(connection, null, tenantId, sessionId, rows, cancellationToken);
            return messages.Select((m, i) => (m, rows[i].Seq)).ToList();
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

    /// <summary>A message as <see cref="Columns"/> read it, without its attachments yet (<see cref="WithAttachmentsAsync"/>); <c>seq</c> when selected after them.</summary>
    private sealed record Row(ChatMessage Message, long Seq, int AttachmentCount);

    private static Row Read(DbDataReader reader) =>
        new(new ChatMessage(reader.GetId(0), reader.GetId(1), reader.GetInt64(2), reader.GetString(3), reader.GetTime(4))
            { ClientMessageId = reader.IsDBNull(5) ? null : reader.GetString(5) },
            reader.FieldCount > 7 ? reader.GetInt64(7) : 0,
            reader.IsDBNull(6) ? 0 : reader.GetInt32(6));
}
