using System.Text.Json;
using System.Text.Json.Serialization;
using Livechat.Api;

namespace Livechat.Sessions;

/// <summary>The JSON this feature writes, generated at compile time (chained into the wire options at start-up, Api/Json.cs).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ApiResponse<ChatSession>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<ChatSession>>))]
[JsonSerializable(typeof(ChatSession))]
[JsonSerializable(typeof(ApiResponse<Rating>))]
[JsonSerializable(typeof(Rating))]
internal sealed partial class SessionsJson : JsonSerializerContext;
