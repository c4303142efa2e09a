using Livechat.Api;
using Livechat.Auth;

namespace Livechat.Agents;

public static class AgentsApi
{
    public static RouteGroupBuilder MapAgents(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat/agents").WithTags("Agents").RequireTenant(agentsOnly: true);

        group.MapGet("/", ListAsync)
            .WithSummary("The tenant's known support agents with their presence.")
            .Produces<ApiResponse<Agent[]>>();
        group.MapPut("/me/presence", SetPresenceAsync)
            .WithSummary("Set the calling agent's presence: ONLINE, AWAY or OFFLINE.")
            .Accepts<SetPresenceRequest>("application/json")
            .Produces<ApiResponse<Agent>>();
        group.MapPatch("/me", UpdateMeAsync)
            .WithSummary("Set the calling agent's capacity: max_sessions, 1 to 50 OPEN sessions at once.")
            .Accepts<UpdateAgentRequest>("application/json")
            .Produces<ApiResponse<Agent>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest);
        return group;
    }

    private static async Task<IResult> ListAsync(CurrentUser user, AgentStore agents, CancellationToken cancellationToken) =>
        ApiResults.Ok(await agents.ListAsync(user.TenantId, cancellationToken));

    private static async Task<IResult> SetPresenceAsync(HttpRequest request, CurrentUser user, AgentStore agents, CancellationToken cancellationToken)
    {
        var (body, error) = await JsonBody.ReadObjectAsync(request, cancellationToken);
        if (error is not null) return ApiResults.Error(error);
        using (body)
        {
            if (body!.GetString("status") is not { } status || !Presence.IsValid(status))
                return ApiResults.Error(ApiError.BadRequest("status", "status must be ONLINE, AWAY or OFFLINE."));
            var agent = await agents.SetPresenceAsync(user, status, cancellationToken);
            return ApiResults.Ok(agent, "Presence updated.");
        }
    }

    private static async Task<IResult> UpdateMeAsync(HttpRequest request, CurrentUser user, AgentStore agents, CancellationToken cancellationToken)
    {
        var (body, error) = await JsonBody.ReadObjectAsync(request, cancellationToken);
        if (error is not null) return ApiResults.Error(error);
        using (body)
        {
            if (!body!.RootElement.TryGetProperty("max_sessions", out var max) || max.ValueKind != System.Text.Json.JsonValueKind.Number
                || !max.TryGetInt32(out var maxSessions) || maxSessions is < 1 or > 50)
                return ApiResults.Error(ApiError.BadRequest("max_sessions", "max_sessions must be an integer from 1 to 50."));
            return ApiResults.Ok(await agents.SetMaxSessionsAsync(user, maxSessions, cancellationToken), "Capacity updated.");
        }
    }
}
