using Livechat.Changes;
using Livechat.Messages;

namespace Livechat.Reading;

/// <summary>
/// A sent message moves its sender's read marker to it, in the message's transaction: whoever answers has
/// read what came before. No <c>messagesRead</c> for it: the <c>messageCreated</c> already says so.
/// </summary>
public sealed class MoveSendersMarker : IChangeHandler
{
    public async Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        if (domainEvent is not MessageCreated created) return;
        var message = created.Message;
        await ReadMarkers.MoveAsync(scope.Connection, scope.Transaction, created.TenantId, message.SessionId, message.SenderId, message.Id, created.Seq,
            scope.Now, cancellationToken);
    }
}
