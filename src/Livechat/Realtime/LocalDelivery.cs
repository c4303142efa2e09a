using System.Threading.Channels;
using Livechat.Auth;
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
/// since are sent to it first, from the same loop that sends everything else, so in order and exactly once.
/// </para>
/// </summary>
public sealed class LocalDelivery(SessionStreams sessionStreams, UserStreams userStreams, IHubContext<LivechatHub> hub,
    IOptions<RealtimeOptions> options, TimeProvider time, ILogger<LocalDelivery> logger) : BackgroundService
{
    private readonly Lock gate = new();
    private readonly RecentEvents recent = new(options.Value.ReplayMaxEvents, TimeSpan.FromMinutes(options.Value.ReplayMinutes), time);
    private EventId? delivered;

    // One loop sends to hub connections and keeps who they are: sends to one connection stay in log order.
    private readonly Channel<HubWork> hubWork = Channel.CreateUnbounded<HubWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HubAudience hubAudience = new();

    private abstract record HubWork;
    private sealed record Send(BusEvent Event) : HubWork;
    private sealed record Open(string ConnectionId, CurrentUser User, List<(EventId Id, BusEvent Event)> Missed, TaskCompletionSource Done) : HubWork;
    private sealed record Close(string ConnectionId) : HubWork;
    private sealed record Join(string ConnectionId, Guid SessionId, bool Joined, TaskCompletionSource Done) : HubWork;

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
            hubWork.Writer.TryWrite(new Send(busEvent));
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
    /// <paramref name="admittedAt"/> (the position when its connect request came in).
    /// </summary>
    public Task OpenHubAsync(string connectionId, CurrentUser user, EventId? admittedAt)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            var missed = delivered is { } upTo ? recent.Between(admittedAt, upTo) : [];
            hubWork.Writer.TryWrite(new Open(connectionId, user, missed, done));
        }
        return done.Task;
    }

    public void CloseHub(string connectionId) => hubWork.Writer.TryWrite(new Close(connectionId));

    /// <summary>Starts (or stops) a connection's share of a session's events; done once later events reach it.</summary>
    public Task JoinAsync(string connectionId, Guid sessionId, bool joined)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hubWork.Writer.TryWrite(new Join(connectionId, sessionId, joined, done));
        return done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var work in hubWork.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                switch (work)
                {
                    case Send send:
                        var connections = hubAudience.Of(send.Event);
                        if (connections.Count > 0) await hub.Clients.Clients(connections).SendAsync(send.Event.Name, send.Event.Data, stoppingToken);
                        break;
                    case Open open:
                        hubAudience.Opened(open.ConnectionId, open.User);
                        try
                        {
                            foreach (var (_, missed) in open.Missed)
                            {
                                if (hubAudience.Hears(open.ConnectionId, missed))
                                    await hub.Clients.Client(open.ConnectionId).SendAsync(missed.Name, missed.Data, stoppingToken);
                            }
                        }
                        finally
                        {
                            open.Done.TrySetResult();
                        }
                        break;
                    case Close close:
                        hubAudience.Closed(close.ConnectionId);
                        break;
                    case Join join:
                        if (join.Joined) hubAudience.Joined(join.ConnectionId, join.SessionId);
                        else hubAudience.Left(join.ConnectionId, join.SessionId);
                        join.Done.TrySetResult();
                        break;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "A push to hub connections failed.");
            }
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        hubWork.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    /// <summary>Hands a stopped delivery's waiters their answer instead of leaving them waiting.</summary>
    public override void Dispose()
    {
        while (hubWork.Reader.TryRead(out var work))
        {
            if (work is Open open) open.Done.TrySetCanceled();
            else if (work is Join join) join.Done.TrySetCanceled();
        }
        base.Dispose();
    }
}
