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

    public static async Task<SessionAudience> LoadAsync(DbConnection connection, long tenantId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql("""
            SELECT agent_id FROM chat_sessions WHERE tenant_id = @tenant AND id = @session AND agent_id IS NOT NULL
            UNION
            SELECT user_id FROM session_participants WHERE tenant_id = @tenant AND session_id = @session
            """).With("tenant", tenantId).With("session", sessionId);
        var users = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) users.Add(reader.GetInt64(0));
        return new SessionAudience(users);
    }
}
