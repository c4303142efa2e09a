using System.Data.Common;
using Livechat.Api;
using Livechat.Data;

namespace Livechat.Tickets;

public abstract record TicketUpdateOutcome
{
    public sealed record Updated(Ticket Ticket) : TicketUpdateOutcome;
    public sealed record NotFound : TicketUpdateOutcome;
    public sealed record UnknownAgent : TicketUpdateOutcome;
    public sealed record Conflict(Guid OpenTicketId, string Field) : TicketUpdateOutcome;
}

public sealed class TicketStore(Database database, TimeProvider time)
{
    public const string OriginAgentOffline = "agent_offline";
    internal const string Columns = "id, tenant_id, agent_id, title, category, priority, status, description, created_at, updated_at";

    public Task<Ticket?> FindAsync(long tenantId, Guid id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => FindAsync(connection, null, tenantId, id, cancellationToken), cancellationToken);

    private static async Task<Ticket?> FindAsync(DbConnection connection, DbTransaction? transaction, long tenantId, Guid id, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql($"SELECT {Columns} FROM tickets WHERE tenant_id = @tenant AND id = @id", transaction)
            .With("tenant", tenantId).With("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Newest first, like sessions; null when the cursor is not a ticket of the tenant.</summary>
    public Task<Page<Ticket>?> ListAsync(long tenantId, string? status, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => NewestFirst.PageAsync(connection, "tickets", Columns, "tenant_id = @tenant",
            status is null ? "" : "AND status = @status", command => command.With("tenant", tenantId).With("status", status),
            page, Read, t => t.Id, cancellationToken), cancellationToken);

    /// <summary>Changes status and/or assignee. <paramref name="setAgent"/> says whether <paramref name="agentId"/> was sent.</summary>
    public async Task<TicketUpdateOutcome> UpdateAsync(long tenantId, Guid id, string? status, bool setAgent, long? agentId, CancellationToken cancellationToken)
    {
        try
        {
            return await database.WriteAsync<TicketUpdateOutcome>(async (connection, transaction) =>
            {
                var ticket = await FindAsync(connection, transaction, tenantId, id, cancellationToken);
                if (ticket is null) return new TicketUpdateOutcome.NotFound();
                if (setAgent && agentId is { } agent)
                {
                    await using var known = connection.Sql("SELECT 1 FROM agents WHERE tenant_id = @tenant AND user_id = @agent", transaction)
                        .With("tenant", tenantId).With("agent", agent);
                    if (await known.ExecuteScalarAsync(cancellationToken) is null) return new TicketUpdateOutcome.UnknownAgent();
                }
                var updated = ticket with
                {
                    Status = status ?? ticket.Status,
                    AgentId = setAgent ? agentId : ticket.AgentId,
                    UpdatedAt = time.Now(),
                };
                if (updated.Status == ticket.Status && updated.AgentId == ticket.AgentId) return new TicketUpdateOutcome.Updated(ticket);
                await using var command = connection.Sql("""
                    UPDATE tickets SET status = @status, agent_id = @agent, updated_at = @now WHERE tenant_id = @tenant AND id = @id
                    """, transaction)
                    .With("status", updated.Status).With("agent", updated.AgentId).With("now", updated.UpdatedAt).With("tenant", tenantId).With("id", id);
                await command.ExecuteNonQueryAsync(cancellationToken);
                return new TicketUpdateOutcome.Updated(updated);
            }, cancellationToken);
        }
        catch (DbException e) when (e.IsUniqueViolation())
        {
            // Reopening (or reassigning) an offline ticket onto an agent that already has an unresolved one.
            var open = await database.ReadAsync(async connection =>
            {
                await using var command = connection.Sql($"""
                    SELECT t.id FROM tickets t JOIN tickets me ON me.tenant_id = t.tenant_id AND me.id = @id
                    WHERE t.tenant_id = @tenant AND t.agent_id = COALESCE(@agent, me.agent_id) AND t.origin = '{OriginAgentOffline}'
                      AND t.status IN ('open', 'in_progress') AND t.id <> @id
                    """).With("tenant", tenantId).With("id", id).With("agent", setAgent ? agentId : null);
                return await command.ExecuteScalarAsync(cancellationToken);
            }, cancellationToken);
            return new TicketUpdateOutcome.Conflict(open is null ? Guid.Empty : DbCommandExtensions.ToId(open), setAgent ? "agent_id" : "status");
        }
    }

    internal static Ticket Read(DbDataReader reader) =>
        new(reader.GetId(0), reader.GetInt64(1), reader.GetInt64OrNull(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
            reader.GetString(6), reader.GetString(7), reader.GetTime(8), reader.GetTime(9));
}
