using Livechat.Agents;
using Livechat.Api;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Sessions;
using Microsoft.Extensions.Options;

namespace Livechat.Routing;

public abstract record TransferOutcome
{
    public sealed record Moved(ChatSession Session, bool Changed) : TransferOutcome;
    public sealed record SessionNotFound : TransferOutcome;
    public sealed record SessionClosed : TransferOutcome;
    /// <summary>The named agent is unknown, not ONLINE, or at capacity.</summary>
    public sealed record AgentCannotTake(string Reason) : TransferOutcome;
}

/// <summary>The desk's own writes and reads: transfer, claim, hand back, the queue, and requeueing a departed agent's chats.</summary>
public sealed class DeskStore(Database database, WritePath writes, AgentSlots slots, IOptions<RoutingOptions> options)
{
    /// <summary>The tenant's queued sessions, in order, with their positions.</summary>
    public Task<List<ChatSession>> QueueAsync(long tenantId, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => SessionQueue.QueuedAsync(connection, null, tenantId, limit, cancellationToken), cancellationToken);

    /// <summary>
    /// Moves an OPEN session, queued or assigned, to <paramref name="agentId"/> (ONLINE, below capacity; the caller
    /// itself claims a queued chat this way), or with null hands it back: routed again at once, never to the agent
    /// that gave it, else to the head of the queue.
    /// </summary>
    public Task<Written<TransferOutcome>> TransferAsync(CurrentUser caller, Guid sessionId, long? agentId, IdempotencyClaim? claim, CancellationToken cancellationToken) =>
        writes.RunAsync(scope => TransferAsync(scope, caller, sessionId, agentId, cancellationToken), claim, cancellationToken, orderKey: sessionId);

    private async Task<Change<TransferOutcome>> TransferAsync(ChangeScope scope, CurrentUser caller, Guid sessionId, long? agentId, CancellationToken cancellationToken)
    {
        // A no-op update takes the session's row lock first: concurrent transfers of one session take turns.
        long? current;
        string status;
        await using (var lockRow = scope.Sql("""
            UPDATE chat_sessions SET updated_at = updated_at WHERE tenant_id = @tenant AND id = @session
            RETURNING agent_id, status
            """).With("tenant", caller.TenantId).With("session", sessionId))
        await using (var reader = await lockRow.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return Change.Of<TransferOutcome>(new TransferOutcome.SessionNotFound());
            current = reader.GetInt64OrNull(0);
            status = reader.GetString(1);
        }
        if (status != SessionStatus.Open) return Change.Of<TransferOutcome>(new TransferOutcome.SessionClosed());

        if (agentId is { } target)
        {
            if (target == current) return Change.Of<TransferOutcome>(new TransferOutcome.Moved((await SessionRows.FindAsync(scope, caller.TenantId, sessionId, cancellationToken))!, false));
            var presence = await Presence.OfAsync(scope, caller.TenantId, target, cancellationToken);
            if (presence is null)
                return Change.Of<TransferOutcome>(new TransferOutcome.AgentCannotTake($"User {target} is not a known support agent of this tenant."));
            if (presence != Presence.Online)
                return Change.Of<TransferOutcome>(new TransferOutcome.AgentCannotTake($"Agent {target} is {presence.ToLowerInvariant()}: only an ONLINE agent can take a chat."));
            if (!await slots.TakeOfAsync(scope, caller.TenantId, target, cancellationToken))
                return Change.Of<TransferOutcome>(new TransferOutcome.AgentCannotTake($"Agent {target} is at capacity."));
            if (current is { } giver) await AgentSlots.ReleaseAsync(scope, caller.TenantId, giver, 1, cancellationToken);
            var moved = (await SessionQueue.AssignAsync(scope, caller.TenantId, sessionId, target, fromQueue: false, cancellationToken, by: caller.UserId))!;
            if (current is null) scope.Raise(new QueueChanged(caller.TenantId)); // it left the queue: those behind it moved up
            return Change.Of<TransferOutcome>(new TransferOutcome.Moved(moved, true));
        }

        // Handed back: never to the agent that gave it (its holder, or the caller handing back a queued chat).
        var excluded = current ?? caller.UserId;
        if (current is { } holder) await AgentSlots.ReleaseAsync(scope, caller.TenantId, holder, 1, cancellationToken);
        if (await slots.TakeAsync(scope, caller.TenantId, null, excluded, cancellationToken) is { } next)
        {
            var rerouted = (await SessionQueue.AssignAsync(scope, caller.TenantId, sessionId, next, fromQueue: false, cancellationToken, by: caller.UserId))!;
            if (current is null) scope.Raise(new QueueChanged(caller.TenantId));
            return Change.Of<TransferOutcome>(new TransferOutcome.Moved(rerouted, true));
        }
        await SessionQueue.QueueAsync(scope, caller.TenantId, sessionId, head: true, excluded, cancellationToken);
        var queued = (await SessionRows.FindAsync(scope, caller.TenantId, sessionId, cancellationToken))!;
        scope.Raise(new SessionUpdated(queued));
        return Change.Of<TransferOutcome>(new TransferOutcome.Moved(queued, true));
    }

    /// <summary>
    /// Agents that have counted as OFFLINE for <see cref="RoutingOptions.RequeueAfterSeconds"/> (set OFFLINE, or
    /// past the grace period of their last connection) give their OPEN sessions back to the head of the queue,
    /// oldest first; online agents with room take them at once. Returns how many sessions were requeued.
    /// </summary>
    public Task<int> RequeueDepartedAsync(CancellationToken cancellationToken) =>
        writes.RunAsync(async scope =>
        {
            var cutoff = scope.Now - TimeSpan.FromSeconds(options.Value.RequeueAfterSeconds);
            var departed = new List<(long Tenant, long Agent)>();
            await using (var find = scope.Sql("""
                SELECT tenant_id, user_id FROM agents
                WHERE open_sessions > 0
                  AND ((presence = 'OFFLINE' AND presence_changed_at <= @cutoff) OR (presence = 'ONLINE' AND offline_after <= @cutoff))
                LIMIT 100
                """).With("cutoff", cutoff))
            await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) departed.Add((reader.GetInt64(0), reader.GetInt64(1)));
            }
            var requeued = 0;
            foreach (var (tenant, agent) in departed)
            {
                // queued_at = created_at: among the chats at the head, the oldest comes first.
                var sessions = new List<ChatSession>();
                await using (var queue = scope.Sql($"""
                    UPDATE chat_sessions SET agent_id = NULL, queue_rank = 0, queued_at = created_at, excluded_agent_id = NULL, updated_at = @now
                    WHERE tenant_id = @tenant AND agent_id = @agent AND status = 'OPEN'
                    RETURNING {SessionRows.ReturningColumns}
                    """).With("tenant", tenant).With("agent", agent).With("now", scope.Now))
                await using (var reader = await queue.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken)) sessions.Add(SessionRows.Read(reader));
                }
                // The count is what this change moved: another instance that requeued some first moved the rest.
                await using (var reset = scope.Sql("UPDATE agents SET open_sessions = 0 WHERE tenant_id = @tenant AND user_id = @agent")
                    .With("tenant", tenant).With("agent", agent))
                {
                    await reset.ExecuteNonQueryAsync(cancellationToken);
                }
                requeued += sessions.Count;
                if (sessions.Count == 0) continue;
                scope.Raise(new CapacityFreed(tenant)); // someone ONLINE may take them at once
                scope.Raise(new QueueChanged(tenant));  // then every queued session hears its position
            }
            return Change.Of(requeued);
        }, cancellationToken);
}
