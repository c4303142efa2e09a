using Livechat.Messages;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Livechat.Api;
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
/// Delivers new messages to the SSE streams of every instance: straight to this instance's
/// <see cref="SessionStreams"/> without Redis, through a Redis channel with it (every instance, this one
/// included, hears the channel). If Redis is down, the message still reaches this instance's streams, and
/// clients elsewhere catch up with <c>Last-Event-ID</c>: pushes degrade, data does not.
/// </summary>
public sealed class MessageFanout(SessionStreams streams, IOptions<RedisOptions> options, ILogger<MessageFanout> logger) : IHostedService, IAsyncDisposable
{
    private ConnectionMultiplexer? redis;
    private RedisChannel channel;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled) return;
        var configuration = ConfigurationOptions.Parse(options.Value.Configuration!);
        configuration.AbortOnConnectFail = false; // start without Redis, connect when it comes
        redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        channel = RedisChannel.Literal($"{options.Value.ChannelPrefix}:messages");
        await redis.GetSubscriber().SubscribeAsync(channel, (_, value) =>
        {
            // The event itself travels, order key included: the SSE streams of every instance skip by it.
            if (JsonSerializer.Deserialize<MessageCreated>((string)value!, Json.Options) is { } created) streams.Publish(created);
        });
    }

    public async Task PublishAsync(MessageCreated created)
    {
        if (redis is null)
        {
            streams.Publish(created);
            return;
        }
        try
        {
            var json = JsonSerializer.Serialize(created, Json.Options);
            await redis.GetSubscriber().PublishAsync(channel, json);
        }
        catch (RedisException e)
        {
            logger.LogWarning(e, "Redis is unavailable: message {MessageId} reaches this instance's streams only.", created.Message.Id);
            streams.Publish(created);
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
