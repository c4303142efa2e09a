using System.Data.Common;
using Livechat.Api;
using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Webhooks;

public abstract record RedeliverOutcome
{
    public sealed record Queued(WebhookDelivery Delivery) : RedeliverOutcome;
    public sealed record NotFound : RedeliverOutcome;
    public sealed record StillPending : RedeliverOutcome;
    public sealed record Disabled : RedeliverOutcome;
}

/// <summary>A delivery the worker claimed: what to send, where, signed with which secrets.</summary>
public sealed record ClaimedDelivery(Guid Claim, long TenantId, Guid Id, Guid WebhookId, Guid EventId, int AttemptsMade, string Url, string Payload,
    IReadOnlyList<string> Secrets, DateTimeOffset CreatedAt);

/// <summary>The limits of a claim: attempts in flight per webhook and per tenant (all instances together), and the lease.</summary>
public sealed record ClaimLimits(int PerWebhook, int PerTenant, TimeSpan Lease);

/// <summary>What one attempt came to.</summary>
public sealed record AttemptResult(string Status, int? StatusCode, string? Error, DateTimeOffset? NextAttemptAt, string? DisableWebhook);

/// <summary>The SQL of webhooks and their outbox. Every statement is scoped by tenant, except the worker's claim, which serves all.</summary>
public sealed class WebhookStore(Database database, WritePath writes, WebhookTenants tenants, TimeProvider time)
{
    private const string Columns = "id, url, events, description, enabled, disabled_reason, created_at, updated_at";
    private const string DeliveryColumns = "id, event_id, event_type, status, attempts, last_status_code, last_error, next_attempt_at, created_at, updated_at";

