using System.Collections.Concurrent;
using Livechat.Agents;
using Livechat.Auth;
using Microsoft.Extensions.Options;

namespace Livechat.Realtime;

/// <summary>
/// Presence from hub connections: an agent with at least one open connection is ONLINE; when its last one
/// closes it stays ONLINE for the grace period (a flaky mobile link reconnects within it) and then counts as
/// OFFLINE. The database keeps the truth (<c>offline_after</c>), so a start-session check needs no timer; the
/// timer here only announces the change with <c>presenceUpdated</c>.
/// </summary>
public sealed class AgentConnections(AgentStore agents, IOptions<PresenceOptions> options, TimeProvider time, ILogger<AgentConnections> logger)
{
    private readonly ConcurrentDictionary<(long Tenant, long User), int> open = new();

    public int OpenConnections(long tenantId, long userId) => open.TryGetValue((tenantId, userId), out var count) ? count : 0;

    public async Task ConnectedAsync(CurrentUser agent, CancellationToken cancellationToken)
    {
        var count = open.AddOrUpdate((agent.TenantId, agent.UserId), 1, (_, n) => n + 1);
        if (count == 1) await agents.ConnectedAsync(agent, cancellationToken);
    }

    public async Task DisconnectedAsync(CurrentUser agent, CancellationToken cancellationToken)
    {
        var key = (agent.TenantId, agent.UserId);
        var count = open.AddOrUpdate(key, 0, (_, n) => Math.Max(0, n - 1));
        if (count > 0) return;
        open.TryRemove(new KeyValuePair<(long, long), int>(key, 0));
        var grace = TimeSpan.FromSeconds(options.Value.GraceSeconds);
        await agents.LastConnectionClosedAsync(agent, grace, cancellationToken);
        // A connection that opened while we wrote may have been overtaken by our write: say ONLINE again.
        if (OpenConnections(agent.TenantId, agent.UserId) > 0)
        {
            await agents.ConnectedAsync(agent, cancellationToken);
            return;
        }
        _ = AnnounceOfflineAsync(agent, grace);
    }

    private async Task AnnounceOfflineAsync(CurrentUser agent, TimeSpan grace)
    {
        try
        {
            // A little past the deadline: timers may fire a hair early, and the database must agree it passed.
            await Task.Delay(grace + TimeSpan.FromMilliseconds(100), time);
            if (OpenConnections(agent.TenantId, agent.UserId) == 0) await agents.AnnounceAsync(agent, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not announce that agent {Agent} of tenant {Tenant} went offline.", agent.UserId, agent.TenantId);
        }
    }
}
