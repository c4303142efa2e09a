using System.Data.Common;
using Livechat.Data;

namespace Livechat.Realtime;

/// <summary>
/// The users a session's events are for on their per-user streams: the session's agent and its tenant-side
/// participants. Carried by the event, so no stream ever queries the database to decide what it gets.
/// </summary>
public sealed record SessionAudience(IReadOnlyList<long> Users)
{
    public static readonly SessionAudience Nobody = new([]);

    /// <summary>In the caller's transaction, or a read of its own when <paramref name="transaction"/> is null.</summary>
    public static async Task<SessionAudience> LoadAsync(DbConnection connection, DbTransaction? transaction, long tenantId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql("""
            SELECT agent_id FROM chat_sessions WHERE tenant_id = @tenant AND id = @session AND agent_id IS NOT NULL
            UNION
            SELECT user_id FROM session_participants WHERE tenant_id = @tenant AND session_id = @session
            """, transaction).With("tenant", tenantId).With("session", sessionId);
        var users = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) users.Add(reader.GetInt64(0));
        return new SessionAudience(users);
    }
}

/// <summary>
/// Finds each committed session event's audience in the event's own transaction (a change handler, run
/// after the feature's own handlers, so it sees who they added), and keeps it beside the event until the
/// event bus takes it: the event records are the write path's, so the audience is attached, not added to them.
/// </summary>
public sealed class SessionAudiences : Changes.IChangeHandler
{
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Changes.DomainEvent, SessionAudience> known = new();

    public async Task HandleAsync(Changes.DomainEvent domainEvent, Changes.ChangeScope scope, CancellationToken cancellationToken)
    {
        if (BusEvent.SessionOf(domainEvent) is not { } sessionId) return;
        known.AddOrUpdate(domainEvent, await SessionAudience.LoadAsync(scope.Connection, scope.Transaction, domainEvent.TenantId, sessionId, cancellationToken));
    }

    /// <summary>The audience found in the event's transaction, or null for an event that did not go through the write path (typing).</summary>
    public SessionAudience? Of(Changes.DomainEvent domainEvent) => known.TryGetValue(domainEvent, out var audience) ? audience : null;
}
