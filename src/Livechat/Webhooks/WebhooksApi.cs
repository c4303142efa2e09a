using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Changes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Livechat.Webhooks;

/// <summary>Contract section 13: a tenant's SUPPORT_ADMIN manages its webhooks; everyone else gets 403.</summary>
public static class WebhooksApi
{
    private const int MaxDescription = 500;

    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/webhooks").WithTags("Webhooks").RequireTenant()
            .RequireRole(Roles.SupportAdmin, "Only a SUPPORT_ADMIN of the tenant may manage webhooks.");

        group.MapPost("/", CreateAsync)
            .WithSummary("Create a webhook; the answer alone carries its signing secret.");
        group.MapGet("/", ListAsync)
            .WithSummary("The tenant's webhooks, oldest first.");
        group.MapGet("/{id}", GetAsync)
            .WithSummary("One webhook of the tenant.");
        group.MapPatch("/{id}", UpdateAsync)
            .WithSummary("Change url, events, description and/or enabled.");
        group.MapDelete("/{id}", DeleteAsync)
            .WithSummary("Delete a webhook and its delivery log.");
        group.MapPost("/{id}/rotate-secret", RotateAsync)
            .WithSummary("A new signing secret; the previous one keeps signing beside it for 24 h.");
        group.MapPost("/{id}/ping", PingAsync)
            .WithSummary("Queue a webhook.ping event to this webhook.");
        group.MapGet("/{id}/deliveries", DeliveriesAsync)
            .WithSummary("The webhook's deliveries, newest first, with cursor pagination.")
            .WithPageQuery(defaultLimit: 20);
        group.MapPost("/{id}/deliveries/{deliveryId}/redeliver", RedeliverAsync)
            .WithSummary("Send a finished delivery's event again (same event id) as a new delivery.");
        return group;
    }

    private static async Task<Results<CreatedEnvelope<Webhook>, BadRequestError, ConflictError, EmptyHttpResult>> CreateAsync(JsonBody<CreateWebhookRequest> body,
        HttpRequest request, CurrentUser user, WebhookStore webhooks, WebhookCatalogue catalogue, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var root = body.RootElement;
        if (body.GetString("url") is not { } url) return ApiError.BadRequest("url", "url is required: an absolute http or https URL.");
        if (!root.TryGetProperty("events", out var eventsValue)) return ApiError.BadRequest("events", catalogue.Rule);
        if (ParseEvents(eventsValue, catalogue) is not { } events) return ApiError.BadRequest("events", catalogue.Rule);
        string? description = null;
        if (root.TryGetProperty("description", out var descriptionValue) && !TryParseDescription(descriptionValue, out description))
            return ApiError.BadRequest("description", DescriptionRule);
        if (await NetworkGuard.ProblemAsync(url, options.Value.AllowPrivateNetworks, cancellationToken) is { } problem)
            return ApiError.BadRequest("url", problem);
        var max = options.Value.MaxPerTenant;
        return await webhooks.CreateAsync(user.TenantId, url, events, description, max, request.HttpContext.Actor(user), Idempotency.ClaimOf(request), cancellationToken) switch
        {
            Written<Webhook?>.Done { Outcome: { } webhook } => ApiResults.Created(webhook, "Webhook created. Store its secret now: it is not shown again."),
            Written<Webhook?>.Done => ApiError.Conflict("url", $"The tenant has {max} webhooks, the most it may have: delete one first."),
            _ => Idempotency.AnsweredFromRecord,
        };
    }

    private static async Task<OkEnvelope<IReadOnlyList<Webhook>>> ListAsync(CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken) =>
        ApiResults.Ok<IReadOnlyList<Webhook>>(await webhooks.ListAsync(user.TenantId, cancellationToken));

    private static async Task<Results<OkEnvelope<Webhook>, BadRequestError, NotFoundError>> GetAsync(string id, CurrentUser user, WebhookStore webhooks,
        CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return RouteIds.Malformed();
        return await webhooks.FindAsync(user.TenantId, webhookId, cancellationToken) is { } webhook ? ApiResults.Ok(webhook) : NotFound();
    }

    private static async Task<Results<OkEnvelope<Webhook>, BadRequestError, NotFoundError>> UpdateAsync(string id, JsonBody<UpdateWebhookRequest> body,
        HttpContext http, CurrentUser user, WebhookStore webhooks, WebhookCatalogue catalogue, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return RouteIds.Malformed();
        string? url = null;
        IReadOnlyList<string>? events = null;
        string? description = null;
        bool? enabled = null;
        var root = body.RootElement;
        if (root.TryGetProperty("url", out _))
        {
            url = body.GetString("url");
            if (url is null) return ApiError.BadRequest("url", "url must be an absolute http or https URL.");
        }
        if (root.TryGetProperty("events", out var eventsValue))
        {
            events = ParseEvents(eventsValue, catalogue);
            if (events is null) return ApiError.BadRequest("events", catalogue.Rule);
        }
        var setDescription = root.TryGetProperty("description", out var descriptionValue);
        if (setDescription && !TryParseDescription(descriptionValue, out description))
            return ApiError.BadRequest("description", DescriptionRule);
        if (root.TryGetProperty("enabled", out var enabledValue))
        {
            if (enabledValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return ApiError.BadRequest("enabled", "enabled must be true or false.");
            enabled = enabledValue.GetBoolean();
        }
        if (url is null && events is null && !setDescription && enabled is null)
            return ApiError.BadRequest("body", "Send url, events, description and/or enabled.");
        if (url is not null && await NetworkGuard.ProblemAsync(url, options.Value.AllowPrivateNetworks, cancellationToken) is { } problem)
            return ApiError.BadRequest("url", problem);
        var updated = await webhooks.UpdateAsync(user.TenantId, webhookId, url, events, setDescription, description, enabled, http.Actor(user), cancellationToken);
        return updated is null ? NotFound() : ApiResults.Ok(updated, "Webhook updated.");
    }

    private static async Task<Results<NoContent, BadRequestError, NotFoundError>> DeleteAsync(string id, HttpContext http, CurrentUser user, WebhookStore webhooks,
        CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return RouteIds.Malformed();
        return await webhooks.DeleteAsync(user.TenantId, webhookId, http.Actor(user), cancellationToken) ? TypedResults.NoContent() : NotFound();
    }

    private static async Task<Results<CreatedEnvelope<Webhook>, BadRequestError, NotFoundError, EmptyHttpResult>> RotateAsync(string id, HttpRequest request,
        CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return RouteIds.Malformed();
        return await webhooks.RotateSecretAsync(user.TenantId, webhookId, request.HttpContext.Actor(user), Idempotency.ClaimOf(request), cancellationToken) switch
        {
            Written<Webhook?>.Done { Outcome: { } rotated } => ApiResults.Created(rotated, "New secret created; the previous one signs beside it for 24 hours."),
            Written<Webhook?>.Done => NotFound(),
            _ => Idempotency.AnsweredFromRecord,
        };
    }

    private static async Task<Results<AcceptedEnvelope<PingQueued>, BadRequestError, NotFoundError, ConflictError, EmptyHttpResult>> PingAsync(string id,
        HttpRequest request, CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return RouteIds.Malformed();
        var webhook = await webhooks.FindAsync(user.TenantId, webhookId, cancellationToken);
        if (webhook is null) return NotFound();
        if (!webhook.Enabled) return ApiError.Conflict("enabled", "The webhook is disabled: enable it first.");
        return await webhooks.PingAsync(user.TenantId, webhookId, Idempotency.ClaimOf(request), cancellationToken) switch
        {
            Written<Guid?>.Done { Outcome: { } queued } => ApiResults.Accepted(new PingQueued(queued), "Ping queued."),
            Written<Guid?>.Done => NotFound(), // deleted meanwhile
            _ => Idempotency.AnsweredFromRecord,
        };
    }

    private static async Task<Results<OkEnvelope<IReadOnlyList<WebhookDelivery>>, BadRequestError, NotFoundError>> DeliveriesAsync(string id, HttpRequest request,
        CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return RouteIds.Malformed();
        var (page, error) = PageRequest.Parse(request, defaultLimit: 20);
        if (error is not null) return error;
        if (await webhooks.FindAsync(user.TenantId, webhookId, cancellationToken) is null) return NotFound();
        var result = await webhooks.DeliveriesAsync(user.TenantId, webhookId, page!, cancellationToken);
        return result is null ? ApiError.BadRequest("cursor", "cursor is not a delivery of this webhook.") : ApiResults.Page(result);
    }

    private static async Task<Results<AcceptedEnvelope<WebhookDelivery>, BadRequestError, NotFoundError, ConflictError, EmptyHttpResult>> RedeliverAsync(string id,
        string deliveryId, HttpRequest request, CurrentUser user, WebhookStore webhooks, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var webhookId)) return RouteIds.Malformed();
        if (!RouteIds.TryParse(deliveryId, out var delivery)) return RouteIds.Malformed("delivery_id");
        if ((await webhooks.RedeliverAsync(user.TenantId, webhookId, delivery, Idempotency.ClaimOf(request), cancellationToken)).OutcomeOrNull() is not { } outcome)
            return Idempotency.AnsweredFromRecord;
        return outcome switch
        {
            RedeliverOutcome.Queued queued => ApiResults.Accepted(queued.Delivery, "Redelivery queued."),
            RedeliverOutcome.NotFound => ApiError.NotFound("Delivery"),
            RedeliverOutcome.StillPending => ApiError.Conflict("status", "The delivery is still pending: it is being retried."),
            RedeliverOutcome.Disabled => ApiError.Conflict("enabled", "The webhook is disabled: enable it first."),
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

    private static NotFoundError NotFound() => ApiError.NotFound("Webhook");
}

/// <summary>The answer to a ping: the event that was queued.</summary>
public sealed record PingQueued(Guid EventId);
