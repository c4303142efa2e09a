using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Livechat.Api;

public sealed class RateLimitOptions
{
    public const string Section = "Livechat:RateLimits";

    /// <summary>Sustained requests per second per user and tenant (HTTP and hub invocations are counted apart).</summary>
    [Range(1, 1_000_000)] public int UserPermitsPerSecond { get; set; } = 20;

    /// <summary>How many requests a user may make at once before the sustained rate applies.</summary>
    [Range(1, 1_000_000)] public int UserBurst { get; set; } = 100;

    [Range(1, 1_000_000)] public int TenantPermitsPerSecond { get; set; } = 500;

    [Range(1, 1_000_000)] public int TenantBurst { get; set; } = 2000;
}

/// <summary>
/// Token buckets per user (in its tenant) and per tenant, chained: a request needs a token from both, so one
/// noisy user cannot starve its colleagues and one noisy tenant cannot starve the others. Requests are
/// counted once the tenant is resolved (anonymous requests are refused before that, cheaply); health and
/// metrics are never limited.
/// </summary>
public static class RateLimits
{
    public static IServiceCollection AddLivechatRateLimits(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((limiter, limits) =>
        {
            limiter.GlobalLimiter = Create<HttpContext>(limits.Value, http => http.Features.Get<CurrentUser>());
            limiter.OnRejected = (context, _) =>
            {
                LivechatMetrics.RateLimitRejections.WithLabels("http").Inc();
                context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds(context.Lease);
                return new ValueTask(ApiResults.WriteErrorAsync(context.HttpContext, ApiError.ForStatus(StatusCodes.Status429TooManyRequests)));
            };
        });
        services.AddSingleton<HubRateLimitFilter>();
        return services;
    }

    /// <summary>The chained user and tenant buckets for any resource that can name its <see cref="CurrentUser"/>.</summary>
    public static PartitionedRateLimiter<T> Create<T>(RateLimitOptions limits, Func<T, CurrentUser?> userOf) =>
        PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<T, (long, long)>(resource => userOf(resource) is { } user
                ? RateLimitPartition.GetTokenBucketLimiter((user.TenantId, user.UserId), _ => Bucket(limits.UserPermitsPerSecond, limits.UserBurst))
                : RateLimitPartition.GetNoLimiter((0L, 0L))),
            PartitionedRateLimiter.Create<T, long>(resource => userOf(resource) is { } user
                ? RateLimitPartition.GetTokenBucketLimiter(user.TenantId, _ => Bucket(limits.TenantPermitsPerSecond, limits.TenantBurst))
                : RateLimitPartition.GetNoLimiter(0L)));

    private static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    public static string RetryAfterSeconds(RateLimitLease lease) =>
        (lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1)
            .ToString(CultureInfo.InvariantCulture);
}

/// <summary>The same buckets for hub method calls (<c>JoinSession</c>...), so a socket is no way around the limits.</summary>
public sealed class HubRateLimitFilter(IOptions<RateLimitOptions> options) : IHubFilter, IDisposable
{
    private readonly PartitionedRateLimiter<HubInvocationContext> limiter =
        RateLimits.Create<HubInvocationContext>(options.Value, invocation => invocation.Context.Items.TryGetValue("livechat.user", out var user) ? user as CurrentUser : null);

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        using var lease = limiter.AttemptAcquire(invocationContext);
        if (!lease.IsAcquired)
        {
            LivechatMetrics.RateLimitRejections.WithLabels("hub").Inc();
            throw new HubException($"Too many requests: retry in {RateLimits.RetryAfterSeconds(lease)} s.");
        }
        return await next(invocationContext);
    }

    public void Dispose() => limiter.Dispose();
}
