using System.Globalization;
using Livechat.Api;
using Livechat.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Livechat.Agents;

/// <summary><c>GET /livechat/users/{id}</c> (contract section 18): who a user id of the tenant is.</summary>
public static class UsersApi
{
    public static RouteGroupBuilder MapUsers(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat/users").WithTags("Agents").RequireTenant();

        group.MapGet("/{id}", GetAsync)
            .WithSummary("A user seen in the tenant: its remembered name and whether it is an agent. A tenant user sees agents and itself only.");
        return group;
    }

    private static async Task<Results<OkEnvelope<KnownUser>, BadRequestError, NotFoundError>> GetAsync(string id, CurrentUser user, AgentStore agents,
        CancellationToken cancellationToken)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var userId) || userId <= 0)
            return ApiError.BadRequest("id", "id must be a positive integer user id.");
        var found = await agents.FindUserAsync(user.TenantId, userId, cancellationToken);
        // A customer may learn who its agents are, never who the tenant's other users are: those look unknown.
        var visible = found is not null && (user.IsAgent || found.IsAgent || found.UserId == user.UserId);
        return visible ? ApiResults.Ok(found!) : ApiError.NotFound("User");
    }
}
