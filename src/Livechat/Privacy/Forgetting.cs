using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Privacy;

/// <summary>Which messages to forget: a purged session's (deleted), or one user's in one session (erased to placeholders).</summary>
public abstract record ForgottenMessages(Guid SessionId)
{
    /// <summary>Retention: the session's messages are deleted, oldest first.</summary>
    public sealed record OfSession(Guid SessionId) : ForgottenMessages(SessionId);

    /// <summary>Erasure: the user's messages in the session become placeholders (ids, seqs and cursors stay).</summary>
    public sealed record SentBy(Guid SessionId, long UserId) : ForgottenMessages(SessionId);
}

/// <summary>
/// The one place message rows are deleted or erased (contract section 21), so whatever else holds a message's text
/// is cleaned here once, in the same transaction.
/// </summary>
public static class Forgetting
{
    /// <summary>Forgets at most <paramref name="take"/> of <paramref name="which"/> in the change's transaction; returns how many.</summary>
    public static async Task<int> ForgetMessagesAsync(ChangeScope scope, long tenantId, ForgottenMessages which, int take, CancellationToken cancellationToken)
    {
        // search entries: on PostgreSQL a message's search vector is a generated column of its row, gone with the
        // row and emptied with its text; on SQLite the FTS5 rows of these messages must be deleted here, in this
        // transaction, before the statement below (branch s24-search adds that at the merge).
        var sql = which switch
        {
            ForgottenMessages.OfSession => """
                DELETE FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session AND seq IN (
                    SELECT seq FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session ORDER BY seq LIMIT @take)
                """,
            ForgottenMessages.SentBy => """
                UPDATE chat_messages SET message = '', deleted = TRUE, client_message_id = NULL, attachment_count = NULL
                WHERE tenant_id = @tenant AND session_id = @session AND seq IN (
                    SELECT seq FROM chat_messages
                    WHERE tenant_id = @tenant AND session_id = @session AND sender_id = @user AND deleted = FALSE ORDER BY seq LIMIT @take)
                """,
            _ => throw new ArgumentOutOfRangeException(nameof(which)),
        };
        await using var command = scope.Sql(sql).With("tenant", tenantId).With("session", which.SessionId).With("take", take);
        if (which is ForgottenMessages.SentBy sentBy) command.With("user", sentBy.UserId);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes what hangs off a closed session whose messages are gone, then the session itself (its rating and
    /// labels live on its row): read markers, notifications, webhook events about it with their deliveries, labels,
    /// participants and report facts. False when the session is no longer there (or no longer closed).
    /// </summary>
    public static async Task<bool> DeleteSessionAsync(ChangeScope scope, long tenantId, Guid sessionId, CancellationToken cancellationToken)
    {
        string[] statements =
        [
            "DELETE FROM read_markers WHERE tenant_id = @tenant AND session_id = @session",
            "DELETE FROM notifications WHERE tenant_id = @tenant AND session_id = @session",
            """
            DELETE FROM webhook_deliveries WHERE tenant_id = @tenant
              AND event_id IN (SELECT id FROM webhook_events WHERE tenant_id = @tenant AND session_id = @session)
            """,
            "DELETE FROM webhook_events WHERE tenant_id = @tenant AND session_id = @session",
            "DELETE FROM session_labels WHERE tenant_id = @tenant AND session_id = @session",
            "DELETE FROM session_participants WHERE tenant_id = @tenant AND session_id = @session",
            "DELETE FROM session_facts WHERE tenant_id = @tenant AND session_id = @session",
        ];
        foreach (var sql in statements)
        {
            await using var command = scope.Sql(sql).With("tenant", tenantId).With("session", sessionId);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var session = scope.Sql("DELETE FROM chat_sessions WHERE tenant_id = @tenant AND id = @session AND status = 'CLOSED'")
            .With("tenant", tenantId).With("session", sessionId);
        return await session.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
