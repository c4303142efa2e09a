using System.Data.Common;
using Livechat.Agents;
using Livechat.Api;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;

namespace Livechat.Sessions;

public abstract record StartOutcome
{
    public sealed record Started(ChatSession Session) : StartOutcome;
    /// <summary>A routed start of a tenant user who already has an OPEN routed session: that one, as it is.</summary>
    public sealed record AlreadyOpen(ChatSession Session) : StartOutcome;
    public sealed record UnknownAgent : StartOutcome;
    /// <summary>The agent (or, for a routed start, every agent: <paramref name="AgentId"/> null) is not available; a ticket stands for the request.</summary>
    public sealed record AgentUnavailable(long? AgentId, string Presence, Guid TicketId) : StartOutcome;
    /// <summary>The agent holds as many OPEN sessions as it may; <paramref name="SessionId"/> is its most recent one.</summary>
    public sealed record AtCapacity(Guid SessionId) : StartOutcome;
}

public abstract record RateOutcome
{
    public sealed record Rated(Rating Rating) : RateOutcome;
    public sealed record SessionNotFound : RateOutcome;
    /// <summary>The caller is not the session's customer (the tenant user who started it).</summary>
    public sealed record NotTheCustomer : RateOutcome;
    public sealed record StillOpen : RateOutcome;
    public sealed record AlreadyRated : RateOutcome;
}

public sealed class SessionStore(Database database, WritePath writes, AgentSlots slots)
{
    /// <summary>
    /// Starts a session. With <paramref name="agentId"/>: for that agent, which must be known, available (ONLINE,
    /// or the caller itself) and below its capacity. Without (a tenant user's routed start): for the routed agent,
    /// or queued when every ONLINE agent is at capacity. A refusal because nobody is available raises
    /// <see cref="ChatRefused"/>, and the ticket that stands for it (opened in the same transaction) is named.
    /// </summary>
    public async Task<Written<StartOutcome>> StartAsync(CurrentUser caller, long? agentId, IdempotencyClaim? claim, CancellationToken cancellationToken)
    {
        Task<Written<StartOutcome>> Attempt() => writes.RunAsync(
            scope => agentId is { } named ? StartWithAsync(scope, caller, named, cancellationToken) : StartRoutedAsync(scope, caller, cancellationToken),
            claim, cancellationToken);
        Written<StartOutcome> written;
        try
        {
            written = await Attempt();
        }
        catch (DbException e) when (e.IsUniqueViolation())
        {
            // A concurrent refusal opened the ticket first, or a concurrent routed start of the same user opened
            // its session first (the violation comes once the winner committed): running again reuses it.
            written = await Attempt();
        }
        if (written is Written<StartOutcome>.Done { Outcome: StartOutcome.AgentUnavailable refused } done)
            return done with { Outcome = refused with { TicketId = done.Events.OfType<ITicketForRefusedChat>().Single().TicketId } };
        return written;
    }

    private async Task<Change<StartOutcome>> StartWithAsync(ChangeScope scope, CurrentUser caller, long agentId, CancellationToken cancellationToken)
    {
        var presence = await Presence.OfAsync(scope, caller.TenantId, agentId, cancellationToken);
        if (presence is null) return Change.Of<StartOutcome>(new StartOutcome.UnknownAgent());
        var isSelf = caller.IsAgent && caller.UserId == agentId;
        if (!isSelf && presence != Presence.Online)
            return Change.Of<StartOutcome>(new StartOutcome.AgentUnavailable(agentId, presence, Guid.Empty), new ChatRefused(caller.TenantId, caller.UserId, agentId, presence));

        if (!await slots.TakeOfAsync(scope, caller.TenantId, agentId, cancellationToken))
        {
            await using var newest = scope.Sql("""
                SELECT id FROM chat_sessions WHERE tenant_id = @tenant AND agent_id = @agent AND status = 'OPEN'
                ORDER BY created_at DESC, id DESC LIMIT 1
                """).With("tenant", caller.TenantId).With("agent", agentId);
            var open = await newest.ExecuteScalarAsync(cancellationToken);
            return Change.Of<StartOutcome>(new StartOutcome.AtCapacity(open is null ? Guid.Empty : DbCommandExtensions.ToId(open)));
        }
        var session = await InsertAsync(scope, caller, agentId, routed: false, cancellationToken);
        return Change.Of<StartOutcome>(new StartOutcome.Started(session), new SessionStarted(session),
            new SessionAssigned(session) { By = caller.IsAgent ? caller.UserId : null });
    }

