using System.Data.Common;
using Livechat.Agents;
using Livechat.Api;
using Livechat.Data;
using Livechat.Messages;
using Livechat.Sessions;

namespace Livechat.Transcripts;

public abstract record TranscriptOutcome
{
    /// <summary>The caller may read the session; its transcript holds the messages up to <paramref name="LastSeq"/>, those there were when it was asked for.</summary>
    public sealed record Found(ChatSession Session, long LastSeq) : TranscriptOutcome;
    public sealed record SessionNotFound : TranscriptOutcome;
    /// <summary>A tenant user asked for a session it takes no part in.</summary>
    public sealed record NotAParticipant : TranscriptOutcome;
}

/// <summary>
/// Reads a transcript a page at a time (ADR 0040): the session once, then its messages in pages of
/// <see cref="PageSize"/> by their order key, each page its own short read on a pooled connection, so a long session
/// is never in memory at once and no connection (nor SQLite read snapshot) is held while a slow client downloads.
/// Which messages a caller reads is <see cref="MessageVisibility"/>'s rule, as for every other read of messages.
/// </summary>
public sealed class TranscriptStore(Database database)
{
    /// <summary>Messages per read: at most 5,000 characters each, so a page is at most a few MB of text, usually far less.</summary>
    public const int PageSize = 200;

    /// <summary>
    /// The session, if the caller may download its transcript: an agent of the tenant any session; a tenant user only
    /// a session it started or takes part in (<c>session_participants</c>).
    /// </summary>
    public Task<TranscriptOutcome> OpenAsync(CurrentUser caller, Guid sessionId, CancellationToken cancellationToken) =>
        database.ReadAsync<TranscriptOutcome>(async connection =>
        {
            await using var command = connection.Sql($"""
                SELECT {SessionRows.Columns}, last_seq,
                       customer_id = @user OR EXISTS (SELECT 1 FROM session_participants p
                                                      WHERE p.tenant_id = chat_sessions.tenant_id AND p.session_id = chat_sessions.id AND p.user_id = @user)
                FROM chat_sessions WHERE tenant_id = @tenant AND id = @id
                """).With("tenant", caller.TenantId).With("id", sessionId).With("user", caller.UserId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken)) return new TranscriptOutcome.SessionNotFound();
            var session = SessionRows.Read(reader);
            var lastSeq = reader.GetInt64(reader.FieldCount - 2);
            var takesPart = !reader.IsDBNull(reader.FieldCount - 1) && reader.GetBoolean(reader.FieldCount - 1);
            return caller.IsAgent || takesPart ? new TranscriptOutcome.Found(session, lastSeq) : new TranscriptOutcome.NotAParticipant();
        }, cancellationToken);

    /// <summary>
    /// Up to <see cref="PageSize"/> messages the caller reads with an order key in <c>(afterSeq, lastSeq]</c>, oldest first,
    /// each with its sender's remembered name and its files; the last one's order key, to continue after it.
    /// </summary>
    public Task<(List<TranscriptMessage> Messages, long LastSeq)> PageAsync(CurrentUser caller, Guid sessionId, long afterSeq, long lastSeq,
        TranscriptRequest request, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var messages = new List<TranscriptMessage>(PageSize);
            var carrying = new List<int>();
            var pageEnd = afterSeq;
            await using (var command = connection.Sql(PageSql(caller.IsAgent))
                .With("tenant", caller.TenantId).With("session", sessionId).With("after", afterSeq).With("last", lastSeq).With("take", PageSize))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var createdAt = reader.GetTime(4);
                    messages.Add(new TranscriptMessage(reader.GetId(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.GetBoolean(3), reader.GetString(5), createdAt, request.Local(createdAt)) { Internal = reader.GetBoolean(6) });
                    if (!reader.IsDBNull(7)) carrying.Add(messages.Count - 1);
                    pageEnd = reader.GetInt64(8);
                }
            }
            if (carrying.Count > 0) await AddAttachmentsAsync(connection, caller.TenantId, sessionId, afterSeq, pageEnd, messages, carrying, cancellationToken);
            return (messages, pageEnd);
        }, cancellationToken);

    // One statement per kind of caller, so SQLite keeps each prepared. The sender's name is the one the message was sent
    // under (ChatMessage.sender_name), else, for messages from before names were kept on them, the remembered one; the
    // lookups of the name and the sender's kind are on primary keys; the page is a range of the messages' primary key (tenant_id, session_id, seq).
    private static string PageSql(bool isAgent) => isAgent ? AgentsPage : TenantUsersPage;

    private static readonly string AgentsPage = BuildPageSql(isAgent: true);

    private static readonly string TenantUsersPage = BuildPageSql(isAgent: false);

    private static string BuildPageSql(bool isAgent) => $"""
        SELECT m.id, m.sender_id, COALESCE(m.sender_name, {UserNames.Of("m.tenant_id", "m.sender_id")}),
               EXISTS (SELECT 1 FROM agents a WHERE a.tenant_id = m.tenant_id AND a.user_id = m.sender_id),
               m.created_at, m.message, m.internal, m.attachment_count, m.seq
        FROM chat_messages m
        WHERE m.tenant_id = @tenant AND m.session_id = @session AND m.seq > @after AND m.seq <= @last{MessageVisibility.Condition(isAgent, "m")}
        ORDER BY m.seq LIMIT @take
        """;

    private const string AttachmentsSql = """
        SELECT message_id, id, file_name, content_type, size FROM attachments
        WHERE tenant_id = @tenant AND message_id IN (
            SELECT m.id FROM chat_messages m
            WHERE m.tenant_id = @tenant AND m.session_id = @session AND m.seq > @after AND m.seq <= @last AND m.attachment_count IS NOT NULL)
        ORDER BY id
        """;

    /// <summary>The files of the page's messages that carry some, in one query over the page's range (attachment ids are time-ordered: upload order).</summary>
    private static async Task AddAttachmentsAsync(DbConnection connection, long tenantId, Guid sessionId, long afterSeq, long pageEnd,
        List<TranscriptMessage> messages, List<int> carrying, CancellationToken cancellationToken)
    {
        var byMessage = new Dictionary<Guid, List<TranscriptAttachment>>();
        await using (var command = connection.Sql(AttachmentsSql).With("tenant", tenantId).With("session", sessionId).With("after", afterSeq).With("last", pageEnd))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var messageId = reader.GetId(0);
                if (!byMessage.TryGetValue(messageId, out var files)) byMessage[messageId] = files = [];
                files.Add(new TranscriptAttachment(reader.GetId(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4)));
            }
        }
        foreach (var index in carrying)
        {
            if (byMessage.TryGetValue(messages[index].Id, out var files)) messages[index] = messages[index] with { Attachments = files };
        }
    }
}
