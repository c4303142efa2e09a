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
    public Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken) => domainEvent switch
    {
        SessionStarted started => EnqueueAsync(scope, started, WebhookEventTypes.SessionCreated, started.Session, cancellationToken),
        // Status, agent or queue position changed (closed, assigned, queued, transferred, requeued).
        SessionUpdated updated => EnqueueAsync(scope, updated, WebhookEventTypes.SessionUpdated, updated.Session, cancellationToken),
        MessageCreated created => EnqueueAsync(scope, created, WebhookEventTypes.MessageCreated, created.Message, cancellationToken),
        TicketOpened { Reused: false } opened => EnqueueAsync(scope, opened, WebhookEventTypes.TicketCreated, opened.Ticket, cancellationToken),
        // A read marker moved forward (POST .../read); data is the messagesRead payload.
        MessagesRead read => EnqueueAsync(scope, read, WebhookEventTypes.MessagesRead, read.Read, cancellationToken),
        _ => Task.CompletedTask,
    };

    private static Task EnqueueAsync(ChangeScope scope, DomainEvent domainEvent, string type, object data, CancellationToken cancellationToken)
    {
        _ = cancellationToken; // the deferred statements run with the change's, before its commit
        WebhookOutbox.Defer(scope, domainEvent.TenantId, type, data);
        return Task.CompletedTask;
    }
}
