using System.Diagnostics;
using System.Threading.Channels;
using Livechat.Changes;

namespace Livechat.Realtime;

/// <summary>
/// Pushes committed changes, through the ordered log of events (<see cref="EventLog"/>), to the hub clients and
/// SSE streams of every instance. The write path hands it every committed event
/// (it is an <see cref="IEventSink"/>) on the writer loop, so events are queued in commit order; one loop sends them
/// in that order, so pushes for one session arrive in the session's order. A push is only an optimisation:
/// every event carries the ids a client needs to catch up from the list endpoints.
/// </summary>
public sealed class RealtimePublisher(EventLog log, ILogger<RealtimePublisher> logger) : BackgroundService, IEventSink
{
    // Each event with the span of the write batch that committed it (when traced): its publish span is that one's child.
    private readonly Channel<(DomainEvent Event, ActivityContext Batch)> queue = Channel.CreateBounded<(DomainEvent, ActivityContext)>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    public void Publish(DomainEvent domainEvent)
    {
        if (!IsPushed(domainEvent) || queue.Writer.TryWrite((domainEvent, Activity.Current?.Context ?? default))) return;
        Api.LivechatMetrics.PushesDropped.Inc();
        logger.LogWarning("Realtime queue full: a {Event} push was dropped (clients catch up from the database).", domainEvent.GetType().Name);
    }

    private static bool IsPushed(DomainEvent domainEvent) => domainEvent is IPushedEvent or IPushedEvents;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (next, batch) in queue.Reader.ReadAllAsync(stoppingToken))
        {
            using var span = batch == default ? null : Data.Tracing.Source.StartActivity("publish", ActivityKind.Producer, batch);
            span?.SetTag("livechat.event", next.GetType().Name);
            span?.SetTag(Data.Tracing.TenantId, next.TenantId);
            try
            {
                await SendAsync(next, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                span?.SetStatus(ActivityStatusCode.Error);
                logger.LogWarning(e, "A {Event} push failed (clients catch up from the database).", next.GetType().Name);
            }
        }
    }

    // Hub connections, SSE streams, this instance and the others: all through the one ordered log.
    private Task SendAsync(DomainEvent domainEvent, CancellationToken cancellationToken) => log.PublishAsync(domainEvent, cancellationToken);
}
