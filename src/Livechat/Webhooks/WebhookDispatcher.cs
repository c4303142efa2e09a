using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Livechat.Webhooks;

/// <summary>
/// The delivery worker: claims due deliveries (a lease in the database, so each is attempted by one instance at
/// a time), sends them concurrently with a 10 s timeout, and records the outcome. Up to
/// <see cref="WebhookOptions.MaxConcurrency"/> attempts run at once, at most
/// <see cref="WebhookOptions.MaxConcurrencyPerWebhook"/> per webhook and
/// <see cref="WebhookOptions.MaxConcurrencyPerTenant"/> per tenant, with the tenants taking turns, so a slow
/// receiver holds a few slots and never the worker, the API or another tenant's deliveries.
/// <para>
/// The lease is short (15 s) and renewed while an attempt runs, so the claims of an instance that crashed are
/// free again within the lease, whatever the attempt timeout: another instance, or this one restarted, makes
/// those attempts again within about 15 s (the contract says 30 s).
/// </para>
/// </summary>
public sealed class WebhookDispatcher(WebhookStore store, IHttpClientFactory httpClients, IOptions<WebhookOptions> options, TimeProvider time,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";
    private static readonly TimeSpan Housekeeping = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CleanUpEvery = TimeSpan.FromHours(1);
    // Long enough for a fast receiver to be served a few dozen deliveries per claim, short enough that another
    // tenant waiting for a slot gets one within about a second.
    private static readonly TimeSpan SlotTurn = TimeSpan.FromSeconds(1);

    private readonly WebhookOptions settings = options.Value;
    private readonly RetrySchedule schedule = new(options.Value.FirstRetryMilliseconds);
    private readonly ClaimLimits limits = new(options.Value.MaxConcurrencyPerWebhook, options.Value.MaxConcurrencyPerTenant,
        TimeSpan.FromSeconds(options.Value.LeaseSeconds));
    // Released when an attempt ends, so its slot is refilled at once rather than at the next poll.
    private readonly SemaphoreSlim wake = new(0, 1);
    private int inFlight;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!settings.DeliveryEnabled) return;
        var poll = TimeSpan.FromMilliseconds(settings.PollMilliseconds);
        var nextHousekeeping = DateTimeOffset.MinValue;
        var nextCleanUp = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            var full = false;
            try
            {
                var free = settings.MaxConcurrency - Volatile.Read(ref inFlight);
                if (free > 0)
                {
                    var claimed = await store.ClaimAsync(free, limits, stoppingToken);
                    foreach (var delivery in claimed)
                    {
                        Interlocked.Increment(ref inFlight);
                        _ = Task.Run(() => AttemptAsync(delivery, stoppingToken), CancellationToken.None);
                    }
                    full = claimed.Count == free; // more may be due right now
                }
                var now = time.GetUtcNow();
                if (now >= nextHousekeeping)
                {
                    nextHousekeeping = now + Housekeeping;
                    var oldest = await store.OldestPendingAsync(stoppingToken);
                    WebhookMetrics.OldestPendingSeconds.Set(oldest is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0);
                }
                if (now >= nextCleanUp)
                {
                    nextCleanUp = now + CleanUpEvery;
                    var deleted = await store.CleanUpAsync(now - TimeSpan.FromDays(settings.RetentionDays), stoppingToken);
                    if (deleted > 0) logger.LogInformation("Deleted {Count} webhook deliveries older than {Days} days.", deleted, settings.RetentionDays);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "The webhook worker could not claim deliveries; trying again shortly.");
            }
            if (full) continue;
            try
            {
                await wake.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await DrainAsync();
    }

    /// <summary>
    /// Stopping: the attempts in flight end with the token and give their claims back, so another instance (or
    /// this one, restarted) makes them at once rather than after the lease. Waits a few seconds for that, while
    /// the database is still there; an attempt that takes longer is left to its lease.
    /// </summary>
    private async Task DrainAsync()
    {
        var until = time.GetUtcNow() + TimeSpan.FromSeconds(5);
        while (Volatile.Read(ref inFlight) > 0)
        {
            var left = until - time.GetUtcNow();
            if (left <= TimeSpan.Zero) return;
            await wake.WaitAsync(left); // every attempt that ends releases it
        }
    }

    /// <summary>
    /// Attempts <paramref name="first"/>, then, in the same slot, the webhook's next due delivery, which the
    /// transaction that records an outcome also claims: a busy webhook is served without a claim per attempt.
    /// A slot serves one webhook for at most <see cref="SlotTurn"/>; then it goes back to the fair claim, where
    /// the tenants take turns, so a slow tenant's backlog cannot keep a slot from the others.
    /// </summary>
    private async Task AttemptAsync(ClaimedDelivery first, CancellationToken stoppingToken)
    {
        try
        {
            var turnEnds = time.GetUtcNow() + SlotTurn;
            ClaimedDelivery? delivery = first;
            while (delivery is not null)
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    await GiveBackAsync(delivery);
                    break;
                }
                delivery = await AttemptOneAsync(delivery, time.GetUtcNow() < turnEnds, stoppingToken);
            }
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
            try
            {
                if (wake.CurrentCount == 0) wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // another attempt woke the loop first
            }
            catch (ObjectDisposedException)
            {
                // the service stopped
            }
        }
    }

    /// <returns>The next delivery, already claimed, or null.</returns>
    private async Task<ClaimedDelivery?> AttemptOneAsync(ClaimedDelivery delivery, bool claimNext, CancellationToken stoppingToken)
    {
        try
        {
            var result = await SendRenewingLeaseAsync(delivery, stoppingToken);
            if (result is null)
            {
                await GiveBackAsync(delivery); // stopping: due again at once, for another instance or the next start
                return null;
            }
            WebhookMetrics.Deliveries.WithLabels(result.Status == DeliveryStatus.Pending ? "retry" : result.Status).Inc();
            var (recorded, next) = await RecordAsync(delivery, result, claimNext);
            if (!recorded)
                logger.LogWarning("Webhook delivery {DeliveryId}: the lease ran out before the attempt ended; its outcome was not recorded.", delivery.Id);
            else if (result.DisableWebhook is not null)
                logger.LogWarning("Webhook {WebhookId} of tenant {TenantId}: {Reason}", delivery.WebhookId, delivery.TenantId, result.DisableWebhook);
            return next;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Webhook delivery {DeliveryId} could not be recorded; it is retried when its lease runs out.", delivery.Id);
            return null;
        }
    }

    /// <summary>
    /// Records the outcome; a failure (the database restarting, a dropped connection) is tried again twice within
    /// about a second. An outcome left unrecorded keeps the delivery claimed, holding a slot of its webhook and
    /// of its tenant, until the lease runs out, and then it is sent again (issue 12).
    /// </summary>
    private async Task<(bool Recorded, ClaimedDelivery? Next)> RecordAsync(ClaimedDelivery delivery, AttemptResult result, bool claimNext)
    {
        for (var tries = 1; ; tries++)
        {
            try
            {
                return await store.RecordAsync(delivery, result, claimNext ? limits : null, CancellationToken.None);
            }
            catch (Exception e) when (tries < 3)
            {
                logger.LogWarning(e, "Webhook delivery {DeliveryId}: its outcome could not be recorded; trying again.", delivery.Id);
                await Task.Delay(TimeSpan.FromMilliseconds(250 * tries), time);
            }
        }
    }

    /// <summary>The attempt, while the delivery's lease is renewed every third of it until the attempt ends.</summary>
    private async Task<AttemptResult?> SendRenewingLeaseAsync(ClaimedDelivery delivery, CancellationToken stoppingToken)
    {
        using var attemptEnded = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewing = RenewLeaseAsync(delivery, attemptEnded.Token);
        try
        {
            // A root span: the attempt belongs to no request (the HttpClient's own span is its child).
            using var span = Data.Tracing.Source.StartActivity("webhook attempt", System.Diagnostics.ActivityKind.Internal);
            span?.SetTag(Data.Tracing.TenantId, delivery.TenantId);
            span?.SetTag("livechat.webhook.id", delivery.WebhookId);
            span?.SetTag("livechat.webhook.delivery_id", delivery.Id);
            span?.SetTag("livechat.webhook.attempt", delivery.AttemptsMade + 1);
            var result = await SendAsync(delivery, stoppingToken);
            span?.SetTag("livechat.webhook.outcome", result?.Status);
            if (result?.StatusCode is { } code) span?.SetTag("http.response.status_code", code);
            if (result is { Status: not DeliveryStatus.Succeeded }) span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, result.Error);
            return result;
        }
        finally
        {
            await attemptEnded.CancelAsync();
            await renewing;
        }
    }

    private async Task RenewLeaseAsync(ClaimedDelivery delivery, CancellationToken attemptEnded)
    {
        using var every = new PeriodicTimer(limits.Lease / 3, time);
        try
        {
            while (await every.WaitForNextTickAsync(attemptEnded))
            {
                try
                {
                    if (!await store.RenewAsync(delivery, limits.Lease, attemptEnded)) return; // no longer ours
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Webhook delivery {DeliveryId}: its lease could not be renewed; trying again.", delivery.Id);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the attempt ended
        }
    }

    /// <summary>Best effort: a claim given back is due again at once; one that cannot be given back runs out with its lease.</summary>
    private async Task GiveBackAsync(ClaimedDelivery delivery)
    {
        try
        {
            await store.ReleaseAsync(delivery, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogInformation(e, "Webhook delivery {DeliveryId}: its claim could not be given back; it is retried when its lease runs out.", delivery.Id);
        }
    }

    /// <summary>
    /// One attempt; null when the service is stopping (the caller gives the claim back). Whatever else goes
    /// wrong is an outcome to record: an attempt that ended in an exception and was not recorded would keep its
    /// claim for the whole lease, holding one of its webhook's and its tenant's slots, and be claimed, and fail,
    /// again after each lease (issue 12).
    /// </summary>
    private async Task<AttemptResult?> SendAsync(ClaimedDelivery delivery, CancellationToken stoppingToken)
    {
        var attempt = delivery.AttemptsMade + 1;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        try
        {
            var eventId = delivery.EventId.ToString();
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("webhook-id", eventId);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSigner.Sign(eventId, timestamp, delivery.Payload, delivery.Secrets));
            var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var code = (int)response.StatusCode;
            if (code is >= 200 and < 300) return new AttemptResult(DeliveryStatus.Succeeded, code, null, null, null);
            if (code == 410)
                return new AttemptResult(DeliveryStatus.Failed, code, "HTTP 410 Gone: the webhook was disabled.", null, "the receiver answered 410 Gone: disabled.");
            if (code is 408 or 429 or >= 500) return Retry(delivery, attempt, code, $"HTTP {code}", RetryAfter(response));
            return new AttemptResult(DeliveryStatus.Failed, code, $"HTTP {code}: not retried (only 408, 429 and 5xx are).", null, null);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            return Retry(delivery, attempt, null, $"No answer within {settings.TimeoutSeconds} s.", null);
        }
        catch (HttpRequestException e) when (e.InnerException is RefusedAddressException refused)
        {
            return new AttemptResult(DeliveryStatus.Failed, null, refused.Message, null, null);
        }
        catch (HttpRequestException e)
        {
            return Retry(delivery, attempt, null, Shorten(e.Message), null);
        }
        catch (Exception e)
        {
            // Neither an answer nor a network error: a fault of the service (a secret that does not decode, a
            // request the client refuses). The log says what; the tenant's delivery log says no more than that.
            logger.LogError(e, "Webhook delivery {DeliveryId}: the attempt could not be made.", delivery.Id);
            return Retry(delivery, attempt, null, "The attempt could not be made (an error in the service).", null);
        }
    }

    private AttemptResult Retry(ClaimedDelivery delivery, int attempt, int? code, string error, TimeSpan? retryAfter)
    {
        if (schedule.Next(attempt, retryAfter) is { } delay)
            return new AttemptResult(DeliveryStatus.Pending, code, error, time.Now() + delay, null);
        return new AttemptResult(DeliveryStatus.Failed, code, $"{error} Gave up after {attempt} attempts.", null,
            "no delivery succeeded during a whole retry schedule (about 3 days): disabled.");
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is not { } header) return null;
        if (header.Delta is { } delta) return delta;
        return header.Date is { } date ? date - time.GetUtcNow() : null;
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300];

    public override void Dispose()
    {
        wake.Dispose();
        base.Dispose();
    }
}

public static class WebhookMetrics
{
    public static readonly Counter Deliveries = Metrics.CreateCounter(
        "livechat_webhook_deliveries_total", "Webhook delivery attempts by outcome: succeeded, retry (failed, will be retried), failed (for good).", "outcome");

    public static readonly Gauge OldestPendingSeconds = Metrics.CreateGauge(
        "livechat_webhook_oldest_pending_seconds", "Age of the oldest pending webhook delivery (0 when none is pending), refreshed every 15 s.");
}
