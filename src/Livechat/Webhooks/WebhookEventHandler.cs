using System.Collections.Concurrent;
using System.Text.Json;
using Livechat.Api;
using Livechat.Changes;
using Livechat.Data;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Livechat.Webhooks;

/// <summary>
/// The outbox's door to the write path: in the transaction of each change, its domain events become webhook
/// events (and their deliveries) for the tenant's subscribed webhooks. A change that rolls back takes them
/// with it; a committed one is delivered even if the process dies right after the commit. An event that may
/// turn out not to have happened (<see cref="DomainEvent.HappenedIf"/>) gets rows only if it did.
/// <para>
/// Most tenants have no webhook, and a planned change (a plain message) would still send the outbox's two
/// statements, which write nothing: on a machine where the service and the database share the CPU, that cost a
/// tenth of the send rate (docs/performance.md). So a planned change of a tenant this process last saw without
/// an enabled webhook (<see cref="WebhookTenants"/>) sends no outbox statement. It is not a guess: the plans of
/// one round trip send one check of the tenant's webhooks between them, and when the check finds one, its
/// reader defers the skipped changes' outbox rows as follow-ups, which run in one more round trip before the
/// commit. What a change records is therefore what it recorded before: an event for every enabled webhook its
/// transaction sees. Where a run's plans run one after the other (SQLite), the plans after the check decide by
/// what it read.
/// </para>
/// </summary>
public sealed class WebhookEventHandler(WebhookTenants tenants, IOptions<JsonOptions> json) : IChangeHandler
{
    private const string CheckSql = "SELECT 1 FROM webhooks WHERE tenant_id = @tenant AND enabled = TRUE LIMIT 1";

    public Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        // What the event declares it sends (IWebhookEvent). The outbox rows are deferred statements: they run with the
        // change's others just before its commit.
        if (domainEvent is not IWebhookEvent { Webhook: not null }) return Task.CompletedTask;
        if (scope.Run is { } run)
        {
            // What the run's check read, once it has run (SQLite); until then, what this process last saw.
            var check = Check(run, scope, domainEvent.TenantId);
            if ((check.Found ?? tenants.Has(domainEvent.TenantId)) == false)
            {
                check.Skipped.Add((scope, domainEvent));
                return Task.CompletedTask;
            }
        }
        Defer(scope, domainEvent);
        return Task.CompletedTask;
    }

    private void Defer(ChangeScope scope, DomainEvent domainEvent)
    {
        var webhookEvent = ((IWebhookEvent)domainEvent).Webhook!;
        var data = JsonSerializer.Serialize(webhookEvent.Data, webhookEvent.Data.GetType(), json.Wire()); // as a REST answer writes it
        var push = (domainEvent as IPushedEvent)?.Push;
        WebhookOutbox.Defer(scope, domainEvent.TenantId, webhookEvent.Type, data, onlyIf: domainEvent.HappenedIf, about: (push?.SessionId, push?.Actor));
    }

    /// <summary>The run's one check of the tenant's webhooks, deferred by the first change of the run that needs it.</summary>
    private TenantCheck Check(PlanRun run, ChangeScope scope, long tenantId)
    {
        var key = new TenantCheckKey(tenantId);
        if (run.Shared.TryGetValue(key, out var shared)) return (TenantCheck)shared;
        var check = new TenantCheck();
        run.Shared[key] = check;
        scope.DeferQuery(CheckSql, async (reader, cancellationToken) =>
        {
            var has = await reader.ReadAsync(cancellationToken);
            check.Found = has;
            tenants.Saw(tenantId, has);
            if (!has) return;
            // Changes of the run skipped their outbox rows, but the tenant has a webhook (made since this process
            // last looked): their rows follow, before the commit (those of an event known not to have happened do not).
            foreach (var (skippedScope, skipped) in check.Skipped)
            {
                if (skippedScope.AsItHappened(skipped) is not null) Defer(skippedScope, skipped);
            }
            check.Skipped.Clear();
        }).With("tenant", tenantId);
        return check;
    }

    private sealed record TenantCheckKey(long TenantId);

    private sealed class TenantCheck
    {
        /// <summary>What the check read, once it ran: where a run's plans run one after the other (SQLite), the later ones decide by it.</summary>
        public bool? Found;

        /// <summary>The events whose changes relied on this process's hint and sent no outbox rows.</summary>
        public readonly List<(ChangeScope Scope, DomainEvent Event)> Skipped = [];
    }
}

/// <summary>
/// Whether each tenant had an enabled webhook when this process last looked: a hint for planned changes,
/// confirmed in every batch that relies on it (see <see cref="WebhookEventHandler"/>). One entry per tenant.
/// </summary>
public sealed class WebhookTenants
{
    private readonly ConcurrentDictionary<long, bool> known = new();

    /// <summary>Null when this process has not looked yet.</summary>
    public bool? Has(long tenantId) => known.TryGetValue(tenantId, out var has) ? has : null;

    public void Saw(long tenantId, bool has) => known[tenantId] = has;
}
