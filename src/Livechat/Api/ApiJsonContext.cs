using System.Text.Json;
using System.Text.Json.Serialization;

namespace Livechat.Api;

/// <summary>
/// Compile-time JSON metadata for the bodies the Api itself writes (errors, health); every feature brings its own
/// context for its shapes (e.g. Messages/MessagesJson.cs), chained at start-up (<see cref="Json.AddJsonTypes"/>).
/// No reflection on the hot path.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ApiResponse<object>))]
[JsonSerializable(typeof(ApiResponse<HealthReport>))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>The body of <c>/health/*</c>: overall status and each check's.</summary>
public sealed record HealthReport(string Status, IReadOnlyDictionary<string, string> Checks);
