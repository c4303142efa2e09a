using System.Text.Json;
using System.Text.Json.Serialization;
using Livechat.Api;

namespace Livechat.Notifications;

/// <summary>The JSON this feature writes, generated at compile time (chained into the wire options at start-up, Api/Json.cs).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ApiResponse<Notification>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<Notification>>))]
[JsonSerializable(typeof(ApiResponse<ReadAllResult>))]
[JsonSerializable(typeof(Notification))]
internal sealed partial class NotificationsJson : JsonSerializerContext;
