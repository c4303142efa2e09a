using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Livechat.Webhooks;

/// <summary>The event catalogue of contract section 13.</summary>
/// <summary>The webhook's own event types; the others each event declares (<see cref="Changes.IWebhookEvent"/>).</summary>
public static class WebhookEventTypes
{
    public const string Ping = "webhook.ping";
    public const string All = "*";
}

/// <summary>Every type a webhook may subscribe to (contract section 13): what the features declare, then <c>webhook.ping</c>.</summary>
public sealed class WebhookCatalogue(Changes.DeclaredWebhookTypes declared)
{
    public IReadOnlyList<string> Types { get; } = [.. declared.Types, WebhookEventTypes.Ping];

    /// <summary>The refusal's text, with the catalogue as it is.</summary>
    public string Rule => $"events must be a non-empty array of event types ({string.Join(", ", Types)}), or [\"*\"].";
}

public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

/// <summary>A tenant's webhook. <see cref="Secret"/> is only set in the answers that create it (create, rotate).</summary>
public sealed record Webhook(
    Guid Id,
    string Url,
    IReadOnlyList<string> Events,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
    bool Enabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>Why the service disabled it (410 Gone, or three days of failures); absent when enabled or disabled by hand.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DisabledReason { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }
}

/// <summary>One entry of a webhook's delivery log.</summary>
public sealed record WebhookDelivery(
    Guid Id,
    Guid EventId,
    string EventType,
    string Status,
    int Attempts,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? LastStatusCode,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastError,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? NextAttemptAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>The body of <c>POST /webhooks</c> (for the OpenAPI document; the handler reads the JSON by hand).</summary>
public sealed record CreateWebhookRequest(string Url, IReadOnlyList<string> Events, string? Description);

/// <summary>The body of <c>PATCH /webhooks/{id}</c>: any of the fields.</summary>
public sealed record UpdateWebhookRequest(string? Url, IReadOnlyList<string>? Events, string? Description, bool? Enabled);

/// <summary>The <c>data</c> of a <c>webhook.ping</c> event.</summary>
public sealed record WebhookPing(Guid WebhookId);

public sealed class WebhookOptions
{
    public const string Section = "Livechat:Webhooks";

    /// <summary>Lets webhooks call loopback, private and link-local addresses (development, tests, an internal network).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>
    /// The first retry's delay; the whole schedule (5 s, 30 s, 2 min ... every 8 h to 3 days) scales with it.
    /// 0 retries at once (tests).
    /// </summary>
    [Range(0, 600_000, ErrorMessage = "Livechat:Webhooks:FirstRetryMilliseconds must be between 0 and 600000.")]
    public int FirstRetryMilliseconds { get; set; } = 5000;

    /// <summary>How long one attempt may take, connection included.</summary>
    [Range(1, 60, ErrorMessage = "Livechat:Webhooks:TimeoutSeconds must be between 1 and 60.")]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// How long a claim holds a delivery; renewed every third of it while the attempt runs, so it need not
    /// cover the timeout. A crashed instance's claims run out after it: keep it well under the contract's 30 s.
    /// </summary>
    [Range(2, 3600, ErrorMessage = "Livechat:Webhooks:LeaseSeconds must be between 2 and 3600.")]
    public int LeaseSeconds { get; set; } = 15;

    /// <summary>How often the worker looks for due deliveries when it found none.</summary>
    [Range(10, 60_000, ErrorMessage = "Livechat:Webhooks:PollMilliseconds must be between 10 and 60000.")]
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>Attempts in flight per instance, all webhooks together.</summary>
    [Range(1, 1024, ErrorMessage = "Livechat:Webhooks:MaxConcurrency must be between 1 and 1024.")]
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>Attempts in flight to one webhook: a slow receiver holds at most this many of the worker's slots.</summary>
    [Range(1, 64, ErrorMessage = "Livechat:Webhooks:MaxConcurrencyPerWebhook must be between 1 and 64.")]
    public int MaxConcurrencyPerWebhook { get; set; } = 4;

    /// <summary>Webhooks one tenant may have (enabled or not): a tenant's share of the worker grows with its webhooks, so it is capped.</summary>
    [Range(1, 10_000, ErrorMessage = "Livechat:Webhooks:MaxPerTenant must be between 1 and 10000.")]
    public int MaxPerTenant { get; set; } = 20;

    /// <summary>
    /// Attempts in flight for one tenant, all instances together: its share of the slots, so one tenant's slow
    /// receivers leave the rest of every instance's slots to the others. At most <see cref="MaxConcurrency"/>.
    /// </summary>
    [Range(1, 1024, ErrorMessage = "Livechat:Webhooks:MaxConcurrencyPerTenant must be between 1 and 1024.")]
    public int MaxConcurrencyPerTenant { get; set; } = 16;

    /// <summary>Finished deliveries and their events are deleted after this many days.</summary>
    [Range(1, 3650, ErrorMessage = "Livechat:Webhooks:RetentionDays must be between 1 and 3650.")]
    public int RetentionDays { get; set; } = 14;

    /// <summary>Whether this instance runs the delivery worker (every instance may; leases keep them apart).</summary>
    public bool DeliveryEnabled { get; set; } = true;
}
