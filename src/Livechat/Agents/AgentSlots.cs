using Livechat.Changes;
using Livechat.Data;
using Microsoft.Extensions.Options;

namespace Livechat.Agents;

/// <summary>An agent's capacity grew or a slot was freed: the oldest queued chats may now be assigned.</summary>
public sealed record CapacityFreed(long TenantId) : DomainEvent(TenantId), ICoalescingEvent;

public sealed class CapacityOptions
{
    // The setting was named when routing was the only reader: it keeps its name (docs/configuration.md). Not a
    // const: the architecture test's library counts a const string that looks like a namespace as a dependency.
    public static string Section => "Livechat:Routing";

    /// <summary>How many OPEN sessions an agent may hold at once until it sets its own <c>max_sessions</c>.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 50, ErrorMessage = "Livechat:Routing:DefaultMaxSessions must be between 1 and 50.")]
    public int DefaultMaxSessions { get; set; } = 1;
}

/// <summary>
/// Agents' slots (contract section 10), as SQL run in the caller's change. The database decides every race: a
/// slot is taken by one <c>UPDATE agents ... WHERE open_sessions &lt; capacity</c>, which locks the agent's row
/// and re-checks the capacity after any concurrent change to it, so no agent ever holds more than its capacity.
/// Starting a session, transferring one and assigning the queue all take and give back slots here.
/// </summary>
public sealed class AgentSlots(IOptions<CapacityOptions> options)
{
    /// <summary>ONLINE and not past a dropped connection's grace period (<see cref="Presence.Effective"/>, in SQL).</summary>
    private const string Online = "presence = 'ONLINE' AND (offline_after IS NULL OR offline_after > @now)";
    private const string HasRoom = "open_sessions < COALESCE(max_sessions, @default_max)";

    private int DefaultMax => options.Value.DefaultMaxSessions;

    /// <summary>True when at least one agent of the tenant is ONLINE, whatever its load.</summary>
    public async Task<bool> AnyOnlineAsync(ChangeScope scope, long tenantId, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql($"SELECT 1 FROM agents WHERE tenant_id = @tenant AND {Online} LIMIT 1")
            .With("tenant", tenantId).With("now", scope.Now);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>
    /// Takes a slot of the best candidate: ONLINE, with room, not <paramref name="excluded"/>; <paramref name="preferred"/>
    /// first, then the fewest open sessions, then the longest since its last assignment. Null when nobody can take it.
    /// </summary>
    public async Task<long?> TakeAsync(ChangeScope scope, long tenantId, long? preferred, long? excluded, CancellationToken cancellationToken)
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
                """).With("tenant", tenantId).With("now", scope.Now).With("default_max", DefaultMax)
                .With("excluded", excluded ?? 0L).With("preferred", preferred ?? 0L);
            if (await take.ExecuteScalarAsync(cancellationToken) is { } agent) return Convert.ToInt64(agent, System.Globalization.CultureInfo.InvariantCulture);
            if (!await AnyCandidateAsync(scope, tenantId, excluded, cancellationToken)) return null;
        }
        return null;
    }

    private async Task<bool> AnyCandidateAsync(ChangeScope scope, long tenantId, long? excluded, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql($"SELECT 1 FROM agents WHERE tenant_id = @tenant AND {Online} AND {HasRoom} AND user_id <> @excluded LIMIT 1")
            .With("tenant", tenantId).With("now", scope.Now).With("default_max", DefaultMax).With("excluded", excluded ?? 0L);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>Takes a slot of one named agent, if it has room (its presence is the caller's to check).</summary>
    public async Task<bool> TakeOfAsync(ChangeScope scope, long tenantId, long agentId, CancellationToken cancellationToken)
    {
        await using var take = scope.Sql($"""
            UPDATE agents SET open_sessions = open_sessions + 1, last_assigned_at = @now
            WHERE tenant_id = @tenant AND user_id = @agent AND {HasRoom}
            """).With("tenant", tenantId).With("agent", agentId).With("now", scope.Now).With("default_max", DefaultMax);
        return await take.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Gives back <paramref name="count"/> slots of an agent (a session closed, moved or was requeued).</summary>
    public static async Task ReleaseAsync(ChangeScope scope, long tenantId, long agentId, int count, CancellationToken cancellationToken)
    {
        await using var release = scope.Sql("""
            UPDATE agents SET open_sessions = CASE WHEN open_sessions > @count THEN open_sessions - @count ELSE 0 END
            WHERE tenant_id = @tenant AND user_id = @agent
            """).With("tenant", tenantId).With("agent", agentId).With("count", count);
        await release.ExecuteNonQueryAsync(cancellationToken);
        scope.Raise(new CapacityFreed(tenantId));
    }
}
