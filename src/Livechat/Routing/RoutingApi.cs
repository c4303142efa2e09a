using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Sessions;

namespace Livechat.Routing;

public static class RoutingApi
{
    public static IEndpointRouteBuilder MapRouting(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/livechat/queue", QueueAsync).WithTags("Routing").RequireTenant(agentsOnly: true)
            .WithSummary("The tenant's queued sessions, oldest first (handed-back ones at the head), with queue_position; limit 1..500 (default 100).")
            .Produces<ApiResponse<ChatSession[]>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest);
        routes.MapPost("/livechat/sessions/{id}/transfer", TransferAsync).WithTags("Routing").RequireTenant(agentsOnly: true)
            .WithSummary("Move an OPEN session to an ONLINE agent below capacity (yourself: claim it), or hand it back with agent_id null.")
            .Accepts<TransferSessionRequest>("application/json")
            .Produces<ApiResponse<ChatSession>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status403Forbidden)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound)
            .Produces<ApiResponse<object>>(StatusCodes.Status409Conflict);
        return routes;
    }

    private static async Task<IResult> QueueAsync(HttpRequest request, CurrentUser user, DeskStore desk, CancellationToken cancellationToken)
    {
        var limit = 100;
        var text = request.Query["limit"].ToString();
        if (text.Length > 0 && (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 500))
            return ApiResults.Error(ApiError.BadRequest("limit", "limit must be an integer from 1 to 500."));
        return ApiResults.Ok(await desk.QueueAsync(user.TenantId, limit, cancellationToken));
    }

    private static async Task<IResult> TransferAsync(string id, HttpRequest request, CurrentUser user, DeskStore desk, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return ApiResults.Error(RouteIds.Malformed());
        var (body, error) = await JsonBody.ReadObjectAsync(request, cancellationToken);
        if (error is not null) return ApiResults.Error(error);
        long? agentId;
        using (body)
        {
            if (!body!.RootElement.TryGetProperty("agent_id", out var agent))
                return ApiResults.Error(ApiError.BadRequest("agent_id", "agent_id is required: an agent's id, or null to hand the session back to the queue."));
            if (agent.ValueKind == JsonValueKind.Null) agentId = null;
            else if (agent.ValueKind == JsonValueKind.Number && agent.TryGetInt64(out var named) && named > 0) agentId = named;
            else return ApiResults.Error(ApiError.BadRequest("agent_id", "agent_id must be a positive integer or null."));
        }

        return (await desk.TransferAsync(user, sessionId, agentId, Idempotency.ClaimOf(request), cancellationToken)).OutcomeOrNull() switch
        {
            null => Idempotency.AnsweredFromRecord,
            TransferOutcome.Moved { Changed: false } same => ApiResults.Ok(same.Session, "The session is already with this agent."),
            TransferOutcome.Moved { Session.QueuePosition: { } position } queued =>
                ApiResults.Ok(queued.Session, $"Nobody else can take it now: the session waits at position {position} of the queue."),
            TransferOutcome.Moved moved => ApiResults.Ok(moved.Session, $"The session is now with agent {moved.Session.AgentId}."),
            TransferOutcome.SessionNotFound => ApiResults.Error(ApiError.NotFound("Session")),
            TransferOutcome.SessionClosed => ApiResults.Error(ApiError.Conflict("status", "The session is closed: a closed session cannot be transferred.")),
            TransferOutcome.AgentCannotTake refused => ApiResults.Error(ApiError.Conflict("agent_id", refused.Reason)),
            _ => throw new InvalidOperationException("Unhandled transfer outcome."),
        };
    }
}
