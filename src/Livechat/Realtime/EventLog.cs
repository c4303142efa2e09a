using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Livechat.Api;
using Livechat.Changes;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Livechat.Realtime;

public sealed class RedisOptions
{
    public const string Section = "Livechat:Redis";

    /// <summary>
    /// A StackExchange.Redis configuration string (<c>host:port,password=…</c>). When set, every event goes through
    /// Redis (the log of <see cref="EventLog"/>), so a client on any instance gets what was posted to any other.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>Prefix of every Redis channel Livechat uses, so several deployments can share one Redis.</summary>
    [Required]
    public string ChannelPrefix { get; set; } = "livechat";

    public bool Enabled => !string.IsNullOrWhiteSpace(Configuration);
}

/// <summary>
/// The event bus and the deployment's one ordered log of events (contract section 12, ADR 0024). Every pushed event
/// gets its place in the log (<see cref="EventId"/>) and reaches every instance in that order, where
/// <see cref="LocalDelivery"/> hands it to the hub connections and streams that hear it:
/// <list type="bullet">
/// <item>Without Redis, this instance is the deployment: it numbers the events itself and its
/// <see cref="RecentEvents"/> are the log.</item>
/// <item>With Redis, the log is a Redis stream. One script appends an event to it and publishes it, with the id of the
/// entry before it, on one channel that every instance (this one included) hears: entries and messages are in the
/// same order, and an instance that sees a message whose predecessor it did not get (a dropped subscription, a Redis
/// restart) reads the missing entries from the stream before going on. Typing is never logged: it is published on
/// the same channel, without an id.</item>
/// </list>
/// The event travels with its audience, found once per event in the write's transaction (<see cref="SessionAudiences"/>, <see cref="Changes.DomainEvent.SessionUsers"/>).
/// If Redis is down, the event still reaches this instance (without an id: a stream that resumes over the outage
/// starts with <c>reset</c>), and clients elsewhere catch up from the database: pushes degrade, data does not.
/// </summary>
public sealed class EventLog(LocalDelivery local, Data.Database database, IOptions<RedisOptions> options,
    IOptions<RealtimeOptions> realtime, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> wireJson, TimeProvider time, ILogger<EventLog> logger) : IHostedService, IAsyncDisposable
{
    private const int ReplayPage = 500;

    // Appends to the log, trims it (by age on Redis' own clock, which also makes the ids, then by length; "~" trims
    // whole nodes only, so it is cheap) and publishes the entry with the id of the one before it, atomically: the
    // channel's order is the log's order.
    private const string AppendScript = """
        local now = redis.call('TIME')
        local oldest = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[2])
        local id = redis.call('XADD', KEYS[1], 'MINID', '~', oldest, '*', 'e', ARGV[1])
        redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[3])
        local previous = redis.call('GET', KEYS[2])
        redis.call('SET', KEYS[2], id)
        redis.call('PUBLISH', ARGV[4], (previous or '') .. '\n' .. id .. '\n' .. ARGV[1])
        return id
        """;

    private ConnectionMultiplexer? redis;
    private RedisChannel channel;
    private RedisKey logKey;
    private RedisKey lastKey;
    private EventId? numbered; // without Redis: the last id this instance gave
    private readonly CancellationTokenSource stopping = new();
    private Task consuming = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled) return;
        var configuration = ConfigurationOptions.Parse(options.Value.Configuration!);
        configuration.AbortOnConnectFail = false; // start without Redis, connect when it comes
        redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        var prefix = options.Value.ChannelPrefix;
        channel = RedisChannel.Literal($"{prefix}:events");
        logKey = $"{prefix}:events:log";
        lastKey = $"{prefix}:events:last";
        // Subscribed before the log's end is read: a message in between is in both, and the position skips it.
        var messages = await redis.GetSubscriber().SubscribeAsync(channel);
        try
        {
            var newest = await redis.GetDatabase().StreamRangeAsync(logKey, "-", "+", 1, Order.Descending);
            local.StartAfter(newest.Length == 0 ? new EventId(0, 0) : Parse(newest[0].Id));
        }
        catch (RedisException e)
        {
            logger.LogWarning(e, "Redis is unavailable at start: streams that resume from before it comes back start with reset.");
        }
        consuming = ConsumeAsync(messages, stopping.Token);
    }

    /// <summary>Hands the channel's messages to this instance in order, filling any gap from the log first.</summary>
    private async Task ConsumeAsync(ChannelMessageQueue messages, CancellationToken cancellationToken)
    {
        EventId? last = local.Position;
        while (!cancellationToken.IsCancellationRequested)
        {
            ChannelMessage message;
            try
            {
                message = await messages.ReadAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
            {
                return;
            }
            try
            {
                var text = (string)message.Message!;
                var first = text.IndexOf('\n', StringComparison.Ordinal);
                var second = text.IndexOf('\n', first + 1);
                var json = text[(second + 1)..];
                if (first == 0)
                {
                    // Typing: not logged, delivered as it comes.
                    if (Deserialize(json) is { } typing) local.Deliver(typing);
                    continue;
                }
                var id = Parse(text[(first + 1)..second]);
                if (last is { } seen && id <= seen) continue;
                if (last is { } before && EventId.TryParse(text[..first], out var previous) && previous > before)
                {
                    logger.LogInformation("The event bus missed entries after {Last}: reading them from the log.", before);
                    foreach (var missed in await RangeAsync($"({before}", $"({id}", cancellationToken)) local.Deliver(missed);
                }
                if (Deserialize(json) is { } busEvent) local.Deliver(busEvent with { Id = id });
                last = id;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "An event from the bus could not be delivered.");
            }
        }
    }

    public async Task PublishAsync(DomainEvent domainEvent, CancellationToken cancellationToken)
    {
        try
        {
            await PublishOrThrowAsync(domainEvent, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The event bus could not carry a {Event} event (SSE clients catch up from the database).", domainEvent.GetType().Name);
        }
    }

    private async Task PublishOrThrowAsync(DomainEvent domainEvent, CancellationToken cancellationToken)
    {
        if (domainEvent is IPushedEvent pushed) await PublishOrThrowAsync(domainEvent, pushed.Push, cancellationToken);
        else if (domainEvent is IPushedEvents several)
        {
            foreach (var push in several.Pushes) await PublishOrThrowAsync(domainEvent, push, cancellationToken);
        }
    }

    private async Task PublishOrThrowAsync(DomainEvent domainEvent, Push push, CancellationToken cancellationToken)
    {
        // Read by the change that raised it, or found in the write's transaction; typing, which is not a write, reads
        // it here (at most one per 2 s per typist).
        var audience = push.SessionUsers is { } users ? new SessionAudience(users) : SessionAudience.Of(domainEvent);
        if (audience is null && BusEvent.SessionOf(push) is { } sessionId)
        {
            audience = await database.ReadAsync(connection =>
                SessionAudience.LoadAsync(connection, domainEvent.TenantId, sessionId, cancellationToken), cancellationToken);
        }
        var busEvent = BusEvent.From(domainEvent.TenantId, push, audience ?? SessionAudience.Nobody, wireJson.Wire());
        if (redis is null)
        {
            // One publisher loop calls this: the numbering needs no lock.
            if (busEvent.Replayable) busEvent = busEvent with { Id = numbered = EventId.Next(numbered, time.GetUtcNow().ToUnixTimeMilliseconds()) };
            local.Deliver(busEvent);
            return;
        }
        try
        {
            var json = JsonSerializer.Serialize(busEvent, RealtimeJson.Default.BusEvent);
            if (!busEvent.Replayable)
            {
                await redis.GetSubscriber().PublishAsync(channel, "\n\n" + json);
                return;
            }
            var settings = realtime.Value;
            var window = (long)TimeSpan.FromMinutes(settings.ReplayMinutes).TotalMilliseconds;
            await redis.GetDatabase().ScriptEvaluateAsync(AppendScript, [logKey, lastKey], [json, window, settings.ReplayMaxEvents, channel.ToString()]);
        }
        catch (RedisException e)
        {
            logger.LogWarning(e, "Redis is unavailable: a {Event} event reaches this instance's streams only.", busEvent.Name);
            local.Deliver(busEvent);
        }
    }

    /// <summary>
    /// The events after <paramref name="after"/> up to <paramref name="upTo"/>, in order, or null when
    /// <paramref name="after"/> is no event of the log (unknown, or older than the window): the client starts over.
    /// </summary>
    public async Task<IReadOnlyList<BusEvent>?> ReplayAsync(EventId after, EventId? upTo, CancellationToken cancellationToken)
    {
        if (upTo is not { } end) return null;
        if (redis is null) return local.Recent(after, end)?.Select(e => e.Event).ToList();
        var database = redis.GetDatabase();
        if ((await database.StreamRangeAsync(logKey, after.ToString(), after.ToString(), 1)).Length == 0) return null;
        if (end <= after) return [];
        return await RangeAsync($"({after}", end.ToString(), cancellationToken);
    }

    /// <summary>The log's entries in a Redis range (<c>(</c> marks an exclusive end), in pages.</summary>
    private async Task<List<BusEvent>> RangeAsync(string from, string to, CancellationToken cancellationToken)
    {
        var found = new List<BusEvent>();
        var database = redis!.GetDatabase();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await database.StreamRangeAsync(logKey, from, to, ReplayPage);
            foreach (var entry in page)
            {
                if (Deserialize((string)entry["e"]!) is { } busEvent) found.Add(busEvent with { Id = Parse(entry.Id) });
            }
            if (page.Length < ReplayPage) return found;
            from = $"({page[^1].Id}";
        }
    }

    private static EventId Parse(RedisValue id) =>
        EventId.TryParse((string?)id, out var parsed) ? parsed : throw new FormatException($"Not a stream entry id: {id}");

    private static BusEvent? Deserialize(string json) => JsonSerializer.Deserialize(json, RealtimeJson.Default.BusEvent);

    /// <summary>Ready includes Redis when it is configured.</summary>
    public async Task<HealthCheckResult> CheckAsync()
    {
        if (redis is null) return HealthCheckResult.Healthy("not configured");
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"ping {latency.TotalMilliseconds:0.0} ms");
        }
        catch (RedisException e)
        {
            return HealthCheckResult.Unhealthy("redis does not answer", e);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        await consuming;
    }

    public async ValueTask DisposeAsync()
    {
        stopping.Dispose();
        if (redis is not null) await redis.DisposeAsync();
    }
}

public sealed class RedisHealthCheck(EventLog log) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) => log.CheckAsync();
}
