using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Agents;

public static class Presence
{
    public const string Online = "ONLINE";
    public const string Away = "AWAY";
    public const string Offline = "OFFLINE";

    public static bool IsValid(string value) => value is Online or Away or Offline;

    /// <summary>
    /// What an agent counts as now: the stored presence, except that an ONLINE agent whose last realtime
    /// connection closed counts as OFFLINE once its grace period (<c>offline_after</c>) has passed.
    /// </summary>
    public static string Effective(string stored, DateTimeOffset? offlineAfter, DateTimeOffset now) =>
        stored == Online && offlineAfter is { } after && after <= now ? Offline : stored;

    /// <summary>
    /// What <paramref name="agentId"/> counts as now, read in the change's transaction; null when the user is not a
    /// known agent of the tenant. Starting a session for an agent, transferring one and a connection all ask this.
    /// </summary>
    public static async Task<string?> OfAsync(ChangeScope scope, long tenantId, long agentId, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql("SELECT presence, offline_after FROM agents WHERE tenant_id = @tenant AND user_id = @agent")
            .With("tenant", tenantId).With("agent", agentId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Effective(reader.GetString(0), reader.GetTimeOrNull(1), scope.Now) : null;
    }
}

/// <summary>A support agent of a tenant as the API shows it (<c>GET /livechat/agents</c>).</summary>
public sealed record Agent(long AgentId, long TenantId, string Presence, DateTimeOffset LastSeenAt)
{
    /// <summary>How many OPEN sessions the agent may hold at once (extension, contract section 10).</summary>
    public int MaxSessions { get; init; }

    /// <summary>How many OPEN sessions the agent holds now.</summary>
    public int OpenSessions { get; init; }

    /// <summary>The name its token last carried (contract section 18); absent when none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }
}

/// <summary>A user who called in the tenant, as <c>GET /livechat/users/{id}</c> shows it (contract section 18).</summary>
public sealed record KnownUser(
    long UserId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name,
    bool IsAgent);

public sealed record PresenceUpdated(Agent Agent) : DomainEvent(Agent.TenantId), IPushedEvent
{
    public static string Name => "presenceUpdated";

    public Push Push => new(Name, Agent, Hearers.Agents);
}

public sealed record SetPresenceRequest(string Status);

/// <summary><c>PATCH /livechat/agents/me</c>.</summary>
public sealed record UpdateAgentRequest(int MaxSessions);

public sealed class PresenceOptions
{
    public const string Section = "Livechat:Presence";

    /// <summary>How long an agent stays ONLINE after its last realtime connection drops (a flaky mobile link).</summary>
    [Range(0, 3600)]
    public int GraceSeconds { get; set; } = 30;

    /// <summary>How often an instance refreshes its agents' connection rows; rows four beats old are swept.</summary>
    [Range(1, 300)]
    public int HeartbeatSeconds { get; set; } = 15;
}
