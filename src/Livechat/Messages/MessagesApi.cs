using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;

namespace Livechat.Messages;

public static class MessagesApi
{
    public static RouteGroupBuilder MapMessages(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat/sessions/{id}/messages").WithTags("Messages").RequireTenant();

        group.MapPost("/", SendAsync)
            .WithSummary("Send a message to an open session; sender_id is the caller.")
            .Accepts<SendMessageRequest>("application/json")
            .Produces<ApiResponse<ChatMessage>>(StatusCodes.Status201Created)
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound)
            .Produces<ApiResponse<object>>(StatusCodes.Status409Conflict);
        group.MapGet("/", ListAsync)
            .WithSummary("A page of the session's messages in ascending order: limit (1..100, required), cursor, direction=forward|backward.")
            .Produces<ApiResponse<ChatMessage[]>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<IResult> SendAsync(string id, HttpRequest request, CurrentUser user, MessageStore messages, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return ApiResults.Error(RouteIds.Malformed());
        var (body, error) = await JsonBody.ReadObjectAsync(request, cancellationToken);
        if (error is not null) return ApiResults.Error(error);
        string text;
        string? clientMessageId = null;
        using (body)
        {
            if (body!.GetString("message") is not { } message)
                return ApiResults.Error(ApiError.BadRequest("message", "message is required and must be a string of valid Unicode text."));
            text = message;
            if (body!.RootElement.TryGetProperty("client_message_id", out var clientId) && clientId.ValueKind != JsonValueKind.Null)
            {
                clientMessageId = body.GetString("client_message_id");
                if (clientMessageId is null || !MessageRules.IsValidClientMessageId(clientMessageId))
                    return ApiResults.Error(ApiError.BadRequest("client_message_id", "client_message_id must be 1 to 100 printable ASCII characters."));
            }
        }
        if (MessageRules.Problem(text) is { } problem) return ApiResults.Error(ApiError.BadRequest("message", problem));

        var written = await messages.SendAsync(user, sessionId, text, clientMessageId, Idempotency.ClaimOf(request), cancellationToken);
        return written.OutcomeOrNull() switch
        {
            null => Idempotency.AnsweredFromRecord,
            SendOutcome.Sent sent => ApiResults.Created(sent.Message, "Message sent."),
            SendOutcome.Replayed replayed => Replayed(request.HttpContext, replayed.Message),
            SendOutcome.ClientIdConflict => ApiResults.Error(ApiError.Field(StatusCodes.Status422UnprocessableEntity, "client_message_id",
                "This client_message_id belongs to a different message in this session.")),
            SendOutcome.SessionNotFound => ApiResults.Error(ApiError.NotFound("Session")),
            SendOutcome.SessionClosed => ApiResults.Error(ApiError.Conflict("request", "The session is closed: start a new session to keep talking.")),
            _ => throw new InvalidOperationException("Unhandled send outcome."),
        };
    }

    /// <summary>A resend with a known client_message_id: the first message again, marked as a replay.</summary>
    private static IResult Replayed(HttpContext context, ChatMessage message)
    {
        context.Response.Headers[IdempotencyMiddleware.ReplayedHeader] = "true";
        return ApiResults.Created(message, "Message sent.");
    }

    private static async Task<IResult> ListAsync(string id, HttpRequest request, CurrentUser user, MessageStore messages, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return ApiResults.Error(RouteIds.Malformed());
        var (page, error) = PageRequest.Parse(request, defaultLimit: null);
        if (error is not null) return ApiResults.Error(error);
        return await messages.PageAsync(user.TenantId, sessionId, page!, cancellationToken) switch
        {
            PageOutcome.Found found => ApiResults.Page(found.Page),
            PageOutcome.SessionNotFound => ApiResults.Error(ApiError.NotFound("Session")),
            PageOutcome.UnknownCursor => ApiResults.Error(ApiError.BadRequest("cursor", "cursor is not a message of this session.")),
            _ => throw new InvalidOperationException("Unhandled page outcome."),
        };
    }
}
