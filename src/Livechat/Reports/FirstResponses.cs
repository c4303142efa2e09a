using System.Collections.Concurrent;
using Livechat.Changes;
using Livechat.Messages;
using Livechat.Sessions;

namespace Livechat.Reports;

/// <summary>
/// The agents this process has seen write in a session (a committed message of theirs there), so that
/// recording a session's first response (<see cref="RecordSessionFacts"/>) costs the send path a statement only
/// with an agent's first message in a session, not with every reply. Once that message committed, its
/// statement either recorded the first response or found one recorded, or found the agent was not the
/// session's; only an assignment can change the last, so an assignment forgets that agent in that session.
/// What this process has not seen (another instance's commit, an evicted entry) runs the statement again,
/// which changes nothing. As <see cref="KnownParticipants"/> does for participation.
/// </summary>
public sealed class FirstResponses : IEventSink
{
    /// <summary>Entries kept at most; beyond it the set starts again empty (the next reply of each runs its statement again).</summary>
    public const int MaxKnown = 100_000;

    private readonly ConcurrentDictionary<(long Tenant, Guid Session, long Agent), byte> seen = new();

    // Counted here, not with ConcurrentDictionary.Count (which takes every lock of the table): see KnownParticipants.
    private int count;

    public bool Seen(long tenantId, Guid sessionId, long agentId) => seen.ContainsKey((tenantId, sessionId, agentId));

    public void Publish(DomainEvent domainEvent)
    {
        switch (domainEvent)
        {
            case MessageCreated { ByAgent: true, Message.Internal: false } reply:
                if (!seen.TryAdd((reply.TenantId, reply.Message.SessionId, reply.Message.SenderId), 0)) return;
                if (Interlocked.Increment(ref count) <= MaxKnown) return;
                seen.Clear();
                Interlocked.Exchange(ref count, 0);
                break;
            case SessionAssigned { Session: { AgentId: { } agent } session }:
                seen.TryRemove((session.TenantId, session.Id, agent), out _);
                break;
        }
    }
}