    private async Task<Change<StartOutcome>> StartRoutedAsync(ChangeScope scope, CurrentUser caller, CancellationToken cancellationToken)
    {
        // One open routed chat per user: starting again gives it back, so one user cannot fill the queue. The
        // unique index ux_chat_sessions_open_routed decides between concurrent starts; this read answers the loser.
        await using (var open = scope.Sql($"""
            SELECT {SessionRows.Columns} FROM chat_sessions
            WHERE tenant_id = @tenant AND created_by = @user AND status = 'OPEN' AND routed
            """).With("tenant", caller.TenantId).With("user", caller.UserId))
        await using (var reader = await open.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken)) return Change.Of<StartOutcome>(new StartOutcome.AlreadyOpen(SessionRows.Read(reader)));
        }
        if (!await slots.AnyOnlineAsync(scope, caller.TenantId, cancellationToken))
            return Change.Of<StartOutcome>(new StartOutcome.AgentUnavailable(null, Presence.Offline, Guid.Empty),
                new ChatRefused(caller.TenantId, caller.UserId, null, Presence.Offline));
        var previous = await SessionRows.PreviousAgentAsync(scope, caller.TenantId, caller.UserId, cancellationToken);
        if (await slots.TakeAsync(scope, caller.TenantId, previous, null, cancellationToken) is { } agentId)
        {
            var assigned = await InsertAsync(scope, caller, agentId, routed: true, cancellationToken);
            return Change.Of<StartOutcome>(new StartOutcome.Started(assigned), new SessionStarted(assigned), new SessionAssigned(assigned));
        }
        // Everyone ONLINE is at capacity: the chat waits at the end of the queue (nobody else's position moves).
        var queued = await InsertAsync(scope, caller, null, routed: true, cancellationToken);
        await using (var position = scope.Sql("""
            SELECT COUNT(*) FROM chat_sessions WHERE tenant_id = @tenant AND queued_at IS NOT NULL
            """).With("tenant", caller.TenantId))
        {
            queued = queued with { QueuePosition = Convert.ToInt32(await position.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) };
        }
        return Change.Of<StartOutcome>(new StartOutcome.Started(queued), new SessionStarted(queued));
    }

    /// <summary>
    /// Inserts an OPEN session for <paramref name="agentId"/>, or queued (at the end) without one; <paramref name="routed"/>
    /// for a tenant user's start without agent_id (one open per user).
    /// </summary>
    private static async Task<ChatSession> InsertAsync(ChangeScope scope, CurrentUser caller, long? agentId, bool routed, CancellationToken cancellationToken)
    {
        ChatSession session;
        await using (var insert = scope.Sql($"""
            INSERT INTO chat_sessions (tenant_id, id, agent_id, status, created_by, customer_id, last_seq, created_at, updated_at, queue_rank, queued_at, routed)
            VALUES (@tenant, @id, @agent, 'OPEN', @creator, @customer, 0, @now, @now, @rank, @queued_at, @routed)
            RETURNING {SessionRows.ReturningColumns}
            """)
            .With("tenant", caller.TenantId).With("id", Guid.CreateVersion7(scope.Now)).With("agent", agentId).With("creator", caller.UserId)
            .With("customer", caller.IsAgent ? null : (long?)caller.UserId).With("now", scope.Now)
            .With("rank", agentId is null ? 1 : (int?)null).With("queued_at", agentId is null ? scope.Now : (DateTimeOffset?)null)
            .With("routed", routed))
        await using (var reader = await insert.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            session = SessionRows.Read(reader);
        }
        if (!caller.IsAgent) await AddParticipantAsync(scope, caller, session.Id, cancellationToken);
        return session;
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
            await using var command = connection.Sql($"SELECT {SessionRows.Columns} FROM chat_sessions WHERE tenant_id = @tenant AND id = @id")
                .With("tenant", tenantId).With("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? SessionRows.Read(reader) : null;
        }, cancellationToken);

    /// <summary>One session with the caller's <c>unread_count</c> and its <c>last_message</c>.</summary>
    public Task<ChatSession?> FindForAsync(CurrentUser caller, Guid id, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {CallerColumns(caller)} FROM chat_sessions WHERE tenant_id = @tenant AND id = @id")
                .With("tenant", caller.TenantId).With("id", id).With("user", caller.UserId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadForCaller(reader) : null;
        }, cancellationToken);

    /// <summary>
    /// Newest first, each with the caller's <c>unread_count</c> and its <c>last_message</c>, in the page's one
    /// query; <see cref="PageRequest.Cursor"/> must be a session of the tenant (else null).
    /// </summary>
    public Task<Page<ChatSession>?> ListAsync(CurrentUser caller, SessionFilter filter, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => NewestFirst.PageAsync(connection, "chat_sessions", CallerColumns(caller), "tenant_id = @tenant", filter.Sql,
            command => filter.Bind(command.With("tenant", caller.TenantId).With("user", caller.UserId)),
            page, ReadForCaller, s => s.Id, cancellationToken), cancellationToken);

    /// <summary>
    /// <see cref="SessionRows.Columns"/>, the caller's (<c>@user</c>) unread count (arithmetic on seq, see SessionRows.UnreadCountSql), and
    /// the newest message: correlated subqueries on the messages' primary key <c>(tenant_id, session_id, seq)</c>,
    /// the newest being the one at the session's <c>last_seq</c> (a point lookup per column), so a page costs one
    /// query whatever its size and however many messages are unread.
    /// </summary>
    /// <remarks>A tenant user's newest message is the newest it reads (<see cref="MessageVisibility"/>): the one at
    /// <c>last_seq</c> unless that is an internal note.</remarks>
    private static string CallerColumns(CurrentUser caller) => caller.IsAgent ? AgentColumns : TenantUserColumns;

    // First: the two lists below are built from it when the class is initialised, in the order written.
    private static readonly string[] LastMessageColumns = ["id", "sender_id", "message", "created_at", "client_message_id", "internal", "sender_name", "deleted"];

    private static readonly string AgentColumns = ColumnsFor(isAgent: true);

    private static readonly string TenantUserColumns = ColumnsFor(isAgent: false);

    private static string ColumnsFor(bool isAgent)
    {
        var newest = isAgent
            ? "chat_sessions.last_seq"
            : MessageVisibility.NewestReadable(isAgent, "seq", "chat_sessions.tenant_id", "chat_sessions.id", "chat_sessions.last_seq");
        return $"""
            {SessionRows.Columns},
            {SessionRows.UnreadCountSql("chat_sessions.tenant_id", "chat_sessions.id", "chat_sessions.last_seq", isAgent)} AS unread_count,
            {string.Join(",\n", LastMessageColumns.Select(column =>
                $"(SELECT l.{column} FROM chat_messages l WHERE l.tenant_id = chat_sessions.tenant_id AND l.session_id = chat_sessions.id AND l.seq = {newest}) AS last_{column}"))}
            """;
    }

    private static ChatSession ReadForCaller(DbDataReader reader)
    {
        // By name: the caller's columns follow SessionRows.Columns, whatever that list holds.
        var unread = reader.GetOrdinal("unread_count");
        var last = reader.GetOrdinal("last_id");
        return SessionRows.Read(reader) with
        {
            UnreadCount = reader.GetInt64(unread),
            LastMessage = reader.IsDBNull(last) ? null
                : new Messages.ChatMessage(reader.GetId(last), reader.GetId(0), reader.GetInt64(last + 1), reader.GetString(last + 2), reader.GetTime(last + 3))
                    {
                        ClientMessageId = reader.IsDBNull(last + 4) ? null : reader.GetString(last + 4),
                        Internal = reader.GetBoolean(last + 5),
                        SenderName = reader.IsDBNull(last + 6) ? null : reader.GetString(last + 6),
                        Deleted = reader.GetBoolean(last + 7),
                    },
        };
    }

    /// <summary>
    /// Closes a session; closing a closed one changes nothing. Null when the tenant has no such session. The
    /// agent's slot is freed in the same transaction, and with it the oldest queued chat may be assigned.
    /// </summary>
    public Task<(ChatSession Session, bool Changed)?> CloseAsync(long tenantId, Guid id, CancellationToken cancellationToken) =>
        writes.RunAsync<(ChatSession Session, bool Changed)?>(async scope =>
        {
            ChatSession? closed = null;
            await using (var close = scope.Sql($"""
                UPDATE chat_sessions SET status = 'CLOSED', updated_at = @now, queue_rank = NULL, queued_at = NULL, excluded_agent_id = NULL
                WHERE tenant_id = @tenant AND id = @id AND status = 'OPEN'
                RETURNING {SessionRows.ReturningColumns}
                """).With("tenant", tenantId).With("id", id).With("now", scope.Now))
            await using (var reader = await close.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken)) closed = SessionRows.Read(reader);
            }
            if (closed is not null)
            {
                scope.Raise(new SessionUpdated(closed));
                if (closed.AgentId is { } agent) await AgentSlots.ReleaseAsync(scope, tenantId, agent, 1, cancellationToken);
                else scope.Raise(new QueueChanged(tenantId)); // an OPEN session without an agent was queued: those behind it moved up
                return Change.Of<(ChatSession, bool)?>((closed, true));
            }
            return Change.Of<(ChatSession, bool)?>(await SessionRows.FindAsync(scope, tenantId, id, cancellationToken) is { } existing ? (existing, false) : null);
        }, cancellationToken, orderKey: id);

    /// <summary>
    /// The customer's rating of its closed session (contract section 20). One conditional UPDATE decides: only
    /// the session's creator, only a tenant user, only CLOSED, only while unrated; two concurrent ratings both
    /// try it, and the row (its lock on PostgreSQL, the one writer on SQLite) lets exactly one change it. When
    /// it changes nothing, the row says why. The session's <c>updated_at</c> stays: it tells status and agent changes.
    /// </summary>
    public Task<Written<RateOutcome>> RateAsync(CurrentUser caller, Guid id, int score, string? comment, IdempotencyClaim? claim,
        CancellationToken cancellationToken) =>
        writes.RunAsync<RateOutcome>(async scope =>
        {
            if (!caller.IsAgent)
            {
                await using var rate = scope.Sql($"""
                    UPDATE chat_sessions SET rating_score = @score, rating_comment = @comment, rated_at = @now
                    WHERE tenant_id = @tenant AND id = @id AND created_by = @user AND status = 'CLOSED' AND rating_score IS NULL
                    RETURNING {SessionRows.ReturningColumns}
                    """).With("tenant", caller.TenantId).With("id", id).With("user", caller.UserId).With("score", score)
                    .With("comment", comment).With("now", scope.Now);
                await using var reader = await rate.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken) && SessionRows.Read(reader).Rating is { } rating)
                    return Change.Of<RateOutcome>(new RateOutcome.Rated(rating), new SessionRated(caller.TenantId, rating));
            }
            await using var find = scope.Sql("SELECT created_by, status FROM chat_sessions WHERE tenant_id = @tenant AND id = @id")
                .With("tenant", caller.TenantId).With("id", id);
            await using var row = await find.ExecuteReaderAsync(cancellationToken);
            if (!await row.ReadAsync(cancellationToken)) return Change.Of<RateOutcome>(new RateOutcome.SessionNotFound());
            if (caller.IsAgent || row.GetInt64(0) != caller.UserId) return Change.Of<RateOutcome>(new RateOutcome.NotTheCustomer());
            return Change.Of<RateOutcome>(row.GetString(1) == SessionStatus.Open ? new RateOutcome.StillOpen() : new RateOutcome.AlreadyRated());
        }, claim, cancellationToken, orderKey: id);
}
