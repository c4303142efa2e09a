using System.Reflection;

namespace Livechat.Api;

/// <summary>
/// Who is calling, in which tenant, as what. Made by the tenant filter (Auth/TenantFilter.cs) only after the token,
/// the tenant and the grant were checked, so a handler that takes one can trust it.
/// </summary>
public sealed record CurrentUser(long UserId, long TenantId, bool IsAgent)
{
    /// <summary>Lets minimal API handlers take a <see cref="CurrentUser"/> parameter.</summary>
    public static ValueTask<CurrentUser?> BindAsync(HttpContext context, ParameterInfo parameter) =>
        ValueTask.FromResult<CurrentUser?>(context.Features.Get<CurrentUser>()
            ?? throw new InvalidOperationException("The endpoint takes a CurrentUser but is not behind TenantFilter."));
}
