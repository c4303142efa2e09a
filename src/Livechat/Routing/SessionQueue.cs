using Livechat.Agents;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Sessions;

namespace Livechat.Routing;

/// <summary>
/// The queue (contract section 10), as SQL run in the caller's change: who gets a queued chat, putting a chat in
/// the queue, reading it in order. The database decides every race: an agent's slot is taken in its row
/// (<see cref="AgentSlots"/>), and a queued session is assigned by one <c>UPDATE ... WHERE queued_at IS NOT NULL</c>,
/// so each queued chat goes to exactly one agent, whatever instance tries.
/// </summary>
public static class SessionQueue
{
    /// <summary>The columns of <see cref="ChatSession"/> without its queue position, read by <see cref="SessionRows.Read"/>.</summary>
    public static readonly string SessionColumns = SessionRows.ReturningColumns;

    /// <summary>
    /// Gives queued sessions to agents with room, oldest first (handed-back and requeued ones at the head), by
    /// the routed-start rule, while anyone can take one. A session whose only candidate is the agent that
    /// handed it back stays, and the next ones get their turn. Raises what each assignment changed.
    /// </summary>
    public static async Task AssignQueuedAsync(ChangeScope scope, AgentSlots slots, long tenantId, CancellationToken cancellationToken)
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

            var agent = await slots.TakeAsync(scope, tenantId, await SessionRows.PreviousAgentAsync(scope, tenantId, creator!.Value, cancellationToken), excluded, cancellationToken);
            if (agent is null)
            {
                if (excluded is null) break; // nobody has room: the rest of the queue waits too
                skipped.Add(sessionId);      // only its giver has room: the next chat gets its turn
                continue;
            }
            if (await AssignAsync(scope, tenantId, sessionId, agent.Value, fromQueue: true, cancellationToken) is null)
            {
                // Another change assigned it first: the slot goes back, and the loop looks at the queue again.
                await AgentSlots.ReleaseAsync(scope, tenantId, agent.Value, 1, cancellationToken);
                continue;
            }
            assigned = true;
        }
        if (assigned) scope.Raise(new QueueChanged(tenantId));
    }

    /// <summary>
    /// Hands an OPEN session to <paramref name="agentId"/> (whose slot the caller took) and raises
    /// <see cref="SessionUpdated"/> and <see cref="SessionAssigned"/>. With <paramref name="fromQueue"/> only a
    /// still-queued session is taken. Null when the session was not there to take. <paramref name="by"/>: the agent who
    /// assigned it (a transfer, a claim), or null for routing.
    /// </summary>
    public static async Task<ChatSession?> AssignAsync(ChangeScope scope, long tenantId, Guid sessionId, long agentId, bool fromQueue, CancellationToken cancellationToken,
        long? by = null)
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
        scope.Raise(new SessionAssigned(session) { By = by });
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

    /// <summary>
    /// The first <paramref name="limit"/> queued sessions in order, each with its <c>queue_position</c> and the tenant users
    /// who take part in it, in one statement (a queued session has no agent: its participants are all who hear it).
    /// </summary>
    public static async Task<List<QueuedSession>> QueuedWithUsersAsync(ChangeScope scope, long tenantId, int limit, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql($"""
            SELECT {SessionColumns},
                (SELECT string_agg(CAST(p.user_id AS TEXT), ',') FROM session_participants p
                 WHERE p.tenant_id = chat_sessions.tenant_id AND p.session_id = chat_sessions.id) AS session_users
            FROM chat_sessions
            WHERE tenant_id = @tenant AND queued_at IS NOT NULL
            ORDER BY queue_rank, queued_at, id LIMIT @limit
            """).With("tenant", tenantId).With("limit", limit);
        var queued = new List<QueuedSession>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var usersColumn = reader.GetOrdinal("session_users"); // by name: after whatever SessionColumns holds
        while (await reader.ReadAsync(cancellationToken))
        {
            var users = new List<long>();
            Messages.SessionUsers.AddParticipants(reader, usersColumn, users);
            queued.Add(new QueuedSession(SessionRows.Read(reader) with { QueuePosition = queued.Count + 1 }, users));
        }
        return queued;
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