    /// <summary>
    /// Creates a webhook unless the tenant has <paramref name="maxPerTenant"/> already: then the outcome is null
    /// and nothing is stored. The count and the insert are one statement; on PostgreSQL the tenant's row is
    /// locked first, so two creates of one tenant in different transactions take turns and the second counts
    /// the first (SQLite has one writer, so they take turns anyway).
    /// </summary>
    public Task<Written<Webhook?>> CreateAsync(long tenantId, string url, IReadOnlyList<string> events, string? description, int maxPerTenant,
        AuditActor actor, IdempotencyClaim? claim, CancellationToken cancellationToken)
    {
        var now = time.Now();
        var webhook = new Webhook(Guid.CreateVersion7(now), url, events, description, true, now, now) { Secret = WebhookSigner.NewSecret() };
        // Planned changes of the tenant send their outbox rows from now on, rather than find out from their check.
        tenants.Saw(tenantId, true);
        return AuditedAsync<Webhook?>(async (connection, transaction) =>
        {
            if (connection is Npgsql.NpgsqlConnection)
            {
                // NO KEY UPDATE: other writes' foreign keys to the tenant (KEY SHARE) do not wait for it.
                await using var lockTenant = connection.Sql("SELECT id FROM tenants WHERE id = @tenant FOR NO KEY UPDATE", transaction).With("tenant", tenantId);
                await lockTenant.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var command = connection.Sql("""
                INSERT INTO webhooks (tenant_id, id, url, events, description, enabled, secret, created_at, updated_at)
                SELECT @tenant, @id, @url, @events, @description, TRUE, @secret, @now, @now
                WHERE (SELECT count(*) FROM webhooks WHERE tenant_id = @tenant) < @max
                """, transaction)
                .With("tenant", tenantId).With("id", webhook.Id).With("url", url).With("events", string.Join(' ', events))
                .With("description", description).With("secret", webhook.Secret).With("now", now).With("max", maxPerTenant);
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? webhook : null;
        }, created => Audit(tenantId, actor, "webhook.created", created?.Id), claim, cancellationToken);
    }

    public Task<Webhook?> FindAsync(long tenantId, Guid id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => FindAsync(connection, null, tenantId, id, cancellationToken), cancellationToken);

    private static async Task<Webhook?> FindAsync(DbConnection connection, DbTransaction? transaction, long tenantId, Guid id, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql($"SELECT {Columns} FROM webhooks WHERE tenant_id = @tenant AND id = @id", transaction)
            .With("tenant", tenantId).With("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>The tenant's webhooks, oldest first (a tenant has a handful).</summary>
    public Task<List<Webhook>> ListAsync(long tenantId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {Columns} FROM webhooks WHERE tenant_id = @tenant ORDER BY created_at, id").With("tenant", tenantId);
            var webhooks = new List<Webhook>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) webhooks.Add(Read(reader));
            return webhooks;
        }, cancellationToken);

    /// <summary>Changes the given fields; enabling clears the reason the service disabled it. Null when there is no such webhook.</summary>
    public async Task<Webhook?> UpdateAsync(long tenantId, Guid id, string? url, IReadOnlyList<string>? events, bool setDescription, string? description,
        bool? enabled, AuditActor actor, CancellationToken cancellationToken) =>
        ((Written<Webhook?>.Done)await AuditedAsync<Webhook?>(async (connection, transaction) =>
        {
            if (enabled == true) tenants.Saw(tenantId, true);
            var current = await FindAsync(connection, transaction, tenantId, id, cancellationToken);
            if (current is null) return null;
            var updated = current with
            {
                Url = url ?? current.Url,
                Events = events ?? current.Events,
                Description = setDescription ? description : current.Description,
                Enabled = enabled ?? current.Enabled,
                UpdatedAt = time.Now(),
                DisabledReason = enabled is null ? current.DisabledReason : null,
            };
            await using var command = connection.Sql("""
                UPDATE webhooks SET url = @url, events = @events, description = @description, enabled = @enabled, disabled_reason = @reason, updated_at = @now
                WHERE tenant_id = @tenant AND id = @id
                """, transaction)
                .With("url", updated.Url).With("events", string.Join(' ', updated.Events)).With("description", updated.Description)
                .With("enabled", updated.Enabled).With("reason", updated.DisabledReason).With("now", updated.UpdatedAt).With("tenant", tenantId).With("id", id);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return updated;
        }, updated => Audit(tenantId, actor, "webhook.updated", updated?.Id), null, cancellationToken)).Outcome;

    /// <summary>Deletes the webhook and its delivery log. False when there is no such webhook.</summary>
    public async Task<bool> DeleteAsync(long tenantId, Guid id, AuditActor actor, CancellationToken cancellationToken) =>
        ((Written<bool>.Done)await AuditedAsync(async (connection, transaction) =>
        {
            await using var command = connection.Sql("DELETE FROM webhooks WHERE tenant_id = @tenant AND id = @id", transaction).With("tenant", tenantId).With("id", id);
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, deleted => Audit(tenantId, actor, "webhook.deleted", deleted ? id : null), null, cancellationToken)).Outcome;

    /// <summary>A new secret; the current one keeps signing beside it for 24 h. Null when there is no such webhook.</summary>
    public Task<Written<Webhook?>> RotateSecretAsync(long tenantId, Guid id, AuditActor actor, IdempotencyClaim? claim, CancellationToken cancellationToken) =>
        AuditedAsync<Webhook?>(async (connection, transaction) =>
        {
            var now = time.Now();
            var secret = WebhookSigner.NewSecret();
            await using (var command = connection.Sql("""
                UPDATE webhooks SET previous_secret = secret, previous_secret_until = @until, secret = @secret, updated_at = @now
                WHERE tenant_id = @tenant AND id = @id
                """, transaction)
                .With("until", now + WebhookSigner.RotationOverlap).With("secret", secret).With("now", now).With("tenant", tenantId).With("id", id))
            {
                if (await command.ExecuteNonQueryAsync(cancellationToken) == 0) return null;
            }
            return await FindAsync(connection, transaction, tenantId, id, cancellationToken) is { } rotated ? rotated with { Secret = secret } : null;
        }, rotated => Audit(tenantId, actor, "webhook.secret_rotated", rotated?.Id), claim, cancellationToken);

    /// <summary>Queues a <c>webhook.ping</c> for this webhook alone. The event id, or null when there is no such webhook.</summary>
    public Task<Written<Guid?>> PingAsync(long tenantId, Guid id, IdempotencyClaim? claim, CancellationToken cancellationToken) =>
        writes.RunAsync(scope =>
        {
            Guid? queued = null;
            WebhookOutbox.Defer(scope, tenantId, WebhookEventTypes.Ping, WebhookOutbox.PingData(id), onlyWebhook: id, written: eventId => queued = eventId);
            return Task.FromResult(Change.Later(() => queued));
        }, claim, cancellationToken);

    /// <summary>The webhook's deliveries, newest first; null when the cursor is not one of them.</summary>
    public Task<Page<WebhookDelivery>?> DeliveriesAsync(long tenantId, Guid webhookId, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => NewestFirst.PageAsync(connection, "webhook_deliveries", DeliveryColumns, "tenant_id = @tenant AND webhook_id = @webhook", "",
            command => command.With("tenant", tenantId).With("webhook", webhookId), page, ReadDelivery, d => d.Id, cancellationToken), cancellationToken);

    /// <summary>Sends a finished delivery's event again, as a new delivery with the same event (and so the same <c>webhook-id</c>).</summary>
    public Task<Written<RedeliverOutcome>> RedeliverAsync(long tenantId, Guid webhookId, Guid deliveryId, IdempotencyClaim? claim, CancellationToken cancellationToken) =>
        AuditedAsync<RedeliverOutcome>(async (connection, transaction) =>
        {
            var webhook = await FindAsync(connection, transaction, tenantId, webhookId, cancellationToken);
            WebhookDelivery? original;
            await using (var find = connection.Sql($"SELECT {DeliveryColumns} FROM webhook_deliveries WHERE tenant_id = @tenant AND webhook_id = @webhook AND id = @id", transaction)
                .With("tenant", tenantId).With("webhook", webhookId).With("id", deliveryId))
            await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
                original = await reader.ReadAsync(cancellationToken) ? ReadDelivery(reader) : null;
            if (webhook is null || original is null) return new RedeliverOutcome.NotFound();
            if (!webhook.Enabled) return new RedeliverOutcome.Disabled();
            if (original.Status == DeliveryStatus.Pending) return new RedeliverOutcome.StillPending();

            var now = time.Now();
            var delivery = new WebhookDelivery(Guid.CreateVersion7(now), original.EventId, original.EventType, DeliveryStatus.Pending, 0, null, null, now, now, now);
            await using var insert = connection.Sql("""
                INSERT INTO webhook_deliveries (tenant_id, id, webhook_id, event_id, event_type, status, attempts, next_attempt_at, created_at, updated_at)
                VALUES (@tenant, @id, @webhook, @event, @type, 'pending', 0, @now, @now, @now)
                """, transaction)
                .With("tenant", tenantId).With("id", delivery.Id).With("webhook", webhookId).With("event", delivery.EventId).With("type", delivery.EventType).With("now", now);
            await insert.ExecuteNonQueryAsync(cancellationToken);
            return new RedeliverOutcome.Queued(delivery);
        }, _ => null, claim, cancellationToken); // a redelivery changes no configuration

    /// <summary>
    /// Claims up to <paramref name="take"/> due deliveries of enabled webhooks (see <see cref="ClaimDueAsync"/>).
    /// </summary>
    public Task<List<ClaimedDelivery>> ClaimAsync(int take, ClaimLimits limits, CancellationToken cancellationToken) =>
        WorkerWriteAsync((connection, transaction) => ClaimDueAsync(connection, transaction, take, limits, cancellationToken), cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="take"/> due deliveries of enabled webhooks for the lease, fairly:
    /// <list type="bullet">
    /// <item>a webhook has at most <see cref="ClaimLimits.PerWebhook"/> attempts in flight and a tenant at most
    /// <see cref="ClaimLimits.PerTenant"/> (all instances together, counted from the leases), so one tenant's
    /// slow or failing receivers never hold every slot;</item>
    /// <item>the tenants take turns (round robin): each delivery is numbered within its tenant after the tenant's
    /// attempts in flight, and the lowest numbers are claimed first, so the first due delivery of a tenant with
    /// nothing in flight goes before the backlog of a busy one, whatever their ages. Within a tenant its
    /// webhooks take turns the same way.</item>
    /// </list>
    /// On PostgreSQL <c>FOR UPDATE SKIP LOCKED</c> lets instances claim side by side without ever taking one
    /// row twice: a row another instance is claiming is skipped, and one it has claimed no longer qualifies (its
    /// lease is in the future; the lock re-checks the row's current version). SQLite has one writer, so the same
    /// UPDATE ... RETURNING is the claim there. Two instances claiming at the same moment may each count the
    /// other's claims as not yet made and go one or two past a limit for that moment; the next claims count them.
    /// </summary>
    private async Task<List<ClaimedDelivery>> ClaimDueAsync(DbConnection connection, DbTransaction transaction, int take, ClaimLimits limits,
        CancellationToken cancellationToken)
    {
        var now = time.Now();
        var claim = Guid.CreateVersion7(now);
        var skipLocked = connection is Npgsql.NpgsqlConnection ? "FOR UPDATE OF c SKIP LOCKED" : "";
        await using var command = connection.Sql($"""
            WITH busy AS (
                -- attempts in flight (leased), per webhook, on any instance
                SELECT tenant_id, webhook_id, count(*) AS in_flight FROM webhook_deliveries
                WHERE status = 'pending' AND locked_until > @now
                GROUP BY tenant_id, webhook_id
            ), tenant_busy AS (
                SELECT tenant_id, sum(in_flight) AS in_flight FROM busy GROUP BY tenant_id
            ), due AS (
                -- each webhook's due deliveries, oldest first, numbered after its attempts in flight
                SELECT d.tenant_id, d.id, d.next_attempt_at,
                       COALESCE(b.in_flight, 0) + row_number() OVER (PARTITION BY d.tenant_id, d.webhook_id ORDER BY d.next_attempt_at, d.id) AS webhook_turn
                FROM webhook_deliveries d
                JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id AND w.enabled = TRUE
                LEFT JOIN busy b ON b.tenant_id = d.tenant_id AND b.webhook_id = d.webhook_id
                WHERE d.status = 'pending' AND d.next_attempt_at <= @now AND (d.locked_until IS NULL OR d.locked_until <= @now)
            ), turns AS (
                -- those within their webhook's limit, numbered within their tenant after its attempts in flight
                SELECT u.tenant_id, u.id, u.next_attempt_at,
                       COALESCE(t.in_flight, 0) + row_number() OVER (PARTITION BY u.tenant_id ORDER BY u.webhook_turn, u.next_attempt_at, u.id) AS tenant_turn
                FROM due u LEFT JOIN tenant_busy t ON t.tenant_id = u.tenant_id
                WHERE u.webhook_turn <= @per_webhook
            )
            UPDATE webhook_deliveries SET locked_by = @claim, locked_until = @lease_until
            WHERE (tenant_id, id) IN (
                SELECT c.tenant_id, c.id FROM webhook_deliveries c
                WHERE c.status = 'pending' AND c.next_attempt_at <= @now AND (c.locked_until IS NULL OR c.locked_until <= @now)
                  AND (c.tenant_id, c.id) IN (SELECT tenant_id, id FROM turns WHERE tenant_turn <= @per_tenant ORDER BY tenant_turn, next_attempt_at, id LIMIT @take)
                {skipLocked})
              AND status = 'pending' AND (locked_until IS NULL OR locked_until <= @now)
            RETURNING tenant_id, id, webhook_id, event_id, attempts, created_at
            """, transaction)
            .With("claim", claim).With("lease_until", now + limits.Lease).With("now", now)
            .With("per_webhook", limits.PerWebhook).With("per_tenant", limits.PerTenant).With("take", take);
        return await ReadClaimedAsync(connection, transaction, command, claim, now, cancellationToken);
    }

    /// <summary>
    /// Extends the lease of a delivery whose attempt is still running, so the lease can be short (a crashed
    /// instance's claims are free again soon) whatever the attempt's timeout. False when the claim is no longer ours.
    /// </summary>
    public Task<bool> RenewAsync(ClaimedDelivery delivery, TimeSpan leaseFor, CancellationToken cancellationToken) =>
        WorkerWriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Sql("""
                UPDATE webhook_deliveries SET locked_until = @lease_until
                WHERE tenant_id = @tenant AND id = @id AND locked_by = @claim AND status = 'pending'
                """, transaction)
                .With("lease_until", time.Now() + leaseFor).With("tenant", delivery.TenantId).With("id", delivery.Id).With("claim", delivery.Claim);
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    /// <summary>Gives a claimed delivery back without an attempt (the service is stopping, or its attempt could not be recorded): it is due again at once.</summary>
    public Task ReleaseAsync(ClaimedDelivery delivery, CancellationToken cancellationToken) =>
        WorkerWriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Sql("""
                UPDATE webhook_deliveries SET locked_by = NULL, locked_until = NULL
                WHERE tenant_id = @tenant AND id = @id AND locked_by = @claim AND status = 'pending'
                """, transaction)
                .With("tenant", delivery.TenantId).With("id", delivery.Id).With("claim", delivery.Claim);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// In the transaction that records an attempt: claims the same webhook's next due delivery, if the webhook is
    /// enabled and below its limit of attempts in flight. Both probes are ranges of one webhook's pending rows,
    /// where the fair claim (<see cref="ClaimDueAsync"/>) ranks every due row: handing a slot on is cheap. The
    /// tenant's attempts in flight do not change (one ends, one starts), so its limit holds.
    /// </summary>
    private async Task<ClaimedDelivery?> ClaimNextAsync(DbConnection connection, DbTransaction transaction, long tenantId, Guid webhookId, int perWebhook,
        TimeSpan leaseFor, CancellationToken cancellationToken)
    {
        var now = time.Now();
        var claim = Guid.CreateVersion7(now);
        var skipLocked = connection is Npgsql.NpgsqlConnection ? "FOR UPDATE SKIP LOCKED" : "";
        await using var command = connection.Sql($"""
            UPDATE webhook_deliveries SET locked_by = @claim, locked_until = @lease_until
            WHERE (tenant_id, id) IN (
                SELECT c.tenant_id, c.id FROM webhook_deliveries c
                WHERE c.tenant_id = @tenant AND c.webhook_id = @webhook AND c.status = 'pending' AND c.next_attempt_at <= @now
                  AND (c.locked_until IS NULL OR c.locked_until <= @now)
                  AND (SELECT count(*) FROM webhook_deliveries f
                       WHERE f.tenant_id = @tenant AND f.webhook_id = @webhook AND f.status = 'pending' AND f.locked_until > @now) < @per_webhook
                  AND EXISTS (SELECT 1 FROM webhooks w WHERE w.tenant_id = @tenant AND w.id = @webhook AND w.enabled = TRUE)
                ORDER BY c.next_attempt_at
                LIMIT 1
                {skipLocked})
              AND status = 'pending' AND (locked_until IS NULL OR locked_until <= @now)
            RETURNING tenant_id, id, webhook_id, event_id, attempts, created_at
            """, transaction)
            .With("claim", claim).With("lease_until", now + leaseFor).With("now", now).With("tenant", tenantId).With("webhook", webhookId).With("per_webhook", perWebhook);
        var claimed = await ReadClaimedAsync(connection, transaction, command, claim, now, cancellationToken);
        return claimed.Count > 0 ? claimed[0] : null;
    }

    /// <summary>Runs a claiming UPDATE ... RETURNING and loads what each claimed delivery needs: URL, body, secrets.</summary>
    private static async Task<List<ClaimedDelivery>> ReadClaimedAsync(DbConnection connection, DbTransaction transaction, DbCommand command, Guid claim,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var claimed = new List<(long Tenant, Guid Id, Guid Webhook, Guid Event, int Attempts, DateTimeOffset CreatedAt)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                claimed.Add((reader.GetInt64(0), reader.GetId(1), reader.GetId(2), reader.GetId(3), reader.GetInt32(4), reader.GetTime(5)));
        }

        var result = new List<ClaimedDelivery>(claimed.Count);
        foreach (var c in claimed)
        {
            await using var details = connection.Sql("""
                SELECT w.url, e.payload, w.secret, w.previous_secret, w.previous_secret_until
                FROM webhooks w JOIN webhook_events e ON e.tenant_id = w.tenant_id AND e.id = @event
                WHERE w.tenant_id = @tenant AND w.id = @webhook
                """, transaction).With("tenant", c.Tenant).With("event", c.Event).With("webhook", c.Webhook);
            await using var reader = await details.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken)) continue;
            var secrets = new List<string> { reader.GetString(2) };
            if (!reader.IsDBNull(3) && reader.GetTimeOrNull(4) > now) secrets.Add(reader.GetString(3));
            result.Add(new ClaimedDelivery(claim, c.Tenant, c.Id, c.Webhook, c.Event, c.Attempts, reader.GetString(0), reader.GetString(1), secrets, c.CreatedAt));
        }
        return result;
    }

