using System.Data.Common;
using Livechat.Data;

namespace Livechat.Realtime;

/// <summary>
/// The users a session's events are for on their per-user streams: the session's agent and its tenant-side
/// participants. Carried by the event (<see cref="Changes.DomainEvent.SessionUsers"/>), so no stream ever queries
/// the database to decide what it gets. The SQL is <see cref="Messages.SessionUsers.Columns"/>, the same columns a
/// message's insert returns.
/// </summary>
public sealed record SessionAudience(IReadOnlyList<long> Users)
{
    public static readonly SessionAudience Nobody = new([]);

    private const string Sql = $"SELECT {Messages.SessionUsers.Columns}";

    /// <summary>A read of its own, for what does not go through the write path (typing).</summary>
    public static async Task<SessionAudience> LoadAsync(DbConnection connection, long tenantId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = Bind(connection.Sql(Sql), tenantId, sessionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new SessionAudience(Messages.SessionUsers.Read(reader, 0)) : Nobody;
    }

    /// <summary>
    /// In a change's transaction, with its deferred statements (one round trip), after every handler, so it sees
    /// whoever they added: the event published is <paramref name="domainEvent"/> as it happened, with its audience.
    /// </summary>
    public static void DeferLoad(Changes.ChangeScope scope, Changes.DomainEvent domainEvent, Guid sessionId) =>
        Bind(scope.DeferQuery(Sql, async (reader, cancellationToken) =>
        {
            var users = await reader.ReadAsync(cancellationToken) ? Messages.SessionUsers.Read(reader, 0) : [];
            if (scope.AsItHappened(domainEvent) is { } happened) scope.Happened(domainEvent, happened with { SessionUsers = users });
        }), domainEvent.TenantId, sessionId);

    private static DbCommand Bind(DbCommand command, long tenantId, Guid sessionId) => command.With("tenant", tenantId).With("session", sessionId);

    /// <summary>The audience the event carries, or null for an event that did not go through the write path (typing).</summary>
    public static SessionAudience? Of(Changes.DomainEvent domainEvent) => domainEvent.SessionUsers is { } users ? new SessionAudience(users) : null;
}

/// <summary>
/// Finds each session event's audience in the event's own transaction: a deferred query, run after every
/// handler (the last in the list, Startup), so it sees whoever they added. A message's insert returns its own.
/// </summary>
public sealed class SessionAudiences : Changes.IChangeHandler
{
    public Task HandleAsync(Changes.DomainEvent domainEvent, Changes.ChangeScope scope, CancellationToken cancellationToken)
    {
        // A message's insert read its audience already: the hottest write saves a statement.
        if (domainEvent is Messages.MessageCreated) return Task.CompletedTask;
        if (domainEvent is Changes.IPushedEvent pushed && BusEvent.SessionOf(pushed.Push) is { } sessionId)
            SessionAudience.DeferLoad(scope, domainEvent, sessionId);
        return Task.CompletedTask;
    }
}
