using System.Collections.Concurrent;
using System.Data.Common;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Changes;
using Livechat.Data;
using Microsoft.Extensions.Options;

namespace Livechat.Agents;

/// <summary>Known agents and tenant users, and agent presence.</summary>
public sealed class AgentStore(Database database, WritePath writes, TimeProvider time, IOptions<CapacityOptions> capacity) : ICallerLog
{
    // Remembering who called is a write; one per user and minute is plenty for last_seen_at. A new name is written at once.
    private static readonly TimeSpan RememberEvery = TimeSpan.FromSeconds(60);
    private readonly ConcurrentDictionary<(long Tenant, long User, bool Agent), (DateTimeOffset At, string? Name)> remembered = new();

    /// <summary>The columns <see cref="Read"/> expects, in its order (they read the same after RETURNING).</summary>
    private static readonly string Columns =
        $"user_id, tenant_id, presence, offline_after, last_seen_at, max_sessions, open_sessions, {UserNames.Of("agents.tenant_id", "agents.user_id")}";

    /// <summary>
    /// Records that <paramref name="caller"/> called in its tenant: a support agent becomes a known agent (and
    /// may be named in <c>agent_id</c>), a tenant user becomes a notification recipient. The token's
    /// <paramref name="nameClaim"/>, cleaned (<see cref="UserNames.Clean"/>), becomes the user's name; a token
    /// without one leaves the remembered name as it is.
    /// </summary>
    public async Task RememberAsync(CurrentUser caller, string? nameClaim, CancellationToken cancellationToken)
    {
        var key = (caller.TenantId, caller.UserId, caller.IsAgent);
        var name = UserNames.Clean(nameClaim);
        var now = time.Now();
        var known = remembered.TryGetValue(key, out var last);
        if (known && now - last.At < RememberEvery && (name is null || name == last.Name)) return;
        await database.WriteAsync(async (connection, transaction) =>
        {
            await using (var command = connection.Sql(caller.IsAgent
                ? """
                  INSERT INTO agents (tenant_id, user_id, presence, presence_changed_at, last_seen_at)
                  VALUES (@tenant, @user, 'OFFLINE', @now, @now)
                  ON CONFLICT (tenant_id, user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at
                  """
                : """
                  INSERT INTO tenant_users (tenant_id, user_id, last_seen_at) VALUES (@tenant, @user, @now)
                  ON CONFLICT (tenant_id, user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at
                  """, transaction)
                .With("tenant", caller.TenantId).With("user", caller.UserId).With("now", now))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            if (name is null) return 0;
            await using var named = connection.Sql("""
                INSERT INTO user_names (tenant_id, user_id, name, named_at) VALUES (@tenant, @user, @name, @now)
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET name = excluded.name, named_at = excluded.named_at
                    WHERE user_names.name <> excluded.name
                """, transaction)
                .With("tenant", caller.TenantId).With("user", caller.UserId).With("name", name).With("now", now);
            return await named.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);
        remembered[key] = (now, name ?? (known ? last.Name : null));
    }

    /// <summary>A user who called in the tenant (<c>GET /livechat/users/{id}</c>), or null when it never did.</summary>
    public Task<KnownUser?> FindUserAsync(long tenantId, long userId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"""
                SELECT EXISTS (SELECT 1 FROM agents WHERE tenant_id = @tenant AND user_id = @user),
                       EXISTS (SELECT 1 FROM tenant_users WHERE tenant_id = @tenant AND user_id = @user),
                       {UserNames.Of("@tenant", "@user")}
                """).With("tenant", tenantId).With("user", userId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var (agent, tenantUser) = (reader.GetBoolean(0), reader.GetBoolean(1));
            return agent || tenantUser ? new KnownUser(userId, reader.IsDBNull(2) ? null : reader.GetString(2), agent) : null;
        }, cancellationToken);

