using System.Text.Json;
using System.Text.Json.Serialization;
using Livechat.Api;

namespace Livechat.Transcripts;

/// <summary>The JSON this feature writes, generated at compile time (chained into the wire options at start-up, Api/Json.cs).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ApiResponse<Transcript>))]
[JsonSerializable(typeof(TranscriptMessage))]
internal sealed partial class TranscriptsJson : JsonSerializerContext;
