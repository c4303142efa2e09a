using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace Livechat.Realtime;

/// <summary>
/// Closes hub connections in order when the service stops (SIGTERM): each is aborted from the hub side and
/// awaited, so our disconnect handling runs for every one of them (the instance's presence rows are gone
/// before the process is) and the process exits promptly instead of waiting out the shutdown timeout.
/// Clients see the connection lost, which is what makes the official clients' automatic reconnect move
/// them to another instance (a clean close would read as "stop" and not reconnect). Registered at start,
/// after SignalR's own stopping hook, so it runs before it (stopping callbacks run last-registered first).
/// </summary>
public sealed class HubShutdown(IHostApplicationLifetime lifetime, ILogger<HubShutdown> logger) : IHostedService
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, HubCallerContext> open = new();

    public void Opened(HubCallerContext context) => open[context.ConnectionId] = context;

    public void Closed(HubCallerContext context) => open.TryRemove(context.ConnectionId, out _);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(CloseAll);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void CloseAll()
    {
        if (open.IsEmpty) return;
        logger.LogInformation("Stopping: closing {Count} hub connections.", open.Count);
        foreach (var context in open.Values) context.Abort();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!open.IsEmpty && waited.Elapsed < DrainTimeout) Thread.Sleep(20);
    }
}
