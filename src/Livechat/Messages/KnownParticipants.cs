using System.Collections.Concurrent;
using Livechat.Changes;

namespace Livechat.Messages;

/// <summary>
/// The tenant users this process has seen take part in a session (a committed message of theirs there). A
/// tenant user's message records their participation (<c>session_participants</c>, so agent replies notify
/// them) with an insert that is a no-op from their second message on; a participation is never removed, so
/// once it has committed it stays true, and a known one needs no statement. What this process has not seen
/// (another instance's commit, an evicted entry) just runs the insert again, which changes nothing. For the
/// same reason a session with a known participant has one for good: an agent's reply there needs no fallback
/// recipients (Notifications/NotifyTenantSide.cs).
/// </summary>
public sealed class KnownParticipants : IEventSink
{
    /// <summary>Entries kept at most; beyond it the set starts again empty (the next message of each re-inserts).</summary>
    public const int MaxKnown = 100_000;

    private readonly ConcurrentDictionary<(long Tenant, Guid Session, long User), byte> known = new();

    /// <summary>The sessions of <see cref="known"/>: those with a participant, for good.</summary>
    private readonly ConcurrentDictionary<(long Tenant, Guid Session), byte> sessions = new();

    // Counted here: ConcurrentDictionary.Count takes every lock of the table, and this runs with every
    // tenant user's message on the writer loops. Racing loops may clear twice or count a little off; either
    // way the set only forgets, which costs a no-op insert.
    private int count;

    public bool Contains(long tenantId, Guid sessionId, long userId) => known.ContainsKey((tenantId, sessionId, userId));

    /// <summary>Whether this process has seen anyone take part in the session (if not, someone may have still).</summary>
    public bool AnyIn(long tenantId, Guid sessionId) => sessions.ContainsKey((tenantId, sessionId));

    /// <summary>After the commit: the sender of a tenant user's message takes part in its session.</summary>
    public void Publish(DomainEvent domainEvent)
    {
        if (domainEvent is not MessageCreated { ByAgent: false } created) return;
        if (!known.TryAdd((created.TenantId, created.Message.SessionId, created.Message.SenderId), 0)) return;
        sessions.TryAdd((created.TenantId, created.Message.SessionId), 0);
        if (Interlocked.Increment(ref count) <= MaxKnown) return;
        known.Clear();
        sessions.Clear();
        Interlocked.Exchange(ref count, 0);
    }
}
