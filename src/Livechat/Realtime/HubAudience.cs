using Livechat.Api;
using Livechat.Changes;

namespace Livechat.Realtime;

/// <summary>
/// This instance's hub connections and who hears what among them (the hub's side of contract sections 6 and 11),
/// by what each event declares (<see cref="Hearers"/>): a session's conversation (<c>messageCreated</c>,
/// <c>messagesRead</c>, <c>typing</c>) reaches the connections that joined it (<c>typing</c> none of the typist's); a
/// session's state (<c>sessionUpdated</c>) every agent of the tenant and the tenant users that joined the session;
/// the rest (<c>sessionAssigned</c>, <c>notificationCreated</c>, <c>presenceUpdated</c>) the event's own audience
/// (<see cref="BusEvent.IsFor"/>). Every lookup starts at the
/// tenant a connection was admitted to. Used by one loop only (<see cref="LocalDelivery"/>), so it needs no lock.
/// </summary>
public sealed class HubAudience
{
    private sealed class Connection(string id, CurrentUser user)
    {
        public string Id { get; } = id;
        public CurrentUser User { get; } = user;
        public HashSet<Guid> JoinedSessions { get; } = [];
    }

    private sealed class Tenant
    {
        public HashSet<Connection> AgentConnections { get; } = [];
        public Dictionary<long, HashSet<Connection>> ByUser { get; } = [];
        public Dictionary<Guid, HashSet<Connection>> BySession { get; } = [];
        public bool IsEmpty => AgentConnections.Count == 0 && ByUser.Count == 0 && BySession.Count == 0;
    }

    private readonly Dictionary<string, Connection> connections = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Tenant> tenants = [];

    public void Opened(string connectionId, CurrentUser user)
    {
        var connection = new Connection(connectionId, user);
        connections[connectionId] = connection;
        var tenant = TenantOf(user.TenantId, create: true)!;
        if (user.IsAgent) tenant.AgentConnections.Add(connection);
        Add(tenant.ByUser, user.UserId, connection);
    }

    public void Closed(string connectionId)
    {
        if (!connections.Remove(connectionId, out var connection)) return;
        var tenant = TenantOf(connection.User.TenantId, create: false)!;
        tenant.AgentConnections.Remove(connection);
        Remove(tenant.ByUser, connection.User.UserId, connection);
        foreach (var session in connection.JoinedSessions) Remove(tenant.BySession, session, connection);
        if (tenant.IsEmpty) tenants.Remove(connection.User.TenantId);
    }

    public void Joined(string connectionId, Guid sessionId)
    {
        if (!connections.TryGetValue(connectionId, out var connection) || !connection.JoinedSessions.Add(sessionId)) return;
        Add(TenantOf(connection.User.TenantId, create: true)!.BySession, sessionId, connection);
    }

    public void Left(string connectionId, Guid sessionId)
    {
        if (!connections.TryGetValue(connectionId, out var connection) || !connection.JoinedSessions.Remove(sessionId)) return;
        Remove(TenantOf(connection.User.TenantId, create: false)!.BySession, sessionId, connection);
    }

    /// <summary>The connections that hear <paramref name="busEvent"/>.</summary>
    public List<string> Of(BusEvent busEvent)
    {
        var found = new List<string>();
        if (TenantOf(busEvent.TenantId, create: false) is not { } tenant) return found;
        IEnumerable<Connection> candidates = busEvent.Hearers switch
        {
            Hearers.Session => Joiners(tenant, busEvent),
            Hearers.SessionState => tenant.AgentConnections.Concat(Joiners(tenant, busEvent)),
            _ => (busEvent.Agents ? tenant.AgentConnections : []).Concat(busEvent.Users.SelectMany(user => tenant.ByUser.GetValueOrDefault(user) ?? [])),
        };
        foreach (var connection in candidates.Distinct())
            if (Hears(connection, busEvent)) found.Add(connection.Id);
        return found;
    }

    /// <summary>Whether one connection hears <paramref name="busEvent"/>.</summary>
    public bool Hears(string connectionId, BusEvent busEvent) =>
        connections.TryGetValue(connectionId, out var connection) && connection.User.TenantId == busEvent.TenantId && Hears(connection, busEvent);

    private static bool Hears(Connection connection, BusEvent busEvent)
    {
        var user = connection.User;
        if (!busEvent.IsHeardInSessionBy(user.UserId, user.IsAgent)) return false;
        var joined = busEvent.SessionId is { } session && connection.JoinedSessions.Contains(session);
        return busEvent.Hearers switch
        {
            Hearers.Session => joined,
            Hearers.SessionState => user.IsAgent || joined,
            _ => busEvent.IsFor(user.UserId, user.IsAgent),
        };
    }

    private static HashSet<Connection> Joiners(Tenant tenant, BusEvent busEvent) =>
        busEvent.SessionId is { } session && tenant.BySession.TryGetValue(session, out var joined) ? joined : [];

    private Tenant? TenantOf(long tenantId, bool create)
    {
        if (tenants.TryGetValue(tenantId, out var tenant) || !create) return tenant;
        return tenants[tenantId] = new Tenant();
    }

    private static void Add<TKey>(Dictionary<TKey, HashSet<Connection>> index, TKey key, Connection connection) where TKey : notnull
    {
        if (!index.TryGetValue(key, out var set)) index[key] = set = [];
        set.Add(connection);
    }

    private static void Remove<TKey>(Dictionary<TKey, HashSet<Connection>> index, TKey key, Connection connection) where TKey : notnull
    {
        if (index.TryGetValue(key, out var set) && set.Remove(connection) && set.Count == 0) index.Remove(key);
    }
}
