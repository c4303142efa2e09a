using System.Collections.Concurrent;
using Livechat.Agents;
using Livechat.Api;
using Microsoft.Extensions.Options;

namespace Livechat.Realtime;

/// <summary>
/// Presence from hub connections: an agent with at least one open connection on any instance is ONLINE;
/// when its last one closes it stays ONLINE for the grace period (a flaky mobile link reconnects within it)
/// and then counts as OFFLINE. This instance counts its own connections in memory and keeps one row per agent
/// in <c>agent_connections</c>, refreshed by a heartbeat, so other instances see them and a crashed
/// instance's rows expire. The database keeps the truth (<c>offline_after</c>), so a start-session check needs
/// no timer; the timers here only announce changes with <c>presenceUpdated</c>.
/// </summary>
public sealed class AgentConnections(AgentStore agents, RealtimePublisher publisher, IOptions<PresenceOptions> options, TimeProvider time, ILogger<AgentConnections> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<(long Tenant, long User), int> open = new();

    /// <summary>This process, as named in <c>agent_connections</c>.</summary>
    public string InstanceId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    private TimeSpan Heartbeat => TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);

    /// <summary>Rows not refreshed for this long belong to an instance that is gone.</summary>
    private TimeSpan HeartbeatTimeout => 4 * Heartbeat;

    public int OpenConnections(long tenantId, long userId) => open.TryGetValue((tenantId, userId), out var count) ? count : 0;

    public async Task ConnectedAsync(CurrentUser agent, CancellationToken cancellationToken)
    {
        var count = open.AddOrUpdate((agent.TenantId, agent.UserId), 1, (_, n) => n + 1);
        if (count == 1) await agents.ConnectedAsync(agent, InstanceId, count, cancellationToken);
    }

    public async Task DisconnectedAsync(CurrentUser agent, CancellationToken cancellationToken)
    {
        var key = (agent.TenantId, agent.UserId);
        var count = open.AddOrUpdate(key, 0, (_, n) => Math.Max(0, n - 1));
        if (count > 0) return;
        open.TryRemove(new KeyValuePair<(long, long), int>(key, 0));
        var grace = TimeSpan.FromSeconds(options.Value.GraceSeconds);
        var goingOffline = await agents.LastLocalConnectionClosedAsync(agent, InstanceId, grace, HeartbeatTimeout, cancellationToken);
        // A connection that opened here while we wrote may have been overtaken by our write: say ONLINE again.
        if (OpenConnections(agent.TenantId, agent.UserId) > 0)
        {
            await agents.ConnectedAsync(agent, InstanceId, OpenConnections(agent.TenantId, agent.UserId), cancellationToken);
            return;
        }
        if (goingOffline) _ = AnnounceAfterAsync(agent, grace + TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Heartbeat for this instance's rows; sweeps the rows of instances that stopped beating.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Heartbeat, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var agent in await agents.HeartbeatAsync(InstanceId, HeartbeatTimeout, stoppingToken))
                    await AnnounceAsync(agent, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Presence heartbeat failed; it is retried at the next beat.");
            }
        }
    }

    private async Task AnnounceAfterAsync(CurrentUser agent, TimeSpan delay)
    {
        try
        {
            // A little past the deadline: timers may fire a hair early, and the database must agree it passed.
            await Task.Delay(delay, time);
            if (OpenConnections(agent.TenantId, agent.UserId) == 0) await AnnounceAsync(agent, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not announce that agent {Agent} of tenant {Tenant} went offline.", agent.UserId, agent.TenantId);
        }
    }

    /// <summary>Tells the tenant's agents what <paramref name="agent"/>'s presence is now (a grace period ran out: no write to wait for).</summary>
    private async Task AnnounceAsync(CurrentUser agent, CancellationToken cancellationToken)
    {
        if (await agents.FindAsync(agent, cancellationToken) is { } current) publisher.Publish(new PresenceUpdated(current));
    }
}
