using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;

namespace Livechat.Realtime;

/// <summary>
/// Pushes committed changes to hub clients and SSE streams. Stores call <see cref="Publish"/> from
/// <c>Database.WriteAsync</c>'s after-commit hook, so events are queued in commit order; one loop sends them
/// in that order, so pushes for one session arrive in the session's order. A push is only an optimisation:
/// every event carries the ids a client needs to catch up from the list endpoints.
/// </summary>
public sealed class RealtimePublisher(IHubContext<LivechatHub> hub, MessageFanout fanout, ILogger<RealtimePublisher> logger) : BackgroundService
{
    private readonly Channel<RealtimeEvent> queue = Channel.CreateBounded<RealtimeEvent>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    public void Publish(RealtimeEvent realtimeEvent)
    {
        if (queue.Writer.TryWrite(realtimeEvent)) return;
        Api.LivechatMetrics.PushesDropped.Inc();
        logger.LogWarning("Realtime queue full: a {Event} push was dropped (clients catch up from the database).", realtimeEvent.GetType().Name);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var next in queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await SendAsync(next, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "A {Event} push failed (clients catch up from the database).", next.GetType().Name);
            }
        }
    }

    private async Task SendAsync(RealtimeEvent realtimeEvent, CancellationToken cancellationToken)
    {
        // Both surfaces get it even if one fails: the hub send does not wait on the SSE fan-out's fate.
        try
        {
            await fanout.PublishAsync(realtimeEvent, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The SSE fan-out of a {Event} event failed.", realtimeEvent.GetType().Name);
        }
        switch (realtimeEvent)
        {
            case MessageCreated created:
                await hub.Clients.Group(HubGroups.Session(created.TenantId, created.Message.SessionId))
                    .SendAsync(HubEvents.MessageCreated, created.Message, cancellationToken);
                break;
            case SessionUpdated updated:
                await hub.Clients.Groups(HubGroups.Agents(updated.TenantId), HubGroups.SessionUsers(updated.TenantId, updated.Session.Id))
                    .SendAsync(HubEvents.SessionUpdated, updated.Session, cancellationToken);
                break;
            case NotificationCreated notification:
                await hub.Clients.Group(HubGroups.User(notification.TenantId, notification.Notification.UserId))
                    .SendAsync(HubEvents.NotificationCreated, notification.Notification, cancellationToken);
                break;
            case MessagesRead read:
                await hub.Clients.Group(HubGroups.Session(read.TenantId, read.Read.SessionId))
                    .SendAsync(HubEvents.MessagesRead, read.Read, cancellationToken);
                break;
            // TypingChanged: not a group send; every instance sends it to its own connections (LocalDelivery).
            case PresenceUpdated presence:
                await hub.Clients.Group(HubGroups.Agents(presence.TenantId))
                    .SendAsync(HubEvents.PresenceUpdated, presence.Agent, cancellationToken);
                break;
        }
    }
}
