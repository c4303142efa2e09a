using System.Threading.Channels;
using Livechat.Reading;
using Microsoft.AspNetCore.SignalR;

namespace Livechat.Realtime;

/// <summary>
/// What each instance does with an event from the bus: hands it to its per-session and per-user SSE streams,
/// sends <c>typing</c> to its own hub connections in the session except the typist's, and ends the typing
/// indicator of a user who just sent a message (the instance that holds the indicator does). Hub sends go
/// out in bus order from one loop.
/// </summary>
public sealed class LocalDelivery(SessionStreams sessionStreams, UserStreams userStreams, JoinedConnections joined, IHubContext<LivechatHub> hub,
    IServiceProvider services, ILogger<LocalDelivery> logger) : BackgroundService
{
    private readonly Channel<BusEvent> hubSends = Channel.CreateBounded<BusEvent>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    public void Deliver(BusEvent busEvent)
    {
        sessionStreams.Publish(busEvent);
        userStreams.Publish(busEvent);
        if (busEvent.Name == HubEvents.Typing) hubSends.Writer.TryWrite(busEvent);
        // Resolved when needed: the indicators publish through the publisher, which publishes through us.
        if (busEvent is { Name: HubEvents.MessageCreated, SessionId: { } session, Actor: { } sender })
            services.GetRequiredService<TypingIndicators>().MessageSent(busEvent.TenantId, session, sender);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var next in hubSends.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                var connections = joined.Of(next.TenantId, next.SessionId!.Value, next.ExcludeActor ? next.Actor : null);
                if (connections.Count > 0) await hub.Clients.Clients(connections).SendAsync(next.Name, next.Data, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "A {Event} push to hub connections failed.", next.Name);
            }
        }
    }
}
