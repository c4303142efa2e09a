using System.Threading.Channels;
using Livechat.Agents;
using Livechat.Changes;
using Livechat.Messages;
using Livechat.Notifications;
using Livechat.Sessions;
using Microsoft.AspNetCore.SignalR;

namespace Livechat.Realtime;

/// <summary>
/// Pushes committed changes to hub clients and, through the event bus (<see cref="MessageFanout"/>), to the
/// SSE streams of every instance. The write path hands it every committed event
/// (it is an <see cref="IEventSink"/>) on the writer loop, so events are queued in commit order; one loop sends them
/// in that order, so pushes for one session arrive in the session's order. A push is only an optimisation:
/// every event carries the ids a client needs to catch up from the list endpoints.
/// </summary>
public sealed class RealtimePublisher(IHubContext<LivechatHub> hub, MessageFanout fanout, ILogger<RealtimePublisher> logger) : BackgroundService, IEventSink
{
    private readonly Channel<DomainEvent> queue = Channel.CreateBounded<DomainEvent>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    public void Publish(DomainEvent domainEvent)
    {
        if (!IsPushed(domainEvent) || queue.Writer.TryWrite(domainEvent)) return;
        Api.LivechatMetrics.PushesDropped.Inc();
        logger.LogWarning("Realtime queue full: a {Event} push was dropped (clients catch up from the database).", domainEvent.GetType().Name);
    }

    private static bool IsPushed(DomainEvent domainEvent) =>
        domainEvent is MessageCreated or SessionStarted or SessionUpdated or SessionAssigned or NotificationCreated or PresenceUpdated
            or Reading.MessagesRead or Reading.TypingChanged;

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

    private async Task SendAsync(DomainEvent domainEvent, CancellationToken cancellationToken)
    {
        // Both surfaces get it even if one fails: the hub send does not wait on the event bus's fate.
        try
        {
            await SendToHubAsync(domainEvent, cancellationToken);
        }
        finally
        {
            await fanout.PublishAsync(domainEvent, cancellationToken);
        }
    }

    private async Task SendToHubAsync(DomainEvent domainEvent, CancellationToken cancellationToken)
    {
        switch (domainEvent)
        {
            case MessageCreated created:
                await hub.Clients.Group(HubGroups.Session(created.TenantId, created.Message.SessionId))
                    .SendAsync(HubEvents.MessageCreated, created.Message, cancellationToken);
                break;
            case SessionStarted started:
                await hub.Clients.Groups(HubGroups.Agents(started.TenantId), HubGroups.SessionUsers(started.TenantId, started.Session.Id))
                    .SendAsync(HubEvents.SessionUpdated, started.Session, cancellationToken);
                break;
            case SessionUpdated updated:
                await hub.Clients.Groups(HubGroups.Agents(updated.TenantId), HubGroups.SessionUsers(updated.TenantId, updated.Session.Id))
                    .SendAsync(HubEvents.SessionUpdated, updated.Session, cancellationToken);
                break;
            case SessionAssigned assigned when assigned.Session.AgentId is { } agentId:
                await hub.Clients.Group(HubGroups.User(assigned.TenantId, agentId))
                    .SendAsync(HubEvents.SessionAssigned, assigned.Session, cancellationToken);
                break;
            case NotificationCreated notification:
                await hub.Clients.Group(HubGroups.User(notification.TenantId, notification.Notification.UserId))
                    .SendAsync(HubEvents.NotificationCreated, notification.Notification, cancellationToken);
                break;
            case Reading.MessagesRead read:
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
