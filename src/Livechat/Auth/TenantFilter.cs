using System.Globalization;
using System.Security.Claims;
using Livechat.Api;
using Livechat.Tenants;

namespace Livechat.Auth;

/// <summary>
/// Contract section 3 after the token is valid: the tenant from <c>X-Tenant-ID</c> (or the host name),
/// which must exist, be active and be granted by the token, then the role. Runs as an endpoint filter on
/// every feature group, and through <see cref="ResolveAsync"/> at the hub's door.
/// </summary>
public static class TenantFilter
{
    public const string Header = "X-Tenant-ID";

    /// <summary>Marks endpoints that act in a tenant; <see cref="UseTenants"/> resolves it for them.</summary>
    public sealed record TenantRequired(bool AgentsOnly);

    /// <summary>Requires a valid token and a granted tenant on every endpoint of the group; agents only when asked.</summary>
    public static TBuilder RequireTenant<TBuilder>(this TBuilder builder, bool agentsOnly = false) where TBuilder : IEndpointConventionBuilder
    {
        builder.RequireAuthorization().WithMetadata(new TenantRequired(agentsOnly));
        // For OpenAPI, what every endpoint behind the door can answer besides its handler: 401 (no valid token), 400 (a
        // malformed X-Tenant-ID), 403 (a tenant the token does not grant, or inactive; agents only), 429 (the rate limit
        // counts callers once the door knows them), 500 and 503 (the exception handler, the request timeout, an
        // unavailable database); and on a POST what its Idempotency-Key can.
        builder.Add(endpoint =>
        {
            endpoint.ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden,
                StatusCodes.Status429TooManyRequests, StatusCodes.Status500InternalServerError, StatusCodes.Status503ServiceUnavailable);
            Idempotency.DescribeStatuses(endpoint);
        });
        return builder;
    }

    /// <summary>Narrows one endpoint of a <see cref="RequireTenant"/> group to support agents (403 for tenant users).</summary>
    public static RouteHandlerBuilder AgentsOnly(this RouteHandlerBuilder endpoint) => endpoint.WithMetadata(new TenantRequired(true));

    /// <summary>Marks endpoints of a <see cref="RequireTenant"/> group that only <paramref name="Role"/> may use; anyone else gets 403 <paramref name="Refusal"/>.</summary>
    public sealed record RoleRequired(string Role, string Refusal);

    /// <summary>
    /// Narrows a <see cref="RequireTenant"/> group to one role, checked at the door with the tenant: before the body
    /// is read or anything else of the request is looked at.
    /// </summary>
    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, string role, string refusal) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RoleRequired(role, refusal));

    /// <summary>
    /// Runs after authorization (so a bad token is a 401 first) and before the endpoint binds its
    /// parameters, so handlers can take a <see cref="CurrentUser"/>.
    /// </summary>
    public static IApplicationBuilder UseTenants(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var required = http.GetEndpoint()?.Metadata.GetOrderedMetadata<TenantRequired>();
        if (required is null || required.Count == 0)
        {
            await next(http);
            return;
        }
        var (user, error) = await ResolveAsync(http, http.RequestAborted);
        if (error is null && required.Any(r => r.AgentsOnly) && !user!.IsAgent)
            error = ApiError.Forbidden("Only support agents may do this.");
        if (error is null && http.GetEndpoint()!.Metadata.GetMetadata<RoleRequired>() is { } role && !http.User.IsInRole(role.Role))
            error = ApiError.Forbidden(role.Refusal);
        if (error is not null)
        {
            await ApiResults.WriteErrorAsync(http, error);
            return;
        }
        http.Features.Set(user);
        if (http.Features.Get<RequestScope>() is { } scope)
        {
            scope.TenantId = user!.TenantId;
            scope.UserId = user.UserId;
        }
        await next(http);
    });

    public static async Task<(CurrentUser? User, ApiError? Error)> ResolveAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var principal = http.User;
        if (!long.TryParse(principal.FindFirstValue("sub"), NumberStyles.None, CultureInfo.InvariantCulture, out var userId) || userId <= 0)
            return (null, ApiError.Field(401, "request", "The token's 'sub' claim must be a positive integer user id."));

        var tenants = http.RequestServices.GetRequiredService<TenantDirectory>();
        Tenant? tenant = null;
        long tenantId;
        var header = http.Request.Headers[Header].ToString();
        if (header.Length == 0 && AuthSetup.AcceptsQueryCredentials(http.Request.Path))
            header = http.Request.Query["tenant_id"].ToString();
        if (header.Length > 0)
        {
            if (!long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out tenantId) || tenantId <= 0)
                return (null, ApiError.BadRequest("x_tenant_id", "X-Tenant-ID must be a positive integer."));
        }
        else
        {
            tenant = await tenants.FindByDomainAsync(http.Request.Host.Host, cancellationToken);
            if (tenant is null)
                return (null, ApiError.BadRequest("x_tenant_id", "Send X-Tenant-ID: this host name belongs to no tenant."));
            tenantId = tenant.Id;
        }

        // The grant first, from the token alone: a caller the token does not admit gets the same answer for an
        // active, an inactive and a never-existing tenant, and learns nothing about which tenants exist.
        var granted = tenantId.ToString(CultureInfo.InvariantCulture);
        if (!principal.FindAll("tenant_id").Any(claim => claim.Value == granted))
            return (null, ApiError.Forbidden("Your token does not grant access to this tenant."));
        tenant ??= await tenants.FindAsync(tenantId, cancellationToken);
        if (tenant is null || !tenant.Active)
            return (null, ApiError.Forbidden("This tenant is unknown or inactive."));

        var user = new CurrentUser(userId, tenant.Id, principal.IsInRole(Roles.SupportAgent));
        System.Diagnostics.Activity.Current?.SetTag(Data.Tracing.TenantId, tenant.Id); // on the request's span, when traced
        await http.RequestServices.GetRequiredService<ICallerLog>().RememberAsync(user, principal.FindFirstValue("name"), cancellationToken);
        return (user, null);
    }
}
