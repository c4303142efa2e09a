using Livechat.Changes;
using Livechat.Data;
using Livechat.Sessions;

namespace Livechat.Tickets;

/// <summary>
/// A refused chat is never just dropped: in the refusal's own transaction it gets a support ticket. A start
/// for a named agent that is not available reuses that agent's unresolved ticket; a routed start while no
/// agent is ONLINE reuses the requesting user's (partial unique indexes keep each to one, whatever the races).
/// Otherwise a new ticket is opened. Either way <see cref="TicketOpened"/> names it, and the refusal quotes it.
/// </summary>
public sealed class TicketForRefusedChat : IChangeHandler
{
    public const string OriginNoAgentOnline = "no_agent_online";

    public async Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        if (domainEvent is not ChatRefused refused) return;
        var routed = refused.AgentId is null;
        await using (var existing = scope.Sql($"""
            SELECT {TicketStore.Columns} FROM tickets
            WHERE tenant_id = @tenant AND status IN ('open', 'in_progress')
              AND {(routed ? $"requester_id = @requester AND origin = '{OriginNoAgentOnline}'" : $"agent_id = @agent AND origin = '{TicketStore.OriginAgentOffline}'")}
            """).With("tenant", refused.TenantId).With("agent", refused.AgentId).With("requester", refused.RequesterId))
        await using (var reader = await existing.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                scope.Raise(new TicketOpened(TicketStore.Read(reader), Reused: true));
                return;
            }
        }

        string tenantName;
        await using (var tenant = scope.Sql("SELECT name FROM tenants WHERE id = @tenant").With("tenant", refused.TenantId))
            tenantName = (string)(await tenant.ExecuteScalarAsync(cancellationToken))!;

        var state = refused.Presence.ToLowerInvariant();
        var (title, description) = routed
            ? ($"Live chat request from user {refused.RequesterId} of {tenantName} while no agent was online",
               $"User {refused.RequesterId} of tenant \"{tenantName}\" (id {refused.TenantId}) asked for a live chat while no support agent was online. " +
               "No session was opened. Contact the user, then resolve this ticket; until then, further requests of this user reuse it.")
            : ($"Live chat request for agent {refused.AgentId} of {tenantName} while the agent was {state}",
               $"User {refused.RequesterId} of tenant \"{tenantName}\" (id {refused.TenantId}) asked to chat with support agent {refused.AgentId}, " +
               $"who was {state}. No session was opened. Contact the tenant, then resolve this ticket; until then, further refused requests for this agent reuse it.");
        var ticket = new Ticket(Guid.CreateVersion7(scope.Now), refused.TenantId, refused.AgentId, title, "livechat", "normal", TicketStatus.Open,
            description, scope.Now, scope.Now);
        await using var insert = scope.Sql("""
            INSERT INTO tickets (tenant_id, id, agent_id, title, category, priority, status, description, origin, requester_id, created_at, updated_at)
            VALUES (@tenant, @id, @agent, @title, @category, @priority, @status, @description, @origin, @requester, @now, @now)
            """)
            .With("tenant", ticket.TenantId).With("id", ticket.Id).With("agent", ticket.AgentId).With("title", ticket.Title)
            .With("category", ticket.Category).With("priority", ticket.Priority).With("status", ticket.Status)
            .With("description", ticket.Description).With("origin", routed ? OriginNoAgentOnline : TicketStore.OriginAgentOffline)
            .With("requester", refused.RequesterId).With("now", scope.Now);
        await insert.ExecuteNonQueryAsync(cancellationToken);
        scope.Raise(new TicketOpened(ticket, Reused: false));
    }
}
