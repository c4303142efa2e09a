using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Livechat.Api;

public static class Health
{
    public const string ReadyTag = "ready";

    /// <summary><c>/health/live</c>: the process serves requests. <c>/health/ready</c>: and its dependencies answer.</summary>
    public static void MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithTags("Health").DisableRateLimiting().ReadOnly();
        routes.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .WithTags("Health").DisableRateLimiting().ReadOnly();
    }

    /// <summary>
    /// GET and HEAD only. The health checks and metrics middlewares answer any method (TRACE, PUT, made-up
    /// ones) unless routing narrows them; then the others get the routing's 405, as an envelope.
    /// </summary>
    public static TBuilder ReadOnly<TBuilder>(this TBuilder endpoint) where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));

    private static Task WriteAsync(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report)
    {
        var body = new HealthReport(report.Status.ToString(), report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString()));
        var healthy = report.Status != HealthStatus.Unhealthy;
        return ApiResults.WriteAsync(context, healthy ? 200 : 503, healthy ? "Healthy." : "Unhealthy.", body, null,
            healthy ? null : new ApiError(503, "Unhealthy.", report.Entries.Where(e => e.Value.Status == HealthStatus.Unhealthy)
                .ToDictionary(e => e.Key, e => new[] { e.Value.Description ?? "unhealthy" })));
    }
}
