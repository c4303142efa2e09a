using Livechat.Api;
using Livechat.Auth;
using Livechat.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Livechat.Reading;

/// <summary>Contract section 11: read markers, under a session (typing is realtime only: Realtime/TypingApi.cs).</summary>
public static class ReadingApi
{
    public static RouteGroupBuilder MapReading(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat/sessions/{id}").WithTags("Sessions").RequireTenant();

        group.MapPost("/read", ReadAsync)
            .WithSummary("Move the caller's read marker forward to a message of the session; answers the caller's read state.");
        group.MapGet("/read", EveryoneAsync)
            .WithSummary("Every participant's read marker in the session, by user id (its agent, its tenant users, whoever has read in it).");
        return group;
    }

    private static async Task<Results<OkEnvelope<ReadState>, BadRequestError, NotFoundError>> ReadAsync(string id, JsonBody<ReadRequest> body, CurrentUser user,
        ReadMarkers markers, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        if (body.GetString("message_id") is not { } text || !RouteIds.TryParse(text, out var messageId))
            return ApiError.BadRequest("message_id", "message_id is required and must be the UUID of a message of this session.");
        return await markers.ReadAsync(user, sessionId, messageId, cancellationToken) switch
        {
            ReadOutcome.Done done => ApiResults.Ok(done.State, !done.Moved ? "The read marker already was at or past this message." : "Read marker moved."),
            ReadOutcome.SessionNotFound => ApiError.NotFound("Session"),
            ReadOutcome.NotAMessageOfTheSession => ApiError.BadRequest("message_id", "message_id is not a message of this session."),
            _ => throw new InvalidOperationException("Unhandled read outcome."),
        };
    }

    private static async Task<Results<OkEnvelope<IReadOnlyList<ReadState>>, BadRequestError, NotFoundError>> EveryoneAsync(string id, CurrentUser user,
        ReadMarkers markers, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        var states = await markers.EveryoneAsync(user, sessionId, cancellationToken);
        return states is null ? ApiError.NotFound("Session") : ApiResults.Ok(states);
    }
}

public sealed record ReadRequest(Guid MessageId);

