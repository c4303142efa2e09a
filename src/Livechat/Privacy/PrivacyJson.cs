using System.Text.Json;
using System.Text.Json.Serialization;
using Livechat.Api;

namespace Livechat.Privacy;

/// <summary>The JSON this feature writes, generated at compile time (chained into the wire options at start-up, Api/Json.cs).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ApiResponse<TenantSettings>))]
[JsonSerializable(typeof(ApiResponse<ErasureAccepted>))]
[JsonSerializable(typeof(ApiResponse<ErasureJob>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<AuditEntry>>))]
internal sealed partial class PrivacyJson : JsonSerializerContext;
