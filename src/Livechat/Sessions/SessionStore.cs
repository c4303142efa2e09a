using System.Data.Common;
using Livechat.Agents;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Tickets;

namespace Livechat.Sessions;

public abstract record StartOutcome
{
    public sealed record Started(ChatSession Session) : StartOutcome;
    public sealed record UnknownAgent : StartOutcome;
    public sealed record AgentUnavailable(string Presence, Guid TicketId) : StartOutcome;
    public sealed record AlreadyOpen(Guid SessionId) : StartOutcome;
}

public sealed class SessionStore(Database database, WritePath writes)
{
    private const string Columns = "id, tenant_id, agent_id, status, created_at, updated_at";

    /// <summary>
    /// Starts a session for <paramref name="agentId"/>: the agent must be known, available (ONLINE, or the
    /// caller itself) and without an OPEN session. A refusal for an unavailable agent raises
    /// <see cref="ChatRefused"/>, and the ticket that stands for it (opened in the same transaction) is named in
    /// the outcome.
    /// </summary>
    public async Task<Written<StartOutcome>> StartAsync(CurrentUser caller, long agentId, IdempotencyClaim? claim, CancellationToken cancellationToken)
    {
        Task<Written<StartOutcome>> Attempt() => writes.RunAsync(scope => StartAsync(scope, caller, agentId, cancellationToken), claim, cancellationToken);
        Written<StartOutcome> written;
        try
        {
            written = await Attempt();
        }
        catch (DbException e) when (e.IsUniqueViolation())
        {
            // A concurrent start (or offline ticket) won the race; running again sees its row and answers accordingly.
            written = await Attempt();
        }
        if (written is Written<StartOutcome>.Done { Outcome: StartOutcome.AgentUnavailable refused } done)
            return done with { Outcome = refused with { TicketId = done.Events.OfType<TicketOpened>().Single().Ticket.Id } };
        return written;
    }

    private async Task<Change<StartOutcome>> StartAsync(ChangeScope scope, CurrentUser caller, long agentId, CancellationToken cancellationToken)
    {
        string? presence;
        await using (var find = scope.Sql("SELECT presence, offline_after FROM agents WHERE tenant_id = @tenant AND user_id = @user")
            .With("tenant", caller.TenantId).With("user", agentId))
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            presence = await reader.ReadAsync(cancellationToken) ? Presence.Effective(reader.GetString(0), reader.GetTimeOrNull(1), scope.Now) : null;
        }
        if (presence is null) return Change.Of<StartOutcome>(new StartOutcome.UnknownAgent());
        var isSelf = caller.IsAgent && caller.UserId == agentId;
        if (!isSelf && presence != Presence.Online)
            return Change.Of<StartOutcome>(new StartOutcome.AgentUnavailable(presence, Guid.Empty), new ChatRefused(caller.TenantId, caller.UserId, agentId, presence));

        await using (var open = scope.Sql("SELECT id FROM chat_sessions WHERE tenant_id = @tenant AND agent_id = @agent AND status = 'OPEN'")
            .With("tenant", caller.TenantId).With("agent", agentId))
        {
            if (await open.ExecuteScalarAsync(cancellationToken) is { } existing)
                return Change.Of<StartOutcome>(new StartOutcome.AlreadyOpen(DbCommandExtensions.ToId(existing)));
        }

