using System.Collections.Concurrent;

namespace Livechat.Realtime;

/// <summary>
/// Which of this instance's hub connections joined which session, and whose they are: for the one event
/// the hub's groups cannot address, <c>typing</c>, which goes to a session's connections except every
/// connection of the typist (another tab of the same user included).
/// </summary>
public sealed class JoinedConnections
{
    private readonly ConcurrentDictionary<(long Tenant, Guid Session), ConcurrentDictionary<string, long>> joined = new();

    public void Joined(long tenantId, Guid sessionId, string connectionId, long userId) =>
        joined.GetOrAdd((tenantId, sessionId), _ => new())[connectionId] = userId;

    public void Left(long tenantId, Guid sessionId, string connectionId)
    {
        var key = (tenantId, sessionId);
        if (!joined.TryGetValue(key, out var connections)) return;
        connections.TryRemove(connectionId, out _);
        if (connections.IsEmpty) joined.TryRemove(new KeyValuePair<(long, Guid), ConcurrentDictionary<string, long>>(key, connections));
    }

    /// <summary>This instance's connections in the session, except those of <paramref name="exceptUser"/>.</summary>
    public List<string> Of(long tenantId, Guid sessionId, long? exceptUser) =>
        joined.TryGetValue((tenantId, sessionId), out var connections)
            ? connections.Where(c => c.Value != exceptUser).Select(c => c.Key).ToList()
            : [];
}
