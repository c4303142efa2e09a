using System.Threading.Channels;
using Livechat.Api;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Livechat.Realtime;

/// <summary>
/// What this instance does with each event of the log (<see cref="EventLog"/>), in log order: keeps it among
/// the <see cref="RecentEvents"/>, hands it to its per-session and per-user SSE streams, and sends it to its own hub
/// connections that hear it (<see cref="HubAudience"/>); and it tells the typing indicators of every message
/// (<see cref="MessageDelivered"/>), so the instance that holds the sender's indicator ends it.
/// <para>
/// <b>No event missed once a client is connected</b> (contract section 12). Registering a stream and delivering an
/// event take one lock, so a stream learns exactly which event was the last it did not get live
/// (<see cref="OpenUserStream"/>), and replays up to there. A hub connection is admitted before its <c>start()</c>
/// resolves but becomes known to the hub only after (SignalR answers the handshake first): its door notes the log
/// position at the connect request (<see cref="Position"/>), and when the connection opens, the events it missed
/// since are queued for it under the same lock, ahead of anything later, for the one loop that sends to the hub:
/// in order and exactly once.
/// </para>
/// </summary>
public sealed class LocalDelivery(SessionStreams sessionStreams, UserStreams userStreams, IHubContext<LivechatHub> hub,
    IOptions<RealtimeOptions> options, TimeProvider time, ILogger<LocalDelivery> logger) : BackgroundService
{
    private readonly Lock gate = new();
    private readonly RecentEvents recent = new(options.Value.ReplayMaxEvents, TimeSpan.FromMinutes(options.Value.ReplayMinutes), time);
    private EventId? delivered;

    // Who hears what is decided under the lock, with the event's delivery; one loop sends, so sends to one
    // connection stay in log order, and an event nobody on the hub hears costs no wake-up of that loop.
    private readonly Channel<HubSend> hubSends = Channel.CreateUnbounded<HubSend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HubAudience hubAudience = new();

    private sealed record HubSend(BusEvent Event, IReadOnlyList<string> Connections);

    /// <summary>A message (tenant, session, sender) reached this instance: the typing indicators end the sender's.</summary>
    public event Action<long, Guid, long>? MessageDelivered;

    /// <summary>The last replayable event this instance delivered: a client admitted now misses nothing after it.</summary>
    public EventId? Position
    {
        get
        {
            lock (gate) return delivered;
        }
    }

    /// <summary>With Redis: the log's newest entry when this instance started, so nothing before counts as missed.</summary>
    public void StartAfter(EventId? newest)
    {
        lock (gate) delivered ??= newest;
    }

    public void Deliver(BusEvent busEvent)
    {
        lock (gate)
        {
            if (busEvent.Id is { } id)
            {
                if (delivered is { } last && id <= last) return; // a gap filled from the log already brought it
                recent.Append(id, busEvent);
                delivered = id;
            }
            sessionStreams.Publish(busEvent);
            userStreams.Publish(busEvent);
            var connections = hubAudience.Of(busEvent);
            if (connections.Count > 0) hubSends.Writer.TryWrite(new HubSend(busEvent, connections));
        }
        if (busEvent is { MessageId: not null, SessionId: { } session, Actor: { } sender }) MessageDelivered?.Invoke(busEvent.TenantId, session, sender);
    }

    /// <summary>A per-user stream, live from the next event on; <c>upTo</c> is the last one it did not get live.</summary>
    public (UserStreams.Subscription Subscription, EventId? UpTo) OpenUserStream(CurrentUser user)
    {
        lock (gate) return (userStreams.Subscribe(user), delivered);
    }

    /// <summary>Events of this instance's recent past between two positions, or null when <paramref name="after"/> is not held.</summary>
    public List<(EventId Id, BusEvent Event)>? Recent(EventId after, EventId upTo)
    {
        lock (gate) return recent.Holds(after) ? recent.Between(after, upTo) : null;
    }

    /// <summary>
    /// Makes a hub connection known: from now on it gets what it hears, after the events it missed since
    /// <paramref name="admittedAt"/> (the position when its connect request came in), which are queued first.
    /// </summary>
    public void OpenHub(string connectionId, CurrentUser user, EventId? admittedAt)
    {
        lock (gate)
        {
            hubAudience.Opened(connectionId, user);
            if (delivered is not { } upTo) return;
            foreach (var (_, missed) in recent.Between(admittedAt, upTo))
            {
                if (hubAudience.Hears(connectionId, missed)) hubSends.Writer.TryWrite(new HubSend(missed, [connectionId]));
            }
        }
    }

    public void CloseHub(string connectionId)
    {
        lock (gate) hubAudience.Closed(connectionId);
    }

    /// <summary>Starts (or stops) a connection's share of a session's events: every later event reaches it.</summary>
    public void Join(string connectionId, Guid sessionId, bool joined)
    {
        lock (gate)
        {
            if (joined) hubAudience.Joined(connectionId, sessionId);
            else hubAudience.Left(connectionId, sessionId);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var send in hubSends.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await hub.Clients.Clients(send.Connections).SendAsync(send.Event.Name, send.Event.Data, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "A {Event} push to hub connections failed.", send.Event.Name);
            }
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        hubSends.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        lock (gate) recent.Dispose();
        base.Dispose();
    }
}