    /// <summary>
    /// Records an attempt, if this instance still holds the lease (one that ran out and was claimed again is
    /// the other instance's to record). A disabling outcome (410, or three days of failures) disables the
    /// webhook in the same transaction; "three days of failures" means no delivery of the webhook succeeded
    /// since this one was created.
    /// </summary>
    /// <returns>
    /// Whether it was recorded, and the webhook's next due delivery, claimed in the same transaction when
    /// <paramref name="claimNext"/> is set: a finished attempt hands its slot on without a claim of its own.
    /// </returns>
    public Task<(bool Recorded, ClaimedDelivery? Next)> RecordAsync(ClaimedDelivery delivery, AttemptResult result, ClaimLimits? claimNext,
        CancellationToken cancellationToken) =>
        WorkerWriteAsync<(bool, ClaimedDelivery?)>(async (connection, transaction) =>
        {
            var now = time.Now();
            await using (var command = connection.Sql("""
                UPDATE webhook_deliveries
                SET status = @status, attempts = attempts + 1, last_status_code = @code, last_error = @error, next_attempt_at = @next,
                    locked_by = NULL, locked_until = NULL, updated_at = @now
                WHERE tenant_id = @tenant AND id = @id AND locked_by = @claim
                """, transaction)
                .With("status", result.Status).With("code", result.StatusCode).With("error", result.Error).With("next", result.NextAttemptAt)
                .With("now", now).With("tenant", delivery.TenantId).With("id", delivery.Id).With("claim", delivery.Claim))
            {
                if (await command.ExecuteNonQueryAsync(cancellationToken) == 0) return (false, null);
            }
            if (result.DisableWebhook is { } reason)
            {
                var onlyIfNoSuccess = result.Status == DeliveryStatus.Failed && result.StatusCode != 410
                    ? "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries s WHERE s.tenant_id = @tenant AND s.webhook_id = @id AND s.status = 'succeeded' AND s.updated_at >= @since)"
                    : "";
                await using var disable = connection.Sql($"""
                    UPDATE webhooks SET enabled = FALSE, disabled_reason = @reason, updated_at = @now
                    WHERE tenant_id = @tenant AND id = @id AND enabled = TRUE {onlyIfNoSuccess}
                    """, transaction)
                    .With("reason", reason).With("now", now).With("tenant", delivery.TenantId).With("id", delivery.WebhookId).With("since", delivery.CreatedAt);
                await disable.ExecuteNonQueryAsync(cancellationToken);
            }
            if (claimNext is not { } limits) return (true, null);
            return (true, await ClaimNextAsync(connection, transaction, delivery.TenantId, delivery.WebhookId, limits.PerWebhook, limits.Lease, cancellationToken));
        }, cancellationToken);

