using Livechat.Agents;
using Livechat.Changes;
using Livechat.Sessions;

namespace Livechat.Routing;

/// <summary>
/// Capacity that appears goes to the oldest queued chat at once, in the same transaction as the change that
/// made it appear: a close, a transfer or requeue that freed a slot, an agent coming ONLINE, a raised
/// <c>max_sessions</c>. When the queue moved, every queued session hears its new position.
/// </summary>
public sealed class QueueRouting(AgentSlots slots) : IChangeHandler
{
    /// <summary>Positions are pushed for this many sessions at the front of the queue; the rest read theirs on their next GET.</summary>
    public const int PositionsPushed = 500;

    public async Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        switch (domainEvent)
        {
            case CapacityFreed freed:
                await SessionQueue.AssignQueuedAsync(scope, slots, freed.TenantId, cancellationToken);
                break;
            case PresenceUpdated { Agent.Presence: Presence.Online } online:
                await SessionQueue.AssignQueuedAsync(scope, slots, online.TenantId, cancellationToken);
                break;
            case QueueChanged changed:
                foreach (var session in await SessionQueue.QueuedAsync(scope.Connection, scope.Transaction, changed.TenantId, PositionsPushed, cancellationToken))
                    scope.Raise(new SessionUpdated(session));
                break;
        }
    }
}