    public Task<IReadOnlyList<Agent>> ListAsync(long tenantId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Agent>>(async connection =>
        {
            await using var command = connection.Sql($"""
                SELECT {Columns} FROM agents
                WHERE tenant_id = @tenant ORDER BY user_id LIMIT 1000
                """).With("tenant", tenantId);
            var agents = new List<Agent>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) agents.Add(Read(reader));
            return agents;
        }, cancellationToken);

    public Task<Agent> SetPresenceAsync(CurrentUser agent, string presence, CancellationToken cancellationToken) =>
        writes.RunAsync(async scope =>
        {
            await using var command = scope.Sql($"""
                INSERT INTO agents (tenant_id, user_id, presence, presence_changed_at, last_seen_at)
                VALUES (@tenant, @user, @presence, @now, @now)
                ON CONFLICT (tenant_id, user_id) DO UPDATE
                    SET presence = excluded.presence, offline_after = NULL,
                        presence_changed_at = excluded.presence_changed_at, last_seen_at = excluded.last_seen_at
                RETURNING {Columns}
                """)
                .With("tenant", agent.TenantId).With("user", agent.UserId).With("presence", presence).With("now", scope.Now);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var updated = Read(reader);
            return Change.Of(updated, new PresenceUpdated(updated));
        }, cancellationToken);

    /// <summary>
    /// An agent opened its first realtime connection on this instance: the instance's connection row says so,
    /// and the agent is ONLINE, unless it chose AWAY, which a reconnect (a page reload) must not undo.
    /// Announced only when the presence others see changes.
    /// </summary>
    public Task ConnectedAsync(CurrentUser agent, string instanceId, int connections, CancellationToken cancellationToken) =>
        writes.RunAsync(async scope =>
        {
            var before = await Presence.OfAsync(scope, agent.TenantId, agent.UserId, cancellationToken);
            await using (var row = scope.Sql("""
                INSERT INTO agent_connections (tenant_id, user_id, instance_id, connections, heartbeat_at)
                VALUES (@tenant, @user, @instance, @connections, @now)
                ON CONFLICT (tenant_id, user_id, instance_id) DO UPDATE SET connections = excluded.connections, heartbeat_at = excluded.heartbeat_at
                """).With("tenant", agent.TenantId).With("user", agent.UserId).With("instance", instanceId)
                .With("connections", connections).With("now", scope.Now))
            {
                await row.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var command = scope.Sql($"""
                UPDATE agents
                SET presence = CASE WHEN presence = 'AWAY' THEN 'AWAY' ELSE 'ONLINE' END, offline_after = NULL,
                    presence_changed_at = CASE WHEN presence = 'OFFLINE' THEN @now ELSE presence_changed_at END, last_seen_at = @now
                WHERE tenant_id = @tenant AND user_id = @user
                RETURNING {Columns}
                """).With("tenant", agent.TenantId).With("user", agent.UserId).With("now", scope.Now);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var after = await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
            return after is not null && after.Presence != before ? Change.Of(0, new PresenceUpdated(after)) : Change.Of(0);
        }, cancellationToken);

    /// <summary>
    /// The agent's last connection on this instance closed. If no live instance holds one either, an ONLINE
    /// agent counts as OFFLINE once <paramref name="grace"/> has passed. One statement decides, so a connection
    /// that another instance commits concurrently is either seen here or clears <c>offline_after</c> after us.
    /// </summary>
    public Task<bool> LastLocalConnectionClosedAsync(CurrentUser agent, string instanceId, TimeSpan grace, TimeSpan heartbeatTimeout, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var now = time.Now();
            await using (var row = connection.Sql("DELETE FROM agent_connections WHERE tenant_id = @tenant AND user_id = @user AND instance_id = @instance", transaction)
                .With("tenant", agent.TenantId).With("user", agent.UserId).With("instance", instanceId))
            {
                await row.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var command = connection.Sql("""
                UPDATE agents SET offline_after = @after, last_seen_at = @now
                WHERE tenant_id = @tenant AND user_id = @user AND presence = 'ONLINE'
                  AND NOT EXISTS (SELECT 1 FROM agent_connections c
                                  WHERE c.tenant_id = @tenant AND c.user_id = @user AND c.heartbeat_at >= @alive)
                """, transaction)
                .With("after", now + grace).With("now", now).With("alive", now - heartbeatTimeout).With("tenant", agent.TenantId).With("user", agent.UserId);
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    /// <summary>
    /// Refreshes this instance's connection rows, and sweeps those of instances that stopped refreshing (they
    /// crashed): their agents, if connected nowhere else, count as OFFLINE from now. Returns the agents swept.
    /// </summary>
    public Task<List<CurrentUser>> HeartbeatAsync(string instanceId, TimeSpan heartbeatTimeout, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var now = time.Now();
            await using (var beat = connection.Sql("UPDATE agent_connections SET heartbeat_at = @now WHERE instance_id = @instance", transaction)
                .With("now", now).With("instance", instanceId))
            {
                await beat.ExecuteNonQueryAsync(cancellationToken);
            }
            var swept = new List<CurrentUser>();
            await using (var stale = connection.Sql("DELETE FROM agent_connections WHERE heartbeat_at < @alive RETURNING tenant_id, user_id", transaction)
                .With("alive", now - heartbeatTimeout))
            await using (var reader = await stale.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) swept.Add(new CurrentUser(reader.GetInt64(1), reader.GetInt64(0), IsAgent: true));
            }
            swept = swept.Distinct().ToList(); // one row per agent and crashed instance
            foreach (var agent in swept)
            {
                await using var offline = connection.Sql("""
                    UPDATE agents SET offline_after = @now
                    WHERE tenant_id = @tenant AND user_id = @user AND presence = 'ONLINE'
                      AND NOT EXISTS (SELECT 1 FROM agent_connections c WHERE c.tenant_id = @tenant AND c.user_id = @user)
                    """, transaction).With("now", now).With("tenant", agent.TenantId).With("user", agent.UserId);
                await offline.ExecuteNonQueryAsync(cancellationToken);
            }
            return swept;
        }, cancellationToken);

    /// <summary>What <paramref name="agent"/>'s presence is now (to tell the tenant's agents), or null when it is not a known agent.</summary>
    public Task<Agent?> FindAsync(CurrentUser agent, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"""
                SELECT {Columns} FROM agents WHERE tenant_id = @tenant AND user_id = @user
                """).With("tenant", agent.TenantId).With("user", agent.UserId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }, cancellationToken);

