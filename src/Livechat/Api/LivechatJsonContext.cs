using System.Text.Json;
using System.Text.Json.Serialization;
using Livechat.Agents;
using Livechat.Messages;
using Livechat.Notifications;
using Livechat.Sessions;
using Livechat.Tickets;

namespace Livechat.Api;

/// <summary>Compile-time JSON metadata for every body we write: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ApiResponse<object>))]
[JsonSerializable(typeof(ApiResponse<ChatSession>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<ChatSession>>))]
[JsonSerializable(typeof(ApiResponse<ChatMessage>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<ChatMessage>>))]
[JsonSerializable(typeof(ApiResponse<Agent>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<Agent>>))]
[JsonSerializable(typeof(ApiResponse<Ticket>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<Ticket>>))]
[JsonSerializable(typeof(ApiResponse<Notification>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<Notification>>))]
[JsonSerializable(typeof(ApiResponse<ReadAllResult>))]
[JsonSerializable(typeof(ApiResponse<HealthReport>))]
[JsonSerializable(typeof(ApiResponse<Livechat.Attachments.Attachment>))]
[JsonSerializable(typeof(Livechat.Attachments.Attachment))]
[JsonSerializable(typeof(ChatMessage))]
[JsonSerializable(typeof(ChatSession))]
[JsonSerializable(typeof(Notification))]
[JsonSerializable(typeof(Agent))]
[JsonSerializable(typeof(ApiResponse<Livechat.Reading.ReadState>))]
[JsonSerializable(typeof(ApiResponse<Livechat.Realtime.TypingPayload>))]
[JsonSerializable(typeof(Livechat.Reading.MessagesReadPayload))]
[JsonSerializable(typeof(Livechat.Realtime.TypingPayload))]
[JsonSerializable(typeof(Livechat.Realtime.BusEvent))]
[JsonSerializable(typeof(ApiResponse<Livechat.WebConsole.DevToken>))]
[JsonSerializable(typeof(ApiResponse<Livechat.WebConsole.DevTokenForm>))]
internal sealed partial class LivechatJsonContext : JsonSerializerContext;

/// <summary>The body of <c>/health/*</c>: overall status and each check's.</summary>
public sealed record HealthReport(string Status, IReadOnlyDictionary<string, string> Checks);
