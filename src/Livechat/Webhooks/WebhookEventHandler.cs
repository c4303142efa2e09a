using Livechat.Changes;
using Livechat.Messages;
using Livechat.Reading;
using Livechat.Sessions;
using Livechat.Tickets;

namespace Livechat.Webhooks;

/// <summary>
/// The outbox's door to the write path: in the transaction of each change, its domain events become webhook
/// events (and their deliveries) for the tenant's subscribed webhooks. A change that rolls back takes them
/// with it; a committed one is delivered even if the process dies right after the commit.
/// </summary>
public sealed class WebhookEventHandler : IChangeHandler
{
    public Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        // The outbox rows are deferred statements: they run with the change's others just before its commit.
        (string Type, object Data)? webhookEvent = domainEvent switch
        {
            SessionStarted started => (WebhookEventTypes.SessionCreated, started.Session),
            // Status, agent or queue position changed (closed, assigned, queued, transferred, requeued).
            SessionUpdated updated => (WebhookEventTypes.SessionUpdated, updated.Session),
            MessageCreated created => (WebhookEventTypes.MessageCreated, created.Message),
            TicketOpened { Reused: false } opened => (WebhookEventTypes.TicketCreated, opened.Ticket),
            // A read marker moved forward (POST .../read); data is the messagesRead payload.
            MessagesRead read => (WebhookEventTypes.MessagesRead, read.Read),
            _ => null,
        };
        if (webhookEvent is var (type, data)) WebhookOutbox.Defer(scope, domainEvent.TenantId, type, data);
        return Task.CompletedTask;
    }
}
