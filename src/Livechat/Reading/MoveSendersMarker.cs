using Livechat.Changes;
using Livechat.Messages;

namespace Livechat.Reading;

/// <summary>
/// A sent message moves its sender's read marker to it, in the message's transaction: whoever answers has
/// read what came before. No <c>messagesRead</c> for it: the <c>messageCreated</c> already says so.
/// </summary>
public sealed class MoveSendersMarker : IChangeHandler
{
    public Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        // Nobody waits for its result: it joins the change's deferred statements (one round trip before the commit).
        if (domainEvent is MessageCreated created)
            ReadMarkers.Move(scope, created.TenantId, created.Message.SessionId, created.Message.SenderId, created.Message.Id);
        return Task.CompletedTask;
    }
}
