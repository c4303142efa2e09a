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
}
