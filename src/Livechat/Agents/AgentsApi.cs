using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Livechat.Agents;

public static class AgentsApi
{
    public static RouteGroupBuilder MapAgents(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat/agents").WithTags("Agents").RequireTenant(agentsOnly: true);

        group.MapGet("/", ListAsync)
            .WithSummary("The tenant's known support agents with their presence.");
        group.MapPut("/me/presence", SetPresenceAsync)
            .WithSummary("Set the calling agent's presence: ONLINE, AWAY or OFFLINE.");
        group.MapPatch("/me", UpdateMeAsync)
            .WithSummary("Set the calling agent's capacity: max_sessions, 1 to 50 OPEN sessions at once.");
        return group;
    }

    private static async Task<OkEnvelope<IReadOnlyList<Agent>>> ListAsync(CurrentUser user, AgentStore agents, CancellationToken cancellationToken) =>
        ApiResults.Ok(await agents.ListAsync(user.TenantId, cancellationToken));

    private static async Task<Results<OkEnvelope<Agent>, BadRequestError>> SetPresenceAsync(JsonBody<SetPresenceRequest> body, CurrentUser user, AgentStore agents,
        CancellationToken cancellationToken)
    {
        if (body.GetString("status") is not { } status || !Presence.IsValid(status))
            return ApiError.BadRequest("status", "status must be ONLINE, AWAY or OFFLINE.");
        var agent = await agents.SetPresenceAsync(user, status, cancellationToken);
        return ApiResults.Ok(agent, "Presence updated.");
    }

    private static async Task<Results<OkEnvelope<Agent>, BadRequestError>> UpdateMeAsync(JsonBody<UpdateAgentRequest> body, CurrentUser user, AgentStore agents,
        CancellationToken cancellationToken)
    {
        if (!body.RootElement.TryGetProperty("max_sessions", out var max) || max.ValueKind != JsonValueKind.Number
            || !max.TryGetInt32(out var maxSessions) || maxSessions is < 1 or > 50)
            return ApiError.BadRequest("max_sessions", "max_sessions must be an integer from 1 to 50.");
        return ApiResults.Ok(await agents.SetMaxSessionsAsync(user, maxSessions, cancellationToken), "Capacity updated.");
    }
}
