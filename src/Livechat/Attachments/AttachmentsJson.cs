using Livechat.Messages;
using System.Text.Json;
using System.Text.Json.Serialization;
using Livechat.Api;

namespace Livechat.Attachments;

/// <summary>The JSON this feature writes, generated at compile time (chained into the wire options at start-up, Api/Json.cs).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ApiResponse<Attachment>))]
[JsonSerializable(typeof(Attachment))]
internal sealed partial class AttachmentsJson : JsonSerializerContext;
