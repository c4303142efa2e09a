using System.Data.Common;
using Livechat.Agents;
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
    private const string Columns = "id, session_id, sender_id, message, created_at, client_message_id, internal, sender_name, deleted, attachment_count";

    /// <summary>
    /// Stores a message and announces it (<see cref="MessageCreated"/>: notifications and pushes follow from
    /// it). The session row is the lock: bumping <c>last_seq</c> (only while OPEN) both assigns the message's
    /// order key and makes concurrent senders to one session queue, so seq order is commit order; the session
    /// id as order key keeps the pushes in that order too. A send to a session that is not open writes nothing
    /// and answers why (one read, after the write, for those only): it never fails the batch it ran in.
    /// </summary>
    /// <para>
    /// With <paramref name="attachmentIds"/> (contract section 15) the send first reads those uploads (a read before
    /// the write, outside it) and refuses unless each is the sender's, of this session, ready and not yet taken: then
    /// nothing is written. Otherwise the send is still planned: its statements take the uploads first and each of the
    /// others requires that the message took all of them, so an upload another send took meanwhile writes nothing
    /// either (and is answered after the write, like a closed session).
    /// </para>
    public async Task<Written<SendOutcome>> SendAsync(CurrentUser sender, Guid sessionId, string? text, string? clientMessageId, bool isInternal,
        IReadOnlyList<Guid> attachmentIds, IdempotencyClaim? claim, CancellationToken cancellationToken)
    {
        List<Attachment> files = [];
        SendOutcome.AttachmentsRefused? early = null;
        if (attachmentIds.Count > 0)
        {
            var (found, refused) = await database.ReadAsync(connection => TakeableAsync(connection, sender, sessionId, attachmentIds, cancellationToken), cancellationToken);
            // A resend with a client_message_id answers the first message, whose uploads it took: the write decides that first.
            if (refused is not null && clientMessageId is null)
            {
                var known = await database.ReadAsync(connection => SessionExistsAsync(connection, sender.TenantId, sessionId, cancellationToken), cancellationToken);
                return new Written<SendOutcome>.Done(known ? refused : new SendOutcome.SessionNotFound(), []);
            }
            files = found;
            early = refused;
        }
        // An agent never joins; a tenant user joins with their first message (recorded in its transaction).
        var join = !sender.IsAgent && !participants.Contains(sender.TenantId, sessionId, sender.UserId);
        // A message without a client_message_id needs no read before its insert, so it can be planned (pipelined on PostgreSQL).
        Task<Written<SendOutcome>> Attempt() =>
            writes.RunAsync(scope => SendAsync(scope, sender, join, sessionId, text, clientMessageId, isInternal, files, early, cancellationToken), claim, cancellationToken,
                orderKey: sessionId, plannable: clientMessageId is null);
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
        if (written is Written<SendOutcome>.Done { Outcome: SendOutcome.AttachmentsRefused } refusedInWrite) // a resend's uploads, by client_message_id
            return await database.ReadAsync(connection => SessionExistsAsync(connection, sender.TenantId, sessionId, cancellationToken), cancellationToken)
                ? written : refusedInWrite with { Outcome = new SendOutcome.SessionNotFound() };
        if (written is not Written<SendOutcome>.Done { Outcome: SendOutcome.SessionClosed } notOpen) return written;
        var status = await database.ReadAsync(connection => SessionStatusAsync(connection, sender.TenantId, sessionId, cancellationToken), cancellationToken);
        if (status is null) return notOpen with { Outcome = new SendOutcome.SessionNotFound() };
        if (status == "OPEN" && files.Count > 0)
        {
            // Open, so another send took one of the uploads between the read and the write: say which, as the read would now.
            var (_, refused) = await database.ReadAsync(connection => TakeableAsync(connection, sender, sessionId, attachmentIds, cancellationToken), cancellationToken);
            return notOpen with { Outcome = refused ?? new SendOutcome.AttachmentsRefused("An upload was attached to another message meanwhile.", false) };
        }
        return written;
    }

    // A send is these statements, each repeating "this session, while OPEN", so on a session that is not open none
    // of them writes anything: the tenant user's participation (JoinSql), the bump, and the insert. With files, the
    // message first takes its uploads (TakeSql), and each statement also requires that it took all of them (AllTaken).
    private static string BumpSql(bool files) =>
        $"UPDATE chat_sessions SET last_seq = last_seq + 1 WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN'{AllTaken(files)}";

    // The insert also returns the session's audience (MessageCreated.SessionUsers), so the audience costs no statement,
    // and the sender's name, which it copies from user_names: the request's token wrote it there before the handler ran.
    // It also writes the message's search index (MessageSearchIndex): on PostgreSQL its tsvector, on SQLite its
    // search_row, the rowid of its entry in the FTS5 table, which MessageSearchIndex.SqliteWriteSent writes at the end of the batch,
    // and SqliteWordsOfMessage its words right after it.
    private static string InsertSql(bool files, bool postgres) => $"""
        INSERT INTO chat_messages (tenant_id, session_id, seq, id, sender_id, message, created_at, client_message_id, internal, attachment_count, sender_name,
            {(postgres ? "search_vector" : "search_row")})
        SELECT tenant_id, id, last_seq, @id, @sender, @message, @now, @client, @internal, @attachments, {UserNames.Of("@tenant", "@sender")},
               {(postgres ? MessageSearchIndex.PostgresVector("@message") : MessageSearchIndex.SqliteRow)} FROM chat_sessions
        WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN'{AllTaken(files)}
        RETURNING seq, sender_name, {SessionUsers.Columns}
        """;

    /// <summary>
    /// Tenant users who write in a session take part in it: they are notified of agent replies there. Run with
    /// a tenant user's message unless this process already saw them take part (<see cref="KnownParticipants"/>).
    /// </summary>
    private static string JoinSql(bool files) => $"""
        INSERT INTO session_participants (tenant_id, session_id, user_id)
        SELECT tenant_id, id, @sender FROM chat_sessions WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN'{AllTaken(files)}
        ON CONFLICT DO NOTHING
        """;

    private static string AllTaken(bool files) =>
        files ? " AND (SELECT count(*) FROM attachments WHERE tenant_id = @tenant AND message_id = @id) = @attachments" : "";

    // Each built once: SQLite keeps its commands prepared by their text.
    private static readonly string[] Bump = [BumpSql(false), BumpSql(true)];
    private static readonly string[] SqliteInsert = [InsertSql(false, postgres: false), InsertSql(true, postgres: false)];
    private static readonly string[] PostgresInsert = [InsertSql(false, postgres: true), InsertSql(true, postgres: true)];
    private static readonly string[] Join = [JoinSql(false), JoinSql(true)];

    /// <summary>
    /// The message takes its uploads, first: those that are still the sender's, staged and ready in this open session.
    /// An upload another transaction is taking is locked by it (PostgreSQL): this one waits, then finds it taken.
    /// </summary>
    private static readonly string TakeSql = $"""
        UPDATE attachments SET message_id = @id
        WHERE tenant_id = @tenant AND id IN ({MessageAttachments.IdList}) AND session_id = @session AND uploader_id = @sender
          AND status = 'ready' AND message_id IS NULL
          AND EXISTS (SELECT 1 FROM chat_sessions WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN')
        """;

    /// <summary>A follow-up of an insert that wrote nothing: what the message took of its uploads goes back.</summary>
    private const string GiveBackSql = """
        UPDATE attachments SET message_id = NULL
        WHERE tenant_id = @tenant AND message_id = @id AND NOT EXISTS (SELECT 1 FROM chat_messages WHERE tenant_id = @tenant AND id = @id)
        """;

    /// <summary>
    /// The send, defined once: its statements are deferred, so planned they travel with the rest of the batch,
    /// and unplanned they run right after the handlers (one round trip on PostgreSQL). The insert's row settles
    /// it: the message as it happened (its seq and audience), or, without a row, a session that was not open;
    /// then the event did not happen, and what the handlers deferred for it writes nothing (<see cref="MessageCreated.HappenedIf"/>).
    /// </summary>
    private async Task<Change<SendOutcome>> SendAsync(ChangeScope scope, CurrentUser sender, bool join, Guid sessionId, string? text, string? clientMessageId,
        bool isInternal, List<Attachment> files, SendOutcome.AttachmentsRefused? refused, CancellationToken cancellationToken)
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
                if (first.Message.SenderId != sender.UserId || (text is not null && first.Message.Message != text) || first.Message.Internal != isInternal)
                    return Change.Of<SendOutcome>(new SendOutcome.ClientIdConflict());
                var replayed = await WithAttachmentsAsync(scope.Connection, scope.Transaction, sender.TenantId, sessionId, [first], cancellationToken);
                return Change.Of<SendOutcome>(new SendOutcome.Replayed(replayed[0]));
            }
        }

        if (refused is not null) return Change.Of<SendOutcome>(refused); // not a resend after all
        var message = new ChatMessage(Guid.CreateVersion7(scope.Now), sessionId, sender.UserId, text ?? "", scope.Now)
            { ClientMessageId = clientMessageId, Internal = isInternal };
        ChatMessage? forWebhooks = null;
        if (files.Count > 0)
        {
            var attachments = files;
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
        var withFiles = files.Count > 0 ? 1 : 0;
        if (withFiles == 1) Bind(scope.Defer(TakeSql), sender, message).WithIds([.. files.Select(f => f.Id)]);
        if (join) Bind(scope.Defer(Join[withFiles]), sender, message);
        Bind(scope.Defer(Bump[withFiles]), sender, message);
        var postgres = scope.Connection is Npgsql.NpgsqlConnection;
        var insert = Bind(scope.DeferQuery((postgres ? PostgresInsert : SqliteInsert)[withFiles], async (reader, ct) =>
        {
            if (!await reader.ReadAsync(ct))
            {
                scope.DidNotHappen(created);
                // Not stored: what it took of its uploads (some, when another send had taken the others) goes back.
                if (withFiles == 1) Bind(scope.Defer(GiveBackSql), sender, message);
                return;
            }
            var named = reader.IsDBNull(1) ? created : created with
            {
                Message = created.Message with { SenderName = reader.GetString(1) },
                WebhookMessage = created.WebhookMessage is { } forReceivers ? forReceivers with { SenderName = reader.GetString(1) } : null,
            };
            scope.Happened(created, named with { Seq = reader.GetInt64(0), SessionUsers = SessionUsers.Read(reader, 2) });
            outcome = new SendOutcome.Sent(named.Message);
        }), sender, message);
        if (!postgres)
        {
            MessageSearchIndex.BindSqlite(insert, message.CreatedAt);
            scope.AtBatchEnd(MessageSearchIndex.SqliteWriteSent, sender.TenantId, message.Id);
            // Its words, where a prefix search looks them up: one statement, the words folded and de-duplicated here.
            if (MessageSearchIndex.SqliteWords([message.Message]) is { } words)
                scope.Defer(MessageSearchIndex.SqliteWordsOfMessage).With("tenant", sender.TenantId).With("id", message.Id).With("words", words);
        }
        return Change.Later(() => outcome, created);
    }

    /// <summary>Every statement of a send takes its parameters from the same names; each uses those it needs.</summary>
    private static DbCommand Bind(DbCommand command, CurrentUser sender, ChatMessage message) =>
        command.With("tenant", sender.TenantId).With("session", message.SessionId).With("id", message.Id).With("sender", sender.UserId)
            .With("message", message.Message).With("now", message.CreatedAt).With("client", message.ClientMessageId).With("internal", message.Internal)
            .With("attachments", message.Attachments is { Count: > 0 } files ? files.Count : (int?)null);

    private static readonly string TakeableSql = $"""
        SELECT {MessageAttachments.Columns}, message_id FROM attachments WHERE tenant_id = @tenant AND id IN ({MessageAttachments.IdList})
        """;

    /// <summary>
    /// The uploads a send names, in upload order, or why it cannot take them (read before the write; the write's
    /// statements check again what may have changed since).
    /// </summary>
    private static async Task<(List<Attachment> Attachments, SendOutcome.AttachmentsRefused? Refused)> TakeableAsync(DbConnection connection, CurrentUser sender,
        Guid sessionId, IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        var found = new Dictionary<Guid, (Attachment Attachment, bool Taken)>();
        await using (var command = connection.Sql(TakeableSql).With("tenant", sender.TenantId).WithIds(ids))
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
        await using var command = connection.Sql(AttachmentsOfSql, transaction).With("tenant", tenantId).With("session", sessionId)
            .With("from", carrying.Min(r => r.Seq)).With("to", carrying.Max(r => r.Seq));
        var byMessage = await ReadAttachmentsAsync(command, tenantId, cancellationToken);
        return [.. messages.Select(m => byMessage.TryGetValue(m.Id, out var files) ? m with { Attachments = files } : m)];
    }

    /// <summary>
    /// The attachments of messages read outside a session's pages (search hits, which span sessions), with fresh
    /// links, in one query; pass only the messages that have some (<c>attachment_count</c>), at most a page's worth.
    /// </summary>
    public async Task<Dictionary<Guid, List<Attachment>>> AttachmentsOfAsync(DbConnection connection, long tenantId, IReadOnlyList<Guid> messageIds,
        CancellationToken cancellationToken)
    {
        if (messageIds.Count == 0) return [];
        await using var command = connection.Sql($"""
            SELECT message_id, {MessageAttachments.Columns} FROM attachments
            WHERE tenant_id = @tenant AND message_id IS NOT NULL AND message_id IN ({DbCommandExtensions.InList("m", messageIds.Count)})
            ORDER BY id
            """).With("tenant", tenantId).WithList("m", messageIds);
        return await ReadAttachmentsAsync(command, tenantId, cancellationToken);
    }

    /// <summary>Runs a query of <c>message_id</c> and <see cref="MessageAttachments.Columns"/>: each message's attachments, the ready ones with a fresh link.</summary>
    private async Task<Dictionary<Guid, List<Attachment>>> ReadAttachmentsAsync(DbCommand command, long tenantId, CancellationToken cancellationToken)
    {
        var byMessage = new Dictionary<Guid, List<Attachment>>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var attachment = MessageAttachments.Read(reader, 1);
            if (attachment.Status == AttachmentStatus.Ready) attachment = attachment with { Url = links.UrlFor(tenantId, attachment.Id) };
            var messageId = reader.GetId(0);
            if (!byMessage.TryGetValue(messageId, out var list)) byMessage[messageId] = list = [];
            list.Add(attachment);
        }
        return byMessage;
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

            var rows = new List<Row>(page.Limit + 1);
            await using (var command = connection.Sql(page.Backward
                ? $"SELECT {Columns}, seq FROM chat_messages m WHERE tenant_id = @tenant AND session_id = @session AND seq < @seq{MessageVisibility.Condition(caller.IsAgent, "m")} ORDER BY seq DESC LIMIT @take"
                : $"SELECT {Columns}, seq FROM chat_messages m WHERE tenant_id = @tenant AND session_id = @session AND seq > @seq{MessageVisibility.Condition(caller.IsAgent, "m")} ORDER BY seq LIMIT @take")
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

    /// <summary>The order key of a message of the session the caller reads, or null when the id is not one of them.</summary>
    public Task<long?> SeqOfAsync(CurrentUser caller, Guid sessionId, Guid messageId, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => SeqOfAsync(connection, caller, sessionId, messageId, cancellationToken), cancellationToken);

    /// <summary>Up to <paramref name="max"/> messages the caller reads after order key <paramref name="afterSeq"/>, oldest first: the SSE replay.</summary>
    public Task<List<(ChatMessage Message, long Seq)>> AfterAsync(CurrentUser caller, Guid sessionId, long afterSeq, int max, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var tenantId = caller.TenantId;
            var rows = new List<Row>();
            await using (var command = connection.Sql($"""
                SELECT {Columns}, seq FROM chat_messages m
                WHERE tenant_id = @tenant AND session_id = @session AND seq > @seq{MessageVisibility.Condition(caller.IsAgent, "m")} ORDER BY seq LIMIT @take
                """).With("tenant", tenantId).With("session", sessionId).With("seq", afterSeq).With("take", max))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) rows.Add(Read(reader));
            }
            var messages = await WithAttachmentsAsync(connection, null, tenantId, sessionId, rows, cancellationToken);
            return messages.Select((m, i) => (m, rows[i].Seq)).ToList();
        }, cancellationToken);

    private static async Task<long?> SeqOfAsync(DbConnection connection, CurrentUser caller, Guid sessionId, Guid messageId, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql($"SELECT seq FROM chat_messages m WHERE tenant_id = @tenant AND id = @id AND session_id = @session{MessageVisibility.Condition(caller.IsAgent, "m")}")
            .With("tenant", caller.TenantId).With("id", messageId).With("session", sessionId);
        var seq = await command.ExecuteScalarAsync(cancellationToken);
        return seq is null ? null : Convert.ToInt64(seq, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<string?> SessionStatusAsync(DbConnection connection, long tenantId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql("SELECT status FROM chat_sessions WHERE tenant_id = @tenant AND id = @session")
            .With("tenant", tenantId).With("session", sessionId);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
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
            {
                ClientMessageId = reader.IsDBNull(5) ? null : reader.GetString(5),
                Internal = reader.GetBoolean(6),
                SenderName = reader.IsDBNull(7) ? null : reader.GetString(7),
                Deleted = reader.GetBoolean(8),
            },
            reader.FieldCount > 10 ? reader.GetInt64(10) : 0,
            reader.IsDBNull(9) ? 0 : reader.GetInt32(9));
}
