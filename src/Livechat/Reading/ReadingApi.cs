using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Sessions;

namespace Livechat.Reading;

/// <summary>Contract section 11: read markers, under a session (typing is realtime only: Realtime/TypingApi.cs).</summary>
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
        group.MapGet("/read", EveryoneAsync)
            .WithSummary("Every participant's read marker in the session, by user id (its agent, its tenant users, whoever has read in it).")
            .Produces<ApiResponse<ReadState[]>>()
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

    private static async Task<IResult> EveryoneAsync(string id, CurrentUser user, ReadMarkers markers, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return ApiResults.Error(RouteIds.Malformed());
        var states = await markers.EveryoneAsync(user.TenantId, sessionId, cancellationToken);
        return states is null ? ApiResults.Error(ApiError.NotFound("Session")) : ApiResults.Ok(states);
    }
}

public sealed record ReadRequest(Guid MessageId);

