using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Changes;
using Microsoft.Extensions.Options;

namespace Livechat.Webhooks;

/// <summary>Contract section 13: a tenant's SUPPORT_ADMIN manages its webhooks; everyone else gets 403.</summary>
public static class WebhooksApi
{
    private const int MaxDescription = 500;

    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/webhooks").WithTags("Webhooks").RequireTenant()
            .AddEndpointFilter(async (context, next) => context.HttpContext.User.IsInRole(Roles.SupportAdmin)
                ? await next(context)
                : ApiResults.Error(ApiError.Forbidden("Only a SUPPORT_ADMIN of the tenant may manage webhooks.")));

        group.MapPost("/", CreateAsync)
            .WithSummary("Create a webhook; the answer alone carries its signing secret.")
            .Accepts<CreateWebhookRequest>("application/json")
            .Produces<ApiResponse<Webhook>>(StatusCodes.Status201Created)
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status409Conflict);
        group.MapGet("/", ListAsync)
            .WithSummary("The tenant's webhooks, oldest first.")
            .Produces<ApiResponse<Webhook[]>>();
        group.MapGet("/{id}", GetAsync)
            .WithSummary("One webhook of the tenant.")
            .Produces<ApiResponse<Webhook>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        group.MapPatch("/{id}", UpdateAsync)
            .WithSummary("Change url, events, description and/or enabled.")
            .Accepts<UpdateWebhookRequest>("application/json")
            .Produces<ApiResponse<Webhook>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", DeleteAsync)
            .WithSummary("Delete a webhook and its delivery log.")
            .Produces(StatusCodes.Status204NoContent)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/rotate-secret", RotateAsync)
            .WithSummary("A new signing secret; the previous one keeps signing beside it for 24 h.")
            .Produces<ApiResponse<Webhook>>(StatusCodes.Status201Created)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/ping", PingAsync)
            .WithSummary("Queue a webhook.ping event to this webhook.")
            .Produces<ApiResponse<PingQueued>>(StatusCodes.Status202Accepted)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound)
            .Produces<ApiResponse<object>>(StatusCodes.Status409Conflict);
        group.MapGet("/{id}/deliveries", DeliveriesAsync)
            .WithSummary("The webhook's deliveries, newest first, with cursor pagination.")
            .Produces<ApiResponse<WebhookDelivery[]>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/deliveries/{deliveryId}/redeliver", RedeliverAsync)
            .WithSummary("Send a finished delivery's event again (same event id) as a new delivery.")
            .Produces<ApiResponse<WebhookDelivery>>(StatusCodes.Status202Accepted)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound)
            .Produces<ApiResponse<object>>(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, CurrentUser user, WebhookStore webhooks, WebhookCatalogue catalogue,
        IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var (body, error) = await JsonBody.ReadObjectAsync(request, cancellationToken);
        if (error is not null) return ApiResults.Error(error);
        string url;
        IReadOnlyList<string> events;
        string? description = null;
        using (body)
        {
            var root = body!.RootElement;
            if (body.GetString("url") is not { } givenUrl) return ApiResults.Error(ApiError.BadRequest("url", "url is required: an absolute http or https URL."));
            url = givenUrl;
            if (!root.TryGetProperty("events", out var eventsValue)) return ApiResults.Error(ApiError.BadRequest("events", catalogue.Rule));
            if (ParseEvents(eventsValue, catalogue) is not { } parsed) return ApiResults.Error(ApiError.BadRequest("events", catalogue.Rule));
            events = parsed;
            if (root.TryGetProperty("description", out var descriptionValue) && !TryParseDescription(descriptionValue, out description))
                return ApiResults.Error(ApiError.BadRequest("description", DescriptionRule));
        }
        if (await NetworkGuard.ProblemAsync(url, options.Value.AllowPrivateNetworks, cancellationToken) is { } problem)
            return ApiResults.Error(ApiError.BadRequest("url", problem));
        var max = options.Value.MaxPerTenant;
        return await webhooks.CreateAsync(user.TenantId, url, events, description, max, Idempotency.ClaimOf(request), cancellationToken) switch
        {
            Written<Webhook?>.Done { Outcome: { } webhook } => ApiResults.Created(webhook, "Webhook created. Store its secret now: it is not shown again."),
            Written<Webhook?>.Done => ApiResults.Error(ApiError.Conflict("url", $"The tenant has {max} webhooks, the most it may have: delete one first.")),
            _ => Idempotency.AnsweredFromRecord,
        };
    }

    private static async Task<IResult> ListAsync(CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken) =>
        ApiResults.Ok<IReadOnlyList<Webhook>>(await webhooks.ListAsync(user.TenantId, cancellationToken));

    private static async Task<IResult> GetAsync(string id, CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return ApiResults.Error(RouteIds.Malformed());
        return await webhooks.FindAsync(user.TenantId, webhookId, cancellationToken) is { } webhook ? ApiResults.Ok(webhook) : NotFound();
    }

    private static async Task<IResult> UpdateAsync(string id, HttpRequest request, CurrentUser user, WebhookStore webhooks, WebhookCatalogue catalogue,
        IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return ApiResults.Error(RouteIds.Malformed());
        var (body, error) = await JsonBody.ReadObjectAsync(request, cancellationToken);
        if (error is not null) return ApiResults.Error(error);
        string? url = null;
        IReadOnlyList<string>? events = null;
        string? description = null;
        bool setDescription;
        bool? enabled = null;
        using (body)
        {
            var root = body!.RootElement;
            if (root.TryGetProperty("url", out _))
            {
                url = body.GetString("url");
                if (url is null) return ApiResults.Error(ApiError.BadRequest("url", "url must be an absolute http or https URL."));
            }
            if (root.TryGetProperty("events", out var eventsValue))
            {
                events = ParseEvents(eventsValue, catalogue);
                if (events is null) return ApiResults.Error(ApiError.BadRequest("events", catalogue.Rule));
            }
            setDescription = root.TryGetProperty("description", out var descriptionValue);
            if (setDescription && !TryParseDescription(descriptionValue, out description))
                return ApiResults.Error(ApiError.BadRequest("description", DescriptionRule));
            if (root.TryGetProperty("enabled", out var enabledValue))
            {
                if (enabledValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    return ApiResults.Error(ApiError.BadRequest("enabled", "enabled must be true or false."));
                enabled = enabledValue.GetBoolean();
            }
        }
        if (url is null && events is null && !setDescription && enabled is null)
            return ApiResults.Error(ApiError.BadRequest("body", "Send url, events, description and/or enabled."));
        if (url is not null && await NetworkGuard.ProblemAsync(url, options.Value.AllowPrivateNetworks, cancellationToken) is { } problem)
            return ApiResults.Error(ApiError.BadRequest("url", problem));
        var updated = await webhooks.UpdateAsync(user.TenantId, webhookId, url, events, setDescription, description, enabled, cancellationToken);
        return updated is null ? NotFound() : ApiResults.Ok(updated, "Webhook updated.");
    }

    private static async Task<IResult> DeleteAsync(string id, CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return ApiResults.Error(RouteIds.Malformed());
        return await webhooks.DeleteAsync(user.TenantId, webhookId, cancellationToken) ? Results.NoContent() : NotFound();
    }

    private static async Task<IResult> RotateAsync(string id, HttpRequest request, CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return ApiResults.Error(RouteIds.Malformed());
        return await webhooks.RotateSecretAsync(user.TenantId, webhookId, Idempotency.ClaimOf(request), cancellationToken) switch
        {
            Written<Webhook?>.Done { Outcome: { } rotated } => ApiResults.Created(rotated, "New secret created; the previous one signs beside it for 24 hours."),
            Written<Webhook?>.Done => NotFound(),
            _ => Idempotency.AnsweredFromRecord,
        };
    }

    private static async Task<IResult> PingAsync(string id, HttpRequest request, CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return ApiResults.Error(RouteIds.Malformed());
        var webhook = await webhooks.FindAsync(user.TenantId, webhookId, cancellationToken);
        if (webhook is null) return NotFound();
        if (!webhook.Enabled) return ApiResults.Error(ApiError.Conflict("enabled", "The webhook is disabled: enable it first."));
        return await webhooks.PingAsync(user.TenantId, webhookId, Idempotency.ClaimOf(request), cancellationToken) switch
        {
            Written<Guid?>.Done { Outcome: { } queued } => Accepted(new PingQueued(queued), "Ping queued."),
            Written<Guid?>.Done => NotFound(), // deleted meanwhile
            _ => Idempotency.AnsweredFromRecord,
        };
    }

    private static async Task<IResult> DeliveriesAsync(string id, HttpRequest request, CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return ApiResults.Error(RouteIds.Malformed());
        var (page, error) = PageRequest.Parse(request, defaultLimit: 20);
        if (error is not null) return ApiResults.Error(error);
        if (await webhooks.FindAsync(user.TenantId, webhookId, cancellationToken) is null) return NotFound();
        var result = await webhooks.DeliveriesAsync(user.TenantId, webhookId, page!, cancellationToken);
        return result is null ? ApiResults.Error(ApiError.BadRequest("cursor", "cursor is not a delivery of this webhook.")) : ApiResults.Page(result);
    }

    private static async Task<IResult> RedeliverAsync(string id, string deliveryId, HttpRequest request, CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return ApiResults.Error(RouteIds.Malformed());
        if (!RouteIds.TryParse(deliveryId, out var delivery)) return ApiResults.Error(RouteIds.Malformed("delivery_id"));
        if ((await webhooks.RedeliverAsync(user.TenantId, webhookId, delivery, Idempotency.ClaimOf(request), cancellationToken)).OutcomeOrNull() is not { } outcome)
            return Idempotency.AnsweredFromRecord;
        return outcome switch
        {
            RedeliverOutcome.Queued queued => Accepted(queued.Delivery, "Redelivery queued."),
            RedeliverOutcome.NotFound => ApiResults.Error(ApiError.NotFound("Delivery")),
            RedeliverOutcome.StillPending => ApiResults.Error(ApiError.Conflict("status", "The delivery is still pending: it is being retried.")),
            RedeliverOutcome.Disabled => ApiResults.Error(ApiError.Conflict("enabled", "The webhook is disabled: enable it first.")),
            _ => throw new InvalidOperationException("Unhandled redeliver outcome."),
        };
    }

    private const string DescriptionRule = "description must be a string of at most 500 characters, or null.";

    /// <summary>The subscribed types in catalogue order without repeats, <c>["*"]</c>, or null when invalid.</summary>
    private static List<string>? ParseEvents(JsonElement value, WebhookCatalogue catalogue)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0) return null;
        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) return null;
            var name = item.GetString()!;
            if (name != WebhookEventTypes.All && !catalogue.Types.Contains(name)) return null;
            given.Add(name);
        }
        if (given.Contains(WebhookEventTypes.All)) return given.Count == 1 ? [WebhookEventTypes.All] : null;
        return catalogue.Types.Where(given.Contains).ToList();
    }

    private static bool TryParseDescription(JsonElement value, out string? description)
    {
        description = null;
        if (value.ValueKind == JsonValueKind.Null) return true;
        if (value.ValueKind != JsonValueKind.String) return false;
        description = value.GetString();
        return description!.Length <= MaxDescription;
    }

    private static IResult NotFound() => ApiResults.Error(ApiError.NotFound("Webhook"));

    private static AcceptedEnvelope<T> Accepted<T>(T data, string message) => new(data, message);

    /// <summary>202 in the envelope (the shared results have no 202 yet).</summary>
    private sealed class AcceptedEnvelope<T>(T data, string message) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => StatusCodes.Status202Accepted;

        public Task ExecuteAsync(HttpContext httpContext) => ApiResults.WriteAsync(httpContext, StatusCodes.Status202Accepted, message, data, null, null);
    }
}

/// <summary>The answer to a ping: the event that was queued.</summary>
public sealed record PingQueued(Guid EventId);