    /// <summary>Deletes finished deliveries older than <paramref name="before"/>, then events no delivery needs any more.</summary>
    public Task<int> CleanUpAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        WorkerWriteAsync(async (connection, transaction) =>
        {
            int deleted;
            await using (var deliveries = connection.Sql("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < @before", transaction).With("before", before))
                deleted = await deliveries.ExecuteNonQueryAsync(cancellationToken);
            await using var events = connection.Sql("""
                DELETE FROM webhook_events
                WHERE created_at < @before
                  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.tenant_id = webhook_events.tenant_id AND d.event_id = webhook_events.id)
                """, transaction).With("before", before);
            await events.ExecuteNonQueryAsync(cancellationToken);
            return deleted;
        }, cancellationToken);

    /// <summary>When the oldest pending delivery was created, or null when none is pending.</summary>
    public Task<DateTimeOffset?> OldestPendingAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? reader.GetTimeOrNull(0) : null;
        }, cancellationToken);

    /// <summary>
    /// An administrative change, through the write path: its audit row (contract section 21) and, for a POST, its
    /// <c>Idempotency-Key</c> commit with it. <paramref name="audit"/> says what to record, null when nothing changed.
    /// </summary>
    private Task<Written<T>> AuditedAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, Func<T, Audited?> audit, IdempotencyClaim? claim,
        CancellationToken cancellationToken) =>
        writes.RunAsync(async scope =>
        {
            var outcome = await work(scope.Connection, scope.Transaction);
            return audit(outcome) is { } audited ? Change.Of(outcome, audited) : Change.Of(outcome);
        }, claim, cancellationToken);

    private static Audited? Audit(long tenantId, AuditActor actor, string action, Guid? webhookId) =>
        webhookId is { } id ? new Audited(tenantId, actor, action, $"webhook:{id}") : null;

    /// <summary>
    /// The worker's own writes (claims, outcomes, clean-up): on PostgreSQL each is a short transaction of its
    /// own, so delivery bookkeeping never joins (or waits in) the batches of the API's writer loops.
    /// </summary>
    private Task<T> WorkerWriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        database.WriteApartAsync(work, cancellationToken);

    private static Webhook Read(DbDataReader reader) =>
        new(reader.GetId(0), reader.GetString(1), reader.GetString(2).Split(' ', StringSplitOptions.RemoveEmptyEntries),
            reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetBoolean(4), reader.GetTime(6), reader.GetTime(7))
        {
            DisabledReason = reader.IsDBNull(5) ? null : reader.GetString(5),
        };

    private static WebhookDelivery ReadDelivery(DbDataReader reader) =>
        new(reader.GetId(0), reader.GetId(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
            reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetTimeOrNull(7),
            reader.GetTime(8), reader.GetTime(9));
}
