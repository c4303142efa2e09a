using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Livechat.Messages;

public static class MessagesApi
{
    public static RouteGroupBuilder MapMessages(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat/sessions/{id}/messages").WithTags("Messages").RequireTenant();

        group.MapPost("/", SendAsync)
            .WithSummary("Send a message to an open session; sender_id is the caller. An agent's {\"internal\": true} makes it a note only agents read.");
        group.MapGet("/", ListAsync)
            .WithSummary("A page of the session's messages in ascending order: limit (1..100, required), cursor, direction=forward|backward.")
            .WithPageQuery(defaultLimit: null);
        return group;
    }

    // Results takes at most six: the rarer answers (a client_message_id taken, an Idempotency-Key's recorded answer) share the last.
    private static async Task<Results<CreatedEnvelope<ChatMessage>, BadRequestError, ForbiddenError, NotFoundError, ConflictError,
        Results<UnprocessableError, EmptyHttpResult>>> SendAsync(
        string id, JsonBody<SendMessageRequest> body, HttpRequest request, CurrentUser user, MessageStore messages, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        var (attachmentIds, idsError) = AttachmentIdsOf(body.RootElement);
        if (idsError is not null) return idsError;
        var text = body.GetString("message");
        var messageGiven = body.RootElement.TryGetProperty("message", out var messageElement) && messageElement.ValueKind != JsonValueKind.Null;
        // With attachments the text may be empty or absent (the store then keeps the files' names as the text); without, it is required.
        if (text is null && (messageGiven || attachmentIds.Count == 0))
            return ApiError.BadRequest("message", "message is required and must be a string of valid Unicode text.");
        if (attachmentIds.Count > 0 && string.IsNullOrWhiteSpace(text)) text = null;
        string? clientMessageId = null;
        if (body.RootElement.TryGetProperty("client_message_id", out var clientId) && clientId.ValueKind != JsonValueKind.Null)
        {
            clientMessageId = body.GetString("client_message_id");
            if (clientMessageId is null || !MessageRules.IsValidClientMessageId(clientMessageId))
                return ApiError.BadRequest("client_message_id", "client_message_id must be 1 to 100 printable ASCII characters.");
        }
        var isInternal = false;
        if (body.RootElement.TryGetProperty("internal", out var flag) && flag.ValueKind != JsonValueKind.Null)
        {
            if (flag.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return ApiError.BadRequest("internal", "internal must be true or false.");
            isInternal = flag.ValueKind == JsonValueKind.True;
            if (isInternal && !user.IsAgent) return ApiError.Forbidden("internal", "Only support agents write internal notes.");
        }
        if (text is not null && MessageRules.Problem(text) is { } problem) return ApiError.BadRequest("message", problem);

        var written = await messages.SendAsync(user, sessionId, text, clientMessageId, isInternal, attachmentIds, Idempotency.ClaimOf(request), cancellationToken);
        return written.OutcomeOrNull() switch
        {
            null => (Results<UnprocessableError, EmptyHttpResult>)Idempotency.AnsweredFromRecord,
            SendOutcome.Sent { Message.Internal: true } note => ApiResults.Created(note.Message, "Note saved: only agents read it."),
            SendOutcome.Sent sent => ApiResults.Created(sent.Message, "Message sent."),
            SendOutcome.Replayed replayed => Replayed(request.HttpContext, replayed.Message),
            SendOutcome.ClientIdConflict => (Results<UnprocessableError, EmptyHttpResult>)ApiError.Unprocessable("client_message_id",
                "This client_message_id belongs to a different message in this session."),
            SendOutcome.SessionNotFound => ApiError.NotFound("Session"),
            SendOutcome.SessionClosed => ApiError.Conflict("request", "The session is closed: start a new session to keep talking."),
            SendOutcome.AttachmentsRefused { Scanning: true } refused => ApiError.Conflict("attachment_ids", refused.Problem),
            SendOutcome.AttachmentsRefused refused => ApiError.BadRequest("attachment_ids", refused.Problem),
            _ => throw new InvalidOperationException("Unhandled send outcome."),
        };
    }

    private const string AttachmentIdsRule = "attachment_ids must be a list of 1 to 10 distinct attachment ids.";

    /// <summary><c>attachment_ids</c>: absent or null is none; otherwise 1 to 10 distinct ids (contract section 15).</summary>
    private static (IReadOnlyList<Guid> Ids, BadRequestError? Error) AttachmentIdsOf(JsonElement body)
    {
        if (!body.TryGetProperty("attachment_ids", out var list) || list.ValueKind == JsonValueKind.Null) return ([], null);
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() is 0 or > MessageAttachments.MaxPerMessage)
            return ([], ApiError.BadRequest("attachment_ids", AttachmentIdsRule));
        var ids = new List<Guid>();
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !RouteIds.TryParse(item.GetString()!, out var attachmentId) || ids.Contains(attachmentId))
                return ([], ApiError.BadRequest("attachment_ids", AttachmentIdsRule));
            ids.Add(attachmentId);
        }
        return (ids, null);
    }

    /// <summary>A resend with a known client_message_id: the first message again, marked as a replay.</summary>
    private static CreatedEnvelope<ChatMessage> Replayed(HttpContext context, ChatMessage message)
    {
        context.Response.Headers[IdempotencyMiddleware.ReplayedHeader] = "true";
        return ApiResults.Created(message, "Message sent.");
    }

    private static async Task<Results<OkEnvelope<IReadOnlyList<ChatMessage>>, BadRequestError, NotFoundError>> ListAsync(
        string id, HttpRequest request, CurrentUser user, MessageStore messages, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        var (page, error) = PageRequest.Parse(request, defaultLimit: null);
        if (error is not null) return error;
        return await messages.PageAsync(user, sessionId, page!, cancellationToken) switch
        {
            PageOutcome.Found found => ApiResults.Page(found.Page),
            PageOutcome.SessionNotFound => ApiError.NotFound("Session"),
            PageOutcome.UnknownCursor => ApiError.BadRequest("cursor", "cursor is not a message of this session."),
            _ => throw new InvalidOperationException("Unhandled page outcome."),
        };
    }
}
