using Livechat.Data;
using Npgsql;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Livechat.Api;

public static class TracingSetup
{
    /// <summary>The standard variable that turns tracing on (with the other <c>OTEL_*</c> variables the SDK reads).</summary>
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Traces to an OTLP collector when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and nothing otherwise: no listener,
    /// no exporter, so every span of ours is one cheap check (docs/observability.md). The SDK reads the other standard
    /// variables itself (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_SERVICE_NAME</c>, <c>OTEL_BSP_*</c>...).
    /// </summary>
    public static IServiceCollection AddLivechatTracing(this IServiceCollection services, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration[EndpointVariable])) return services;
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("livechat"))
            .WithTracing(tracing => tracing
                .AddSource(Tracing.SourceName)
                // Probes and scrapes would drown the requests that matter.
                .AddAspNetCoreInstrumentation(options => options.Filter = http =>
                    !http.Request.Path.StartsWithSegments("/health") && !http.Request.Path.StartsWithSegments("/metrics"))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter());
        return services;
    }
}
