using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Sessions;

namespace Livechat.Reading;

/// <summary>Contract section 11: read markers and typing, under a session.</summary>
public static class ReadingApi
{
    public static RouteGroupBuilder MapReading(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat/sessions/{id}").WithTags("Sessions").RequireTenant();

        group.MapPost("/read", ReadAsync)
            .WithSummary("Move the caller's read marker forward to a message of the session; answers the caller's read state.")
            .Accepts<ReadRequest>("application/json")
            .Produces<ApiResponse<ReadState>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        group.MapPost("/typing", TypingAsync)
            .WithSummary("Say the caller is typing (or stopped) in the session; the others get a typing event. Never stored.")
            .Accepts<TypingRequest>("application/json")
            .Produces<ApiResponse<TypingPayload>>(StatusCodes.Status202Accepted)
            .Produces<ApiResponse<object>>(StatusCodes.Status409Conflict)
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<IResult> ReadAsync(string id, HttpRequest request, CurrentUser user, ReadMarkers markers, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return ApiResults.Error(RouteIds.Malformed());
        var (body, error) = await JsonBody.ReadObjectAsync(request, cancellationToken);
        if (error is not null) return ApiResults.Error(error);
        Guid messageId;
        using (body)
        {
            if (body!.GetString("message_id") is not { } text || !RouteIds.TryParse(text, out messageId))
                return ApiResults.Error(ApiError.BadRequest("message_id", "message_id is required and must be the UUID of a message of this session."));
        }
        return await markers.ReadAsync(user, sessionId, messageId, cancellationToken) switch
        {
            ReadOutcome.Done done => ApiResults.Ok(done.State, !done.Moved ? "The read marker already was at or past this message." : "Read marker moved."),
            ReadOutcome.SessionNotFound => ApiResults.Error(ApiError.NotFound("Session")),
            ReadOutcome.NotAMessageOfTheSession => ApiResults.Error(ApiError.BadRequest("message_id", "message_id is not a message of this session.")),
            _ => throw new InvalidOperationException("Unhandled read outcome."),
        };
    }

    private static async Task<IResult> TypingAsync(string id, HttpRequest request, CurrentUser user, SessionStore sessions, TypingIndicators typing,
        CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return ApiResults.Error(RouteIds.Malformed());
        var (body, error) = await JsonBody.ReadObjectAsync(request, cancellationToken);
        if (error is not null) return ApiResults.Error(error);
        bool isTyping;
        using (body)
        {
            if (!body!.RootElement.TryGetProperty("is_typing", out var value) || value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return ApiResults.Error(ApiError.BadRequest("is_typing", "is_typing is required and must be true or false."));
            isTyping = value.GetBoolean();
        }
        var session = await sessions.FindAsync(user.TenantId, sessionId, cancellationToken);
        if (session is null) return ApiResults.Error(ApiError.NotFound("Session"));
        if (session.Status == SessionStatus.Closed) return ApiResults.Error(ApiError.Conflict("status", "The session is closed: nobody types in it."));
        typing.Report(user.TenantId, sessionId, user.UserId, isTyping);
        return ApiResults.Accepted(new TypingPayload(sessionId, user.UserId, isTyping), "Typing noted.");
    }
}

public sealed record ReadRequest(Guid MessageId);

public sealed record TypingRequest(bool IsTyping);
