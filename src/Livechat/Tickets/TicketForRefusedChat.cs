using Livechat.Changes;
using Livechat.Data;
using Livechat.Sessions;

namespace Livechat.Tickets;

/// <summary>
/// A refused chat is never just dropped: in the refusal's own transaction it gets a support ticket, the
/// unresolved one for that agent if there is one (a unique index keeps it to one, whatever the races), or a new
/// one. Either way <see cref="TicketOpened"/> names it, and the refusal's answer quotes its id.
/// </summary>
public sealed class TicketForRefusedChat : IChangeHandler
{
    public async Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        if (domainEvent is not ChatRefused refused) return;
        await using (var existing = scope.Sql($"""
            SELECT {TicketStore.Columns} FROM tickets
            WHERE tenant_id = @tenant AND agent_id = @agent AND origin = '{TicketStore.OriginAgentOffline}' AND status IN ('open', 'in_progress')
            """).With("tenant", refused.TenantId).With("agent", refused.AgentId))
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
        var ticket = new Ticket(Guid.CreateVersion7(scope.Now), refused.TenantId, refused.AgentId,
            $"Live chat request for agent {refused.AgentId} of {tenantName} while the agent was {state}", "livechat", "normal", TicketStatus.Open,
            $"User {refused.RequesterId} of tenant \"{tenantName}\" (id {refused.TenantId}) asked to chat with support agent {refused.AgentId}, " +
            $"who was {state}. No session was opened. Contact the tenant, then resolve this ticket; until then, further refused requests for this agent reuse it.",
            scope.Now, scope.Now);
        await using var insert = scope.Sql($"""
            INSERT INTO tickets (tenant_id, id, agent_id, title, category, priority, status, description, origin, created_at, updated_at)
            VALUES (@tenant, @id, @agent, @title, @category, @priority, @status, @description, '{TicketStore.OriginAgentOffline}', @now, @now)
            """)
            .With("tenant", ticket.TenantId).With("id", ticket.Id).With("agent", ticket.AgentId).With("title", ticket.Title)
            .With("category", ticket.Category).With("priority", ticket.Priority).With("status", ticket.Status)
            .With("description", ticket.Description).With("now", scope.Now);
        await insert.ExecuteNonQueryAsync(cancellationToken);
        scope.Raise(new TicketOpened(ticket, Reused: false));
    }
}
