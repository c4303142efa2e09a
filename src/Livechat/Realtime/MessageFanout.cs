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
    /// A StackExchange.Redis configuration string (<c>host:port,password=…</c>). When set, SignalR and the SSE
    /// streams fan out through Redis, so a client on any instance gets what was posted to any other.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>Prefix of every Redis channel Livechat uses, so several deployments can share one Redis.</summary>
    [Required]
    public string ChannelPrefix { get; set; } = "livechat";

    public bool Enabled => !string.IsNullOrWhiteSpace(Configuration);
}

/// <summary>
/// The event bus: carries every realtime event to every instance, to its SSE streams and (for typing) its
/// hub connections (<see cref="LocalDelivery"/>): straight to this instance without Redis, through a Redis
/// channel with it (every instance, this one included, hears the channel). The event travels with its
/// audience, found once per event in the write's transaction (<see cref="SessionAudiences"/>). If Redis is down, the event still
/// reaches this instance, and clients elsewhere catch up from the database: pushes degrade, data does not.
/// </summary>
public sealed class MessageFanout(LocalDelivery local, SessionAudiences audiences, Data.Database database, IOptions<RedisOptions> options, ILogger<MessageFanout> logger) : IHostedService, IAsyncDisposable
{
    private ConnectionMultiplexer? redis;
    private RedisChannel channel;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled) return;
        var configuration = ConfigurationOptions.Parse(options.Value.Configuration!);
        configuration.AbortOnConnectFail = false; // start without Redis, connect when it comes
        redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        channel = RedisChannel.Literal($"{options.Value.ChannelPrefix}:events");
        await redis.GetSubscriber().SubscribeAsync(channel, (_, value) =>
        {
            // The event itself travels, order key and audience included.
            if (JsonSerializer.Deserialize<BusEvent>((string)value!, Json.Options) is { } busEvent) local.Deliver(busEvent);
        });
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
        // Found in the write's transaction; typing, which is not a write, reads it here (at most one per 2 s per typist).
        var audience = audiences.Of(domainEvent);
        if (audience is null && BusEvent.SessionOf(domainEvent) is { } sessionId)
        {
            audience = await database.ReadAsync(connection =>
                SessionAudience.LoadAsync(connection, domainEvent.TenantId, sessionId, cancellationToken), cancellationToken);
        }
        audience ??= SessionAudience.Nobody;
        if (BusEvent.From(domainEvent, audience) is not { } busEvent) return;
        if (redis is null)
        {
            local.Deliver(busEvent);
            return;
        }
        try
        {
            var json = JsonSerializer.Serialize(busEvent, Json.Options);
            await redis.GetSubscriber().PublishAsync(channel, json);
        }
        catch (RedisException e)
        {
            logger.LogWarning(e, "Redis is unavailable: a {Event} event reaches this instance's streams only.", busEvent.Name);
            local.Deliver(busEvent);
        }
    }

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

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (redis is not null) await redis.DisposeAsync();
    }
}

public sealed class RedisHealthCheck(MessageFanout fanout) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) => fanout.CheckAsync();
}
