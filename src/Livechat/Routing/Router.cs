using Livechat.Changes;
using Livechat.Data;
using Livechat.Sessions;

namespace Livechat.Routing;

/// <summary>
/// Who gets a chat (contract section 10), as SQL run in the caller's change. The database decides every race:
/// a slot of an agent is taken by one <c>UPDATE agents ... WHERE open_sessions &lt; capacity</c>, which locks the
/// agent's row and re-checks the capacity after any concurrent change to it, so no agent ever holds more than
/// its capacity; a queued session is assigned by one <c>UPDATE ... WHERE queued_at IS NOT NULL</c>, so each
/// queued chat goes to exactly one agent, whatever instance tries.
/// </summary>
public static class Router
{
    /// <summary>ONLINE and not past a dropped connection's grace period (Agents/Presence.Effective, in SQL).</summary>
    private const string Online = "presence = 'ONLINE' AND (offline_after IS NULL OR offline_after > @now)";
    private const string HasRoom = "open_sessions < COALESCE(max_sessions, @default_max)";

    /// <summary>The columns of <see cref="ChatSession"/> without its queue position, read by <see cref="SessionRows.Read"/>.</summary>
    public const string SessionColumns = SessionRows.ReturningColumns;

    /// <summary>True when at least one agent of the tenant is ONLINE, whatever its load.</summary>
    public static async Task<bool> AnyOnlineAsync(ChangeScope scope, long tenantId, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql($"SELECT 1 FROM agents WHERE tenant_id = @tenant AND {Online} LIMIT 1")
            .With("tenant", tenantId).With("now", scope.Now);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>
    /// Takes a slot of the best candidate: ONLINE, with room, not <paramref name="excluded"/>; <paramref name="preferred"/>
    /// first, then the fewest open sessions, then the longest since its last assignment. Null when nobody can take it.
    /// </summary>
    public static async Task<long?> TakeSlotAsync(ChangeScope scope, long tenantId, long? preferred, long? excluded, int defaultMax, CancellationToken cancellationToken)
    {
        // A concurrent change may fill the chosen agent between the pick and the take; the take then fails and
        // the pick runs again on what is committed now. Each round removes a candidate, so this ends.
        for (var round = 0; round < 50; round++)
        {
            await using var take = scope.Sql($"""
                UPDATE agents SET open_sessions = open_sessions + 1, last_assigned_at = @now
                WHERE tenant_id = @tenant AND {HasRoom} AND user_id = (
                    SELECT user_id FROM agents
                    WHERE tenant_id = @tenant AND {Online} AND {HasRoom} AND user_id <> @excluded
                    ORDER BY CASE WHEN user_id = @preferred THEN 0 ELSE 1 END, open_sessions, last_assigned_at NULLS FIRST, user_id
                    LIMIT 1)
                RETURNING user_id
                """).With("tenant", tenantId).With("now", scope.Now).With("default_max", defaultMax)
                .With("excluded", excluded ?? 0L).With("preferred", preferred ?? 0L);
            if (await take.ExecuteScalarAsync(cancellationToken) is { } agent) return Convert.ToInt64(agent, System.Globalization.CultureInfo.InvariantCulture);
            if (!await AnyCandidateAsync(scope, tenantId, excluded, defaultMax, cancellationToken)) return null;
        }
        return null;
    }

    private static async Task<bool> AnyCandidateAsync(ChangeScope scope, long tenantId, long? excluded, int defaultMax, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql($"SELECT 1 FROM agents WHERE tenant_id = @tenant AND {Online} AND {HasRoom} AND user_id <> @excluded LIMIT 1")
            .With("tenant", tenantId).With("now", scope.Now).With("default_max", defaultMax).With("excluded", excluded ?? 0L);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>Takes a slot of one named agent, if it has room (its presence is the caller's to check).</summary>
    public static async Task<bool> TakeSlotOfAsync(ChangeScope scope, long tenantId, long agentId, int defaultMax, CancellationToken cancellationToken)
    {
        await using var take = scope.Sql($"""
            UPDATE agents SET open_sessions = open_sessions + 1, last_assigned_at = @now
            WHERE tenant_id = @tenant AND user_id = @agent AND {HasRoom}
            """).With("tenant", tenantId).With("agent", agentId).With("now", scope.Now).With("default_max", defaultMax);
        return await take.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Gives back <paramref name="count"/> slots of an agent (a session closed, moved or was requeued).</summary>
    public static async Task ReleaseSlotsAsync(ChangeScope scope, long tenantId, long agentId, int count, CancellationToken cancellationToken)
    {
        await using var release = scope.Sql("""
            UPDATE agents SET open_sessions = CASE WHEN open_sessions > @count THEN open_sessions - @count ELSE 0 END
            WHERE tenant_id = @tenant AND user_id = @agent
            """).With("tenant", tenantId).With("agent", agentId).With("count", count);
        await release.ExecuteNonQueryAsync(cancellationToken);
        scope.Raise(new CapacityFreed(tenantId));
    }

    /// <summary>The agent of this tenant user's most recent session, if it had one.</summary>
    public static async Task<long?> PreviousAgentAsync(ChangeScope scope, long tenantId, long userId, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql("""
            SELECT agent_id FROM chat_sessions WHERE tenant_id = @tenant AND created_by = @user
            ORDER BY created_at DESC LIMIT 1
            """).With("tenant", tenantId).With("user", userId);
        var agent = await command.ExecuteScalarAsync(cancellationToken);
        return agent is null or DBNull ? null : Convert.ToInt64(agent, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Gives queued sessions to agents with room, oldest first (handed-back and requeued ones at the head), by
    /// the routed-start rule, while anyone can take one. A session whose only candidate is the agent that
    /// handed it back stays, and the next ones get their turn. Raises what each assignment changed.
    /// </summary>
    public static async Task AssignQueuedAsync(ChangeScope scope, long tenantId, int defaultMax, CancellationToken cancellationToken)
    {
        var assigned = false;
        var skipped = new HashSet<Guid>();
        for (var round = 0; round < 200; round++)
        {
            Guid? head = null;
            long? excluded = null, creator = null;
            await using (var next = scope.Sql("""
                SELECT id, excluded_agent_id, created_by FROM chat_sessions
                WHERE tenant_id = @tenant AND queued_at IS NOT NULL
                ORDER BY queue_rank, queued_at, id LIMIT 20
                """).With("tenant", tenantId))
            await using (var reader = await next.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var id = reader.GetId(0);
                    if (skipped.Contains(id)) continue;
                    head = id;
                    excluded = reader.GetInt64OrNull(1);
                    creator = reader.GetInt64(2);
                    break;
                }
            }
            if (head is not { } sessionId) break;

            var agent = await TakeSlotAsync(scope, tenantId, await PreviousAgentAsync(scope, tenantId, creator!.Value, cancellationToken), excluded, defaultMax, cancellationToken);
            if (agent is null)
            {
                if (excluded is null) break; // nobody has room: the rest of the queue waits too
                skipped.Add(sessionId);      // only its giver has room: the next chat gets its turn
                continue;
            }
            if (await AssignAsync(scope, tenantId, sessionId, agent.Value, fromQueue: true, cancellationToken) is null)
            {
                // Another change assigned it first: the slot goes back, and the loop looks at the queue again.
                await ReleaseSlotsAsync(scope, tenantId, agent.Value, 1, cancellationToken);
                continue;
            }
            assigned = true;
        }
        if (assigned) scope.Raise(new QueueChanged(tenantId));
    }

    /// <summary>
    /// Hands an OPEN session to <paramref name="agentId"/> (whose slot the caller took) and raises
    /// <see cref="SessionUpdated"/> and <see cref="SessionAssigned"/>. With <paramref name="fromQueue"/> only a
    /// still-queued session is taken. Null when the session was not there to take.
    /// </summary>
    public static async Task<ChatSession?> AssignAsync(ChangeScope scope, long tenantId, Guid sessionId, long agentId, bool fromQueue, CancellationToken cancellationToken)
    {
        await using var assign = scope.Sql($"""
            UPDATE chat_sessions
            SET agent_id = @agent, queue_rank = NULL, queued_at = NULL, excluded_agent_id = NULL, updated_at = @now
            WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN' {(fromQueue ? "AND queued_at IS NOT NULL" : "")}
            RETURNING {SessionColumns}
            """).With("tenant", tenantId).With("session", sessionId).With("agent", agentId).With("now", scope.Now);
        await using var reader = await assign.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        var session = SessionRows.Read(reader);
        scope.Raise(new SessionUpdated(session));
        scope.Raise(new SessionAssigned(session));
        return session;
    }

    /// <summary>
    /// Puts an OPEN session in the queue: at the head (<paramref name="head"/>: handed back or requeued) or at
    /// the end. <paramref name="excluded"/> is the agent that must not get it back.
    /// </summary>
    public static async Task QueueAsync(ChangeScope scope, long tenantId, Guid sessionId, bool head, long? excluded, CancellationToken cancellationToken)
    {
        await using var queue = scope.Sql("""
            UPDATE chat_sessions
            SET agent_id = NULL, queue_rank = @rank, queued_at = @now, excluded_agent_id = @excluded, updated_at = @now
            WHERE tenant_id = @tenant AND id = @session AND status = 'OPEN'
            """).With("tenant", tenantId).With("session", sessionId).With("rank", head ? 0 : 1).With("now", scope.Now).With("excluded", excluded);
        await queue.ExecuteNonQueryAsync(cancellationToken);
        scope.Raise(new QueueChanged(tenantId));
    }

    /// <summary>The tenant's queued sessions in order, each with its <c>queue_position</c>.</summary>
    public static async Task<List<ChatSession>> QueuedAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? transaction, long tenantId, int limit,
        CancellationToken cancellationToken)
    {
        await using var command = connection.Sql($"""
            SELECT {SessionColumns} FROM chat_sessions
            WHERE tenant_id = @tenant AND queued_at IS NOT NULL
            ORDER BY queue_rank, queued_at, id LIMIT @limit
            """, transaction).With("tenant", tenantId).With("limit", limit);
        var sessions = new List<ChatSession>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) sessions.Add(SessionRows.Read(reader) with { QueuePosition = sessions.Count + 1 });
        return sessions;
    }
}
