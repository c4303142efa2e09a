using System.Diagnostics;

namespace Livechat.Data;

/// <summary>
/// The service's own spans (docs/observability.md): what ASP.NET Core's, HttpClient's and Npgsql's instrumentation
/// do not see. Nothing listens unless <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and then <c>StartActivity</c> returns
/// null at the cost of one check: tracing off costs nothing measurable.
/// </summary>
public static class Tracing
{
    public const string SourceName = "Livechat";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>A transaction's commit, inside its batch's span (null when nothing listens).</summary>
    public static Activity? StartCommit() => Source.StartActivity("commit");

    /// <summary>Attribute names, in OpenTelemetry's dotted style.</summary>
    public const string TenantId = "livechat.tenant_id", RequestId = "livechat.request_id";
}
