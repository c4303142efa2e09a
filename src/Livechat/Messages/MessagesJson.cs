using System.Text.Json;
using System.Text.Json.Serialization;
using Livechat.Api;

namespace Livechat.Messages;

/// <summary>The JSON this feature writes, generated at compile time (chained into the wire options at start-up, Api/Json.cs).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ApiResponse<ChatMessage>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<ChatMessage>>))]
[JsonSerializable(typeof(ChatMessage))]
[JsonSerializable(typeof(ErasedUser))]
internal sealed partial class MessagesJson : JsonSerializerContext;