        var session = new ChatSession(Guid.CreateVersion7(scope.Now), caller.TenantId, agentId, SessionStatus.Open, scope.Now, scope.Now);
        await using (var insert = scope.Sql("""
            INSERT INTO chat_sessions (tenant_id, id, agent_id, status, created_by, last_seq, created_at, updated_at)
            VALUES (@tenant, @id, @agent, 'OPEN', @creator, 0, @now, @now)
            """)
            .With("tenant", session.TenantId).With("id", session.Id).With("agent", agentId).With("creator", caller.UserId).With("now", scope.Now))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        if (!caller.IsAgent) await AddParticipantAsync(scope, caller, session.Id, cancellationToken);
        return Change.Of<StartOutcome>(new StartOutcome.Started(session), new SessionStarted(session));
    }

    /// <summary>Remembers that a tenant user takes part in a session: it will be notified of agent replies there.</summary>
    private static async Task AddParticipantAsync(ChangeScope scope, CurrentUser user, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql("""
            INSERT INTO session_participants (tenant_id, session_id, user_id) VALUES (@tenant, @session, @user)
            ON CONFLICT DO NOTHING
            """).With("tenant", user.TenantId).With("session", sessionId).With("user", user.UserId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<ChatSession?> FindAsync(long tenantId, Guid id, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {Columns} FROM chat_sessions WHERE tenant_id = @tenant AND id = @id")
                .With("tenant", tenantId).With("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }, cancellationToken);

    /// <summary>One session with the caller's <c>unread_count</c> and its <c>last_message</c>.</summary>
    public Task<ChatSession?> FindForAsync(CurrentUser caller, Guid id, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {CallerColumns} FROM chat_sessions WHERE tenant_id = @tenant AND id = @id")
                .With("tenant", caller.TenantId).With("id", id).With("user", caller.UserId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadForCaller(reader) : null;
        }, cancellationToken);

    /// <summary>
    /// Newest first, each with the caller's <c>unread_count</c> and its <c>last_message</c>, in the page's one
    /// query; <see cref="PageRequest.Cursor"/> must be a session of the tenant (else null).
    /// </summary>
    public Task<Page<ChatSession>?> ListAsync(CurrentUser caller, string? status, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => NewestFirst.PageAsync(connection, "chat_sessions", CallerColumns, "tenant_id = @tenant",
            status is null ? "" : "AND status = @status", command => command.With("tenant", caller.TenantId).With("status", status).With("user", caller.UserId),
            page, ReadForCaller, s => s.Id, cancellationToken), cancellationToken);

    /// <summary>
    /// <see cref="Columns"/>, the caller's (<c>@user</c>) unread count (arithmetic on seq, see ReadMarkers), and
    /// the newest message: correlated subqueries on the messages' primary key <c>(tenant_id, session_id, seq)</c>,
    /// the newest being the one at the session's <c>last_seq</c> (a point lookup per column), so a page costs one
    /// query whatever its size and however many messages are unread.
    /// </summary>
    private static readonly string CallerColumns = $"""
        {Columns},
        {Reading.ReadMarkers.UnreadCountSql("chat_sessions.tenant_id", "chat_sessions.id", "chat_sessions.last_seq")} AS unread_count,
        {string.Join(",\n", new[] { "id", "sender_id", "message", "created_at", "client_message_id" }.Select(column =>
            $"(SELECT l.{column} FROM chat_messages l WHERE l.tenant_id = chat_sessions.tenant_id AND l.session_id = chat_sessions.id AND l.seq = chat_sessions.last_seq) AS last_{column}"))}
        """;

    private static ChatSession ReadForCaller(DbDataReader reader) => Read(reader) with
    {
        UnreadCount = reader.GetInt64(6),
        LastMessage = reader.IsDBNull(7) ? null
            : new Messages.ChatMessage(reader.GetId(7), reader.GetId(0), reader.GetInt64(8), reader.GetString(9), reader.GetTime(10))
                { ClientMessageId = reader.IsDBNull(11) ? null : reader.GetString(11) },
    };

    /// <summary>Closes a session; closing a closed one changes nothing. Null when the tenant has no such session.</summary>
    public Task<(ChatSession Session, bool Changed)?> CloseAsync(long tenantId, Guid id, CancellationToken cancellationToken) =>
        writes.RunAsync<(ChatSession Session, bool Changed)?>(async scope =>
        {
            await using (var close = scope.Sql($"""
                UPDATE chat_sessions SET status = 'CLOSED', updated_at = @now
                WHERE tenant_id = @tenant AND id = @id AND status = 'OPEN'
                RETURNING {Columns}
                """).With("tenant", tenantId).With("id", id).With("now", scope.Now))
            await using (var reader = await close.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    var closed = Read(reader);
                    return Change.Of<(ChatSession, bool)?>((closed, true), new SessionUpdated(closed));
                }
            }
            await using var find = scope.Sql($"SELECT {Columns} FROM chat_sessions WHERE tenant_id = @tenant AND id = @id")
                .With("tenant", tenantId).With("id", id);
            await using var existing = await find.ExecuteReaderAsync(cancellationToken);
            return Change.Of<(ChatSession, bool)?>(await existing.ReadAsync(cancellationToken) ? (Read(existing), false) : null);
        }, cancellationToken, orderKey: id);

    private static ChatSession Read(DbDataReader reader) =>
        new(reader.GetId(0), reader.GetInt64(1), reader.GetInt64OrNull(2), reader.GetString(3), reader.GetTime(4), reader.GetTime(5));
}
