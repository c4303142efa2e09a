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

    // A message's insert reads the same two things itself (Messages/MessageStore.cs, InsertSql): keep them in step.
    // UNION ALL: a user in both halves is harmless (streams ask whether they are in the audience), and a
    // UNION made both databases build a table to remove duplicates, for two or three users read with every message.
    private const string Sql = """
        SELECT agent_id FROM chat_sessions WHERE tenant_id = @tenant AND id = @session AND agent_id IS NOT NULL
        UNION ALL
        SELECT user_id FROM session_participants WHERE tenant_id = @tenant AND session_id = @session
        """;

    /// <summary>A read of its own, for what does not go through the write path (typing).</summary>
    public static async Task<SessionAudience> LoadAsync(DbConnection connection, long tenantId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = Bind(connection.Sql(Sql), tenantId, sessionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadAsync(reader, cancellationToken);
    }

    /// <summary>In a change's transaction, with its deferred statements (one round trip), after every handler: <paramref name="found"/> gets it.</summary>
    public static void DeferLoad(Changes.ChangeScope scope, long tenantId, Guid sessionId, Action<SessionAudience> found) =>
        Bind(scope.DeferQuery(Sql, async (reader, cancellationToken) => found(await ReadAsync(reader, cancellationToken))), tenantId, sessionId);

    private static DbCommand Bind(DbCommand command, long tenantId, Guid sessionId) => command.With("tenant", tenantId).With("session", sessionId);

    private static async Task<SessionAudience> ReadAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var users = new List<long>();
        while (await reader.ReadAsync(cancellationToken)) users.Add(reader.GetInt64(0));
        return new SessionAudience(users);
    }
}

/// <summary>
/// Finds each committed session event's audience in the event's own transaction (a deferred query, run
/// after every handler, so it sees who they added), and keeps it beside the event until the
/// event bus takes it: the event records are the write path's, so the audience is attached, not added to them.
/// </summary>
public sealed class SessionAudiences : Changes.IChangeHandler
{
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Changes.DomainEvent, SessionAudience> known = new();

    public Task HandleAsync(Changes.DomainEvent domainEvent, Changes.ChangeScope scope, CancellationToken cancellationToken)
    {
        // A message's insert read its audience already (MessageCreated.SessionUsers): the hottest write saves a statement.
        if (domainEvent is Messages.MessageCreated) return Task.CompletedTask;
        // Read with the change's deferred statements, after every handler, so it sees whoever they added: no round trip of its own.
        if (domainEvent is Changes.IPushedEvent pushed && BusEvent.SessionOf(pushed.Push) is { } sessionId)
            SessionAudience.DeferLoad(scope, domainEvent.TenantId, sessionId, audience => known.AddOrUpdate(domainEvent, audience));
        return Task.CompletedTask;
    }

    /// <summary>The audience found in the event's transaction, or null for an event that did not go through the write path (typing).</summary>
    public SessionAudience? Of(Changes.DomainEvent domainEvent) => domainEvent switch
    {
        Messages.MessageCreated created => new SessionAudience(created.SessionUsers),
        _ => known.TryGetValue(domainEvent, out var audience) ? audience : null,
    };
}
