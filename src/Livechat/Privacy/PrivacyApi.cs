using System.Globalization;
using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Livechat.Privacy;

/// <summary>Contract section 21: a tenant's SUPPORT_ADMIN sets retention, erases a tenant user's data and reads the audit log; everyone else gets 403.</summary>
public static class PrivacyApi
{
    public const int MaxRetentionDays = 3650;

    public static RouteGroupBuilder MapPrivacy(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat").WithTags("Privacy").RequireTenant()
            .RequireRole(Roles.SupportAdmin, "Only a SUPPORT_ADMIN of the tenant may manage retention, erasures and the audit log.");

        group.MapGet("/settings", GetSettingsAsync)
            .WithSummary("The tenant's settings: retention_days, null when sessions are kept forever.");
        group.MapPatch("/settings", UpdateSettingsAsync)
            .WithSummary("Set retention_days (null, or 1..3650): sessions closed for longer are deleted with everything that hangs off them.");
        group.MapPost("/users/{id}/erase", EraseAsync)
            .WithSummary("Erase a tenant user's data: its messages become placeholders, its files, markers, ratings, notifications and name go. Answers the job.");
        group.MapGet("/erasures/{job_id}", ErasureAsync)
            .WithSummary("An erasure job: pending, or done, with what it removed.");
        group.MapGet("/audit", AuditAsync)
            .WithSummary("Who changed what in the tenant's configuration and data, newest first, with cursor pagination.")
            .WithPageQuery(defaultLimit: 20);
        return group;
    }

    private static async Task<OkEnvelope<TenantSettings>> GetSettingsAsync(CurrentUser user, SettingsStore settings, CancellationToken cancellationToken) =>
        ApiResults.Ok(await settings.GetAsync(user.TenantId, cancellationToken));

    private static async Task<Results<OkEnvelope<TenantSettings>, BadRequestError>> UpdateSettingsAsync(JsonBody<UpdateSettingsRequest> body, HttpContext http,
        CurrentUser user, SettingsStore settings, CancellationToken cancellationToken)
    {
        const string rule = "retention_days must be null (keep everything) or a whole number of days from 1 to 3650.";
        if (!body.RootElement.TryGetProperty("retention_days", out var value)) return ApiError.BadRequest("retention_days", rule);
        int? days = null;
        if (value.ValueKind != JsonValueKind.Null)
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number is < 1 or > MaxRetentionDays)
                return ApiError.BadRequest("retention_days", rule);
            days = number;
        }
        return ApiResults.Ok(await settings.SetRetentionAsync(user.TenantId, days, http.Actor(user), cancellationToken), "Settings saved.");
    }

    private static async Task<Results<AcceptedEnvelope<ErasureAccepted>, BadRequestError, NotFoundError>> EraseAsync(string id, HttpContext http,
        CurrentUser user, ErasureStore erasures, ErasureWorker worker, CancellationToken cancellationToken)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var userId) || userId <= 0)
            return ApiError.BadRequest("id", "id must be a positive integer user id.");
        if (await erasures.RequestAsync(user.TenantId, userId, http.Actor(user), cancellationToken) is not { } job)
            return ApiError.NotFound("User");
        worker.Wake();
        return ApiResults.Accepted(new ErasureAccepted(job), "Erasure accepted: follow it at /livechat/erasures/{job_id}.");
    }

    private static async Task<Results<OkEnvelope<ErasureJob>, BadRequestError, NotFoundError>> ErasureAsync(string job_id, CurrentUser user,
        ErasureStore erasures, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(job_id, out var id)) return RouteIds.Malformed("job_id");
        return await erasures.FindAsync(user.TenantId, id, cancellationToken) is { } job ? ApiResults.Ok(job) : ApiError.NotFound("Erasure job");
    }

    private static async Task<Results<OkEnvelope<IReadOnlyList<AuditEntry>>, BadRequestError>> AuditAsync(HttpRequest request, CurrentUser user,
        AuditStore audit, CancellationToken cancellationToken)
    {
        var (page, error) = PageRequest.Parse(request, defaultLimit: 20);
        if (error is not null) return error;
        var result = await audit.ListAsync(user.TenantId, page!, cancellationToken);
        return result is null ? ApiError.BadRequest("cursor", "cursor is not an entry of this tenant's audit log.") : ApiResults.Page(result);
    }
}
