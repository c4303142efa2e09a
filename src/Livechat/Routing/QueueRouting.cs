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
                // One statement reads the front of the queue with its positions and who hears of each; one event pushes them.
                var queued = await SessionQueue.QueuedWithUsersAsync(scope, changed.TenantId, PositionsPushed, cancellationToken);
                if (queued.Count > 0) scope.Raise(new QueuePositionsChanged(changed.TenantId, queued));
                break;
        }
    }
}

/// <summary>A queued session, its place, and the tenant users who hear of it (its participants).</summary>
public sealed record QueuedSession(ChatSession Session, IReadOnlyList<long> Users);

/// <summary>
/// The queue moved (contract section 10): each session at its front, up to <see cref="QueueRouting.PositionsPushed"/>,
/// with its new <c>queue_position</c>. Clients hear one <c>sessionUpdated</c> per session, as the contract says; webhooks
/// hear nothing of it, since a place in the queue is not a change of the session's status or agent (docs/webhooks.md).
/// </summary>
public sealed record QueuePositionsChanged(long TenantId, IReadOnlyList<QueuedSession> Queued) : DomainEvent(TenantId), IPushedEvents
{
    public IReadOnlyList<Push> Pushes => [.. Queued.Select(queued =>
        new Push(SessionUpdated.Name, queued.Session, Hearers.SessionState) { SessionId = queued.Session.Id, SessionUsers = queued.Users })];
}
