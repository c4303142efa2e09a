using System.Data.Common;
using Livechat.Api;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;
using Livechat.Sessions;

namespace Livechat.Reading;

public abstract record ReadOutcome
{
    /// <summary><paramref name="Moved"/> is false when the marker already was at or past the message.</summary>
    public sealed record Done(ReadState State, bool Moved) : ReadOutcome;
    public sealed record SessionNotFound : ReadOutcome;
    public sealed record NotAMessageOfTheSession : ReadOutcome;
}

/// <summary>
/// Read markers: one row per session and participant, <c>(tenant_id, session_id, user_id)</c>, naming the
/// last message read and its seq. Markers only move forward, decided by the upsert's own condition, so two
/// concurrent reads (or a read racing a send) can never move one back.
/// </summary>
public sealed class ReadMarkers(WritePath writes, Database database)
{
    /// <summary>
    /// Moves a marker to a message of the session unless it already is at or past it: forward only, decided by
    /// the upsert itself. The message's seq is read with it, so a planned send (whose seq the database has not
    /// assigned yet) can move its sender's marker too.
    /// </summary>
    private const string MoveSql = """
        INSERT INTO read_markers (tenant_id, session_id, user_id, last_read_seq, last_read_message_id, read_at)
        SELECT tenant_id, session_id, @user, seq, id, @now FROM chat_messages
        WHERE tenant_id = @tenant AND id = @message AND session_id = @session
        ON CONFLICT (tenant_id, session_id, user_id) DO UPDATE
            SET last_read_seq = excluded.last_read_seq, last_read_message_id = excluded.last_read_message_id, read_at = excluded.read_at
            WHERE read_markers.last_read_seq < excluded.last_read_seq
        """;

    /// <summary>
    /// Moves the user's marker to the message, in the change's transaction: deferred, so it runs with the change's
    /// other statements (one round trip before the commit). <paramref name="moved"/>, if given, hears whether the
    /// marker moved (the upsert then returns its row); the move writes nothing for a message that does not exist.
    /// </summary>
    public static void Move(ChangeScope scope, long tenantId, Guid sessionId, long userId, Guid messageId, Action<bool>? moved = null)
    {
        var command = moved is null
            ? scope.Defer(MoveSql)
            : scope.DeferQuery(MoveSql + "\nRETURNING last_read_seq", async (reader, cancellationToken) => moved(await reader.ReadAsync(cancellationToken)));
        command.With("tenant", tenantId).With("session", sessionId).With("user", userId).With("message", messageId).With("now", scope.Now);
    }

    /// <summary><c>POST /livechat/sessions/{id}/read</c>: moves the caller's marker forward and answers its state.</summary>
    public Task<ReadOutcome> ReadAsync(CurrentUser user, Guid sessionId, Guid messageId, CancellationToken cancellationToken) =>
        writes.RunAsync(scope => ReadAsync(scope, user, sessionId, messageId, cancellationToken), cancellationToken, orderKey: sessionId);

    private static async Task<Change<ReadOutcome>> ReadAsync(ChangeScope scope, CurrentUser user, Guid sessionId, Guid messageId, CancellationToken cancellationToken)
    {
        await using (var session = scope.Sql("SELECT 1 FROM chat_sessions WHERE tenant_id = @tenant AND id = @session")
            .With("tenant", user.TenantId).With("session", sessionId))
        {
            if (await session.ExecuteScalarAsync(cancellationToken) is null) return Change.Of<ReadOutcome>(new ReadOutcome.SessionNotFound());
        }
        bool onNote;
        // A tenant user cannot mark a note read: it is not one of the messages it reads.
        await using (var message = scope.Sql($"""
            SELECT m.internal FROM chat_messages m WHERE tenant_id = @tenant AND session_id = @session AND id = @id{MessageVisibility.Condition(user.IsAgent, "m")}
            """).With("tenant", user.TenantId).With("session", sessionId).With("id", messageId))
        await using (var found = await message.ExecuteReaderAsync(cancellationToken))
        {
            if (!await found.ReadAsync(cancellationToken)) return Change.Of<ReadOutcome>(new ReadOutcome.NotAMessageOfTheSession());
            onNote = found.GetBoolean(0);
        }
        var moved = false;
        Move(scope, user.TenantId, sessionId, user.UserId, messageId, found => moved = found);
        // The outcome and the event depend on whether it moved: it runs now, not with the commit.
        await scope.RunDeferredAsync(cancellationToken);
        var state = await StateAsync(scope.Connection, scope.Transaction, user, sessionId, cancellationToken);
        return moved
            ? Change.Of<ReadOutcome>(new ReadOutcome.Done(state, true), new MessagesRead(user.TenantId, new MessagesReadPayload(sessionId, user.UserId, messageId, scope.Now), onNote))
            : Change.Of<ReadOutcome>(new ReadOutcome.Done(state, false));
    }

