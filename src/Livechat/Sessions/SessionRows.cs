using System.Data.Common;
using Livechat.Agents;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;

namespace Livechat.Sessions;

/// <summary>
/// How a <c>chat_sessions</c> row reads as a <see cref="ChatSession"/>: the shape, not a store. Sessions and
/// the routing changes that move sessions between agents and the queue read their rows the same way.
/// </summary>
public static class SessionRows
{
    // Declared first: the lists below are built from it when the class is initialised, in the order written.
    private static readonly string RowColumns = $"""
        rating_score, rating_comment, rated_at, customer_id,
        {UserNames.Of("chat_sessions.tenant_id", "chat_sessions.customer_id")}, {UserNames.Of("chat_sessions.tenant_id", "chat_sessions.agent_id")}, labels
        """;

    /// <summary>
    /// What <see cref="Read"/> reads: the queue position (one count over the queue's index, only for a queued
    /// session), then the rating, the customer and the labels, which live on the row itself (no join per session),
    /// and the customer's and the agent's names (a primary-key lookup each).
    /// </summary>
    public static readonly string Columns = $"""
        id, tenant_id, agent_id, status, created_at, updated_at,
        CASE WHEN chat_sessions.queued_at IS NULL THEN NULL ELSE (
            SELECT COUNT(*) + 1 FROM chat_sessions q
            WHERE q.tenant_id = chat_sessions.tenant_id AND q.queued_at IS NOT NULL
              AND (q.queue_rank, q.queued_at, q.id) < (chat_sessions.queue_rank, chat_sessions.queued_at, chat_sessions.id)) END,
        {RowColumns}
        """;

    /// <summary>The same columns where the queue position is not wanted (a row just assigned, closed, rated, or read in queue order).</summary>
    public static readonly string ReturningColumns = $"id, tenant_id, agent_id, status, created_at, updated_at, NULL, {RowColumns}";

    public static ChatSession Read(DbDataReader reader) =>
        new(reader.GetId(0), reader.GetInt64(1), reader.GetInt64OrNull(2), reader.GetString(3), reader.GetTime(4), reader.GetTime(5))
        {
            QueuePosition = reader.IsDBNull(6) ? null : Convert.ToInt32(reader.GetValue(6), System.Globalization.CultureInfo.InvariantCulture),
            Rating = reader.IsDBNull(7) ? null
                : new Rating(reader.GetId(0), Convert.ToInt32(reader.GetValue(7), System.Globalization.CultureInfo.InvariantCulture),
                    reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetTime(9)),
            CustomerId = reader.GetInt64OrNull(10),
            CustomerName = reader.IsDBNull(11) ? null : reader.GetString(11),
            AgentName = reader.IsDBNull(12) ? null : reader.GetString(12),
            Labels = reader.IsDBNull(13) ? null : reader.GetString(13).Split(' '),
        };

    /// <summary>How <c>chat_sessions.labels</c> holds a session's labels: sorted, one space between, NULL for none.</summary>
    public static string? LabelsColumn(IReadOnlyCollection<string> sortedLabels) => sortedLabels.Count == 0 ? null : string.Join(' ', sortedLabels);

    /// <summary>One session of the tenant as the change sees it (its own writes included), or null.</summary>
    public static async Task<ChatSession?> FindAsync(ChangeScope scope, long tenantId, Guid sessionId, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql($"SELECT {Columns} FROM chat_sessions WHERE tenant_id = @tenant AND id = @id")
            .With("tenant", tenantId).With("id", sessionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>The agent of this tenant user's most recent session, if it had one.</summary>
    public static async Task<long?> PreviousAgentAsync(ChangeScope scope, long tenantId, long userId, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql("""
            SELECT agent_id FROM chat_sessions WHERE tenant_id = @tenant AND created_by = @user
            ORDER BY created_at DESC LIMIT 1
            """).With("tenant", tenantId).With("user", userId);
        var agent = await command.ExecuteScalarAsync(cancellationToken);
        return agent is null or DBNull ? null : Convert.ToInt64(agent, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The caller's (<c>@user</c>) unread count in one session as a scalar expression: messages of other users
    /// after the marker, without reading them. A session's seqs are dense (1..last_seq: each is taken from
    /// <c>last_seq</c> in its message's own transaction, and messages are never deleted), so the messages after
    /// the marker number <c>last_seq - marker</c>. None of them is the caller's own: sending moves the sender's
    /// marker to its message in the same transaction, markers only move forward, and migration 0031 gave the
    /// senders of messages from before markers existed the marker sending would have given them. (Until then a
    /// range of an index on the sender took the caller's own away, and every message paid that index a page.)
    /// Counting the unread messages themselves cost 2 ms per 1,000 on PostgreSQL (docs/performance.md).
    /// </summary>
    /// <remarks>A tenant user does not read internal notes: its count also leaves out the notes after its marker
    /// (<see cref="MessageVisibility.HiddenAfter"/>, a range of an index that holds only notes).</remarks>
    public static string UnreadCountSql(string tenant, string session, string lastSeq, bool isAgent) => $"""
        ({lastSeq} - {Marker(tenant, session)}
         - {MessageVisibility.HiddenAfter(isAgent, tenant, session, Marker(tenant, session))})
        """;

    private static string Marker(string tenant, string session) =>
        $"COALESCE((SELECT r.last_read_seq FROM read_markers r WHERE r.tenant_id = {tenant} AND r.session_id = {session} AND r.user_id = @user), 0)";
}
