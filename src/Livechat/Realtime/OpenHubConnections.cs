using System.Collections.Concurrent;
using Livechat.Api;
using Livechat.Tenants;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Livechat.Realtime;

/// <summary>
/// The hub connections of this instance, for the two times the service must close them itself:
/// <list type="bullet">
/// <item>When a tenant is deactivated: its connections were admitted while it was active, and HTTP
/// requests get 403 from then on, so every <see cref="RealtimeOptions.TenantCheckSeconds"/> the connections of
/// inactive (or removed) tenants are closed; a reconnect then meets the 403 at the door.</item>
/// <item>When the service stops (SIGTERM): each connection is aborted from the hub side and awaited, so our
/// disconnect handling runs for every one of them (the instance's presence rows are gone before the process
/// is) and the process exits promptly instead of waiting out the shutdown timeout. Clients see the
/// connection lost, which is what makes the official clients' automatic reconnect move them to another
/// instance (a clean close would read as "stop" and not reconnect). Registered at start, after SignalR's own
/// stopping hook, so it runs before it (stopping callbacks run last-registered first).</item>
/// </list>
/// </summary>
public sealed class OpenHubConnections(IHostApplicationLifetime lifetime, TenantDirectory tenants, IOptions<RealtimeOptions> options,
    TimeProvider time, ILogger<OpenHubConnections> logger) : BackgroundService
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, (HubCallerContext Context, CurrentUser User)> open = new();

    public void Opened(HubCallerContext context, CurrentUser user) => open[context.ConnectionId] = (context, user);

    public void Closed(HubCallerContext context) => open.TryRemove(context.ConnectionId, out _);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(CloseAll);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.TenantCheckSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var tenantId in open.Values.Select(c => c.User.TenantId).Distinct().ToList())
                {
                    if (await tenants.FindAsync(tenantId, stoppingToken) is { Active: true }) continue;
                    logger.LogInformation("Tenant {Tenant} is no longer active: closing its hub connections.", tenantId);
                    foreach (var (context, user) in open.Values)
                        if (user.TenantId == tenantId) context.Abort();
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Checking the tenants of open hub connections failed; it is retried at the next tick.");
            }
        }
    }

    private void CloseAll()
    {
        if (open.IsEmpty) return;
        logger.LogInformation("Stopping: closing {Count} hub connections.", open.Count);
        foreach (var (context, _) in open.Values) context.Abort();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!open.IsEmpty && waited.Elapsed < DrainTimeout) Thread.Sleep(20);
    }
}
