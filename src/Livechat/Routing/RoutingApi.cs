using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace Livechat.Routing;

public static class RoutingApi
{
    public static IEndpointRouteBuilder MapRouting(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/livechat/queue", QueueAsync).WithTags("Routing").RequireTenant(agentsOnly: true)
            .WithSummary("The tenant's queued sessions, oldest first (handed-back ones at the head), with queue_position; limit 1..500 (default 100).")
            .WithQuery(new QueryParameter("limit", "Sessions listed, 1 to 500 (default 100).", JsonSchemaType.Integer) { Format = "int32" });
        routes.MapPost("/livechat/sessions/{id}/transfer", TransferAsync).WithTags("Routing").RequireTenant(agentsOnly: true)
            .WithSummary("Move an OPEN session to an ONLINE agent below capacity (yourself: claim it), or hand it back with agent_id null.");
        return routes;
    }

    private static async Task<Results<OkEnvelope<IReadOnlyList<ChatSession>>, BadRequestError>> QueueAsync(HttpRequest request, CurrentUser user, DeskStore desk,
        CancellationToken cancellationToken)
    {
        var limit = 100;
        var text = request.Query["limit"].ToString();
        if (text.Length > 0 && (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 500))
            return ApiError.BadRequest("limit", "limit must be an integer from 1 to 500.");
        return ApiResults.Ok<IReadOnlyList<ChatSession>>(await desk.QueueAsync(user.TenantId, limit, cancellationToken));
    }

    private static async Task<Results<OkEnvelope<ChatSession>, BadRequestError, NotFoundError, ConflictError, EmptyHttpResult>> TransferAsync(string id,
        JsonBody<TransferSessionRequest> body, HttpRequest request, CurrentUser user, DeskStore desk, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        if (!body.RootElement.TryGetProperty("agent_id", out var agent))
            return ApiError.BadRequest("agent_id", "agent_id is required: an agent's id, or null to hand the session back to the queue.");
        long? agentId;
        if (agent.ValueKind == JsonValueKind.Null) agentId = null;
        else if (agent.ValueKind == JsonValueKind.Number && agent.TryGetInt64(out var named) && named > 0) agentId = named;
        else return ApiError.BadRequest("agent_id", "agent_id must be a positive integer or null.");

        return (await desk.TransferAsync(user, sessionId, agentId, Idempotency.ClaimOf(request), cancellationToken)).OutcomeOrNull() switch
        {
            null => Idempotency.AnsweredFromRecord,
            TransferOutcome.Moved { Changed: false } same => ApiResults.Ok(same.Session, "The session is already with this agent."),
            TransferOutcome.Moved { Session.QueuePosition: { } position } queued =>
                ApiResults.Ok(queued.Session, $"Nobody else can take it now: the session waits at position {position} of the queue."),
            TransferOutcome.Moved moved => ApiResults.Ok(moved.Session, $"The session is now with agent {moved.Session.AgentId}."),
            TransferOutcome.SessionNotFound => ApiError.NotFound("Session"),
            TransferOutcome.SessionClosed => ApiError.Conflict("status", "The session is closed: a closed session cannot be transferred."),
            TransferOutcome.AgentCannotTake refused => ApiError.Conflict("agent_id", refused.Reason),
            _ => throw new InvalidOperationException("Unhandled transfer outcome."),
        };
    }
}