    /// <summary>
    /// <c>GET /livechat/sessions/{id}/read</c>: the marker of every participant (whoever has one, the session's
    /// tenant users, its agent), by user id, each with its own unread count; null when the tenant has no such session.
    /// A tenant user sees no trace of internal notes: a marker on a note shows the newest message before it, and
    /// every count leaves notes out. An agent sees each participant's count as that participant reads: without
    /// notes for the tenant users, with them for agents (<c>agents</c> knows who is one).
    /// </summary>
    public Task<IReadOnlyList<ReadState>?> EveryoneAsync(CurrentUser caller, Guid sessionId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ReadState>?>(async connection =>
        {
            var tenantId = caller.TenantId;
            var hiddenFromParticipant = MessageVisibility.HiddenAfter(isAgent: false, "s.tenant_id", "s.id", "COALESCE(r.last_read_seq, 0)");
            var hidden = caller.IsAgent
                ? $"CASE WHEN EXISTS (SELECT 1 FROM agents a WHERE a.tenant_id = s.tenant_id AND a.user_id = p.user_id) THEN 0 ELSE {hiddenFromParticipant} END"
                : hiddenFromParticipant;
            var marked = caller.IsAgent
                ? "r.last_read_message_id"
                : $"CASE WHEN r.last_read_seq IS NULL THEN NULL ELSE {MessageVisibility.NewestReadable(isAgent: false, "id", "s.tenant_id", "s.id", "r.last_read_seq")} END";
            await using (var session = connection.Sql("SELECT 1 FROM chat_sessions WHERE tenant_id = @tenant AND id = @session")
                .With("tenant", tenantId).With("session", sessionId))
            {
                if (await session.ExecuteScalarAsync(cancellationToken) is null) return null;
            }
            // The unread count is SessionRows.UnreadCountSql's arithmetic, for each participant instead of the caller.
            await using var command = connection.Sql($"""
                SELECT p.user_id, {marked}, s.last_seq - COALESCE(r.last_read_seq, 0) - {hidden}
                FROM chat_sessions s
                JOIN (SELECT user_id FROM read_markers WHERE tenant_id = @tenant AND session_id = @session
                      UNION SELECT user_id FROM session_participants WHERE tenant_id = @tenant AND session_id = @session
                      UNION SELECT agent_id FROM chat_sessions WHERE tenant_id = @tenant AND id = @session AND agent_id IS NOT NULL) p ON TRUE
                LEFT JOIN read_markers r ON r.tenant_id = s.tenant_id AND r.session_id = s.id AND r.user_id = p.user_id
                WHERE s.tenant_id = @tenant AND s.id = @session
                ORDER BY p.user_id
                """).With("tenant", tenantId).With("session", sessionId);
            var states = new List<ReadState>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                states.Add(new ReadState(sessionId, reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetId(1), reader.GetInt64(2)));
            return states;
        }, cancellationToken);

    private static async Task<ReadState> StateAsync(DbConnection connection, DbTransaction transaction, CurrentUser user, Guid sessionId, CancellationToken cancellationToken)
    {
        // The caller marked a message it reads: its own marker never names a message it cannot read.
        await using var command = connection.Sql($"""
            SELECT (SELECT last_read_message_id FROM read_markers WHERE tenant_id = @tenant AND session_id = @session AND user_id = @user),
                   {SessionRows.UnreadCountSql("s.tenant_id", "s.id", "s.last_seq", user.IsAgent)}
            FROM chat_sessions s WHERE s.tenant_id = @tenant AND s.id = @session
            """, transaction).With("tenant", user.TenantId).With("session", sessionId).With("user", user.UserId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new ReadState(sessionId, user.UserId, reader.IsDBNull(0) ? null : reader.GetId(0), reader.GetInt64(1));
    }
}