    private Agent Read(DbDataReader reader) =>
        new(reader.GetInt64(0), reader.GetInt64(1), Presence.Effective(reader.GetString(2), reader.GetTimeOrNull(3), time.Now()), reader.GetTime(4))
        {
            MaxSessions = reader.IsDBNull(5) ? capacity.Value.DefaultMaxSessions : reader.GetInt32(5),
            OpenSessions = reader.GetInt32(6),
            Name = reader.IsDBNull(7) ? null : reader.GetString(7),
        };

    /// <summary>
    /// Sets the calling agent's capacity. Raising it is capacity that appears: the oldest queued chats may be
    /// assigned to the agent in the same transaction. Lowering it takes nothing away; it only stops new ones.
    /// </summary>
    public Task<Agent> SetMaxSessionsAsync(CurrentUser agent, int maxSessions, CancellationToken cancellationToken) =>
        writes.RunAsync(async scope =>
        {
            await using var command = scope.Sql($"""
                INSERT INTO agents (tenant_id, user_id, presence, presence_changed_at, last_seen_at, max_sessions)
                VALUES (@tenant, @user, 'OFFLINE', @now, @now, @max)
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET max_sessions = excluded.max_sessions, last_seen_at = excluded.last_seen_at
                RETURNING {Columns}
                """).With("tenant", agent.TenantId).With("user", agent.UserId).With("now", scope.Now).With("max", maxSessions);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var updated = Read(reader);
            return Change.Of(updated, new CapacityFreed(agent.TenantId));
        }, cancellationToken);
}
