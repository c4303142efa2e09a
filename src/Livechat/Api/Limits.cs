using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;

namespace Livechat.Api;

public sealed class LimitOptions
{
    public const string Section = "Livechat:Limits";

    /// <summary>A request that takes longer is cancelled and answered 503 (the hub and SSE streams are exempt).</summary>
    [Range(1, 600)] public int RequestTimeoutSeconds { get; set; } = 30;

    [Range(1, 1000)] public int MaxHubConnectionsPerUser { get; set; } = 20;

    [Range(1, 1000)] public int MaxSseStreamsPerUser { get; set; } = 10;
}

/// <summary>Counts long-lived connections per user in its tenant, so one user cannot hold the instance's sockets.</summary>
public sealed class ConnectionLimits(IOptions<LimitOptions> options)
{
    private readonly ConcurrentDictionary<(string Kind, long Tenant, long User), int> open = new();

    public bool TryEnterHub(CurrentUser user) => TryEnter(("hub", user.TenantId, user.UserId), options.Value.MaxHubConnectionsPerUser);

    public void ExitHub(CurrentUser user) => Exit(("hub", user.TenantId, user.UserId));

    public bool TryEnterStream(CurrentUser user) => TryEnter(("sse", user.TenantId, user.UserId), options.Value.MaxSseStreamsPerUser);

    public void ExitStream(CurrentUser user) => Exit(("sse", user.TenantId, user.UserId));

    private bool TryEnter((string, long, long) key, int max)
    {
        while (true)
        {
            var current = open.GetOrAdd(key, 0);
            if (current >= max) return false;
            if (open.TryUpdate(key, current + 1, current)) return true;
        }
    }

    private void Exit((string, long, long) key)
    {
        var left = open.AddOrUpdate(key, 0, (_, n) => Math.Max(0, n - 1));
        if (left == 0) open.TryRemove(new KeyValuePair<(string, long, long), int>(key, 0));
    }
}

public static class RequestTimeouts
{
    public static IServiceCollection AddLivechatLimits(this IServiceCollection services)
    {
        services.AddOptions<LimitOptions>().BindConfiguration(LimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ConnectionLimits>();
        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<LimitOptions>>((timeouts, limits) =>
            timeouts.DefaultPolicy = new RequestTimeoutPolicy
            {
                Timeout = TimeSpan.FromSeconds(limits.Value.RequestTimeoutSeconds),
                TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
                WriteTimeoutResponse = context =>
                {
                    context.Response.Headers.RetryAfter = "5";
                    return ApiResults.WriteErrorAsync(context, ApiError.Field(503, "request", "The request took too long and was cancelled: retry later."));
                },
            });
        return services;
    }
}
