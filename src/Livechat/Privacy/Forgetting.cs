using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;
using Livechat.Search;

namespace Livechat.Privacy;

/// <summary>Which messages to forget: purged sessions' (deleted), or one user's in one session (erased to placeholders).</summary>
public abstract record ForgottenMessages
{
    /// <summary>Retention: every message of these sessions (a batch chose them so that they fit).</summary>
    public sealed record OfSessions(IReadOnlyList<Guid> SessionIds) : ForgottenMessages;

    /// <summary>Retention: the oldest messages of one session too large for one batch.</summary>
    public sealed record OldestOf(Guid SessionId) : ForgottenMessages;

    /// <summary>Erasure: the user's messages in the session become placeholders (ids, seqs and cursors stay).</summary>
    public sealed record SentBy(Guid SessionId, long UserId) : ForgottenMessages;
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
        // Which rows, as one condition over chat_messages: the statement below and the search index's clean-up use it alike.
        var rows = which switch
        {
            ForgottenMessages.OfSessions sessions => $"tenant_id = @tenant AND session_id IN ({DbCommandExtensions.InList("s", sessions.SessionIds.Count)})",
            ForgottenMessages.OldestOf => """
                tenant_id = @tenant AND session_id = @session AND seq IN (
                    SELECT seq FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session ORDER BY seq LIMIT @take)
                """,
            ForgottenMessages.SentBy => """
                tenant_id = @tenant AND session_id = @session AND seq IN (
                    SELECT seq FROM chat_messages
                    WHERE tenant_id = @tenant AND session_id = @session AND sender_id = @user AND deleted = FALSE ORDER BY seq LIMIT @take)
                """,
            _ => throw new ArgumentOutOfRangeException(nameof(which)),
        };
        var postgres = scope.Connection is Npgsql.NpgsqlConnection;
        // SQLite first cleans what points at these rows from elsewhere; on PostgreSQL the search vector is a column of
        // the row, gone with it and emptied with an erased text, and a session's notifications go with the session.
        if (!postgres)
        {
            // The notifications that quote messages being deleted go with them, found by the message (the send
            // writes no per-session index entry there, ADR 0053); the session's others, without a message, go with the
            // session (DeleteSessionsAsync).
            if (which is not ForgottenMessages.SentBy)
            {
                await using var notifications = Bind(scope.Sql($"""
                    DELETE FROM notifications INDEXED BY ix_notifications_message
                    WHERE tenant_id = @tenant AND message_id IN (SELECT id FROM chat_messages WHERE {rows})
                    """).With("tenant", tenantId), which, take);
                await notifications.ExecuteNonQueryAsync(cancellationToken);
            }
            // Search entries: the FTS5 entries of these rows go before the rows (an erased text has none).
            await using (var index = Bind(scope.Sql(MessageSearchIndex.SqliteRemoveOf(rows)).With("tenant", tenantId), which, take))
                await index.ExecuteNonQueryAsync(cancellationToken);
            // Their words may now be in no message: the upkeep (Search/SearchUpkeep.cs) checks them against the index
            // after this batch and removes from message_search_words those that are gone. Checking here would cost the
            // batch a lookup in the index per word (about 0.15 ms each, thousands a batch); noting them costs one statement.
            var texts = new List<string>();
            await using (var read = Bind(scope.Sql($"SELECT message FROM chat_messages WHERE {rows}").With("tenant", tenantId), which, take))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) texts.Add(reader.GetString(0));
            }
            if (MessageSearchIndex.SqliteWords(texts) is { } words)
            {
                await using var note = scope.Sql(SearchUpkeep.NoteSql).With("words", words);
                await note.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        // PostgreSQL: an erased message's vector becomes empty, not NULL, which means "not indexed yet" to the backfill.
        var sql = which is ForgottenMessages.SentBy
            ? $"""
                UPDATE chat_messages SET message = '', deleted = TRUE, client_message_id = NULL, attachment_count = NULL, sender_name = NULL
                    {(postgres ? ", search_vector = ''" : "")}
                WHERE {rows}
                """
            : $"DELETE FROM chat_messages WHERE {rows}";
        await using var command = Bind(scope.Sql(sql).With("tenant", tenantId), which, take);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static System.Data.Common.DbCommand Bind(System.Data.Common.DbCommand command, ForgottenMessages which, int take) => which switch
    {
        ForgottenMessages.OfSessions sessions => command.WithList("s", sessions.SessionIds),
        ForgottenMessages.OldestOf oldest => command.With("session", oldest.SessionId).With("take", take),
        ForgottenMessages.SentBy sentBy => command.With("session", sentBy.SessionId).With("user", sentBy.UserId).With("take", take),
        _ => throw new ArgumentOutOfRangeException(nameof(which)),
    };

    /// <summary>
    /// Deletes what hangs off closed sessions whose messages are gone, then the sessions themselves (their ratings and
    /// labels live on their rows): read markers, notifications, webhook events about them with their deliveries,
    /// labels, participants and report facts. Answers how many sessions were deleted.
    /// </summary>
    public static async Task<int> DeleteSessionsAsync(ChangeScope scope, long tenantId, IReadOnlyList<Guid> sessionIds, CancellationToken cancellationToken)
    {
        var these = DbCommandExtensions.InList("s", sessionIds.Count);
        var sqlite = scope.Connection is not Npgsql.NpgsqlConnection;
        string[] statements =
        [
            $"DELETE FROM read_markers WHERE tenant_id = @tenant AND session_id IN ({these})",
            // SQLite: named indexes, because the planner may prefer the primary key's tenant_id prefix, a walk over all
            // of the tenant's notifications or deliveries in every batch (statistics taken while the table was empty
            // make it look cheaper): 84 of a batch's 93 ms with 200,000 notifications (docs/performance.md, issue 28,
            // session 26; ADR 0045).
            // SQLite: only those without a message are left (ForgetMessagesAsync deleted the others with their messages).
            sqlite
                ? $"DELETE FROM notifications INDEXED BY ix_notifications_unmessaged WHERE tenant_id = @tenant AND session_id IN ({these}) AND message_id IS NULL"
                : $"DELETE FROM notifications WHERE tenant_id = @tenant AND session_id IN ({these})",
            $"""
            DELETE FROM webhook_deliveries{(sqlite ? " INDEXED BY ix_webhook_deliveries_event" : "")} WHERE tenant_id = @tenant
              AND event_id IN (SELECT id FROM webhook_events WHERE tenant_id = @tenant AND session_id IN ({these}))
            """,
            $"DELETE FROM webhook_events WHERE tenant_id = @tenant AND session_id IN ({these})",
            $"DELETE FROM session_labels WHERE tenant_id = @tenant AND session_id IN ({these})",
            $"DELETE FROM session_participants WHERE tenant_id = @tenant AND session_id IN ({these})",
            $"DELETE FROM session_facts WHERE tenant_id = @tenant AND session_id IN ({these})",
        ];
        foreach (var sql in statements)
        {
            await using var command = scope.Sql(sql).With("tenant", tenantId).WithList("s", sessionIds);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var sessions = scope.Sql($"DELETE FROM chat_sessions WHERE tenant_id = @tenant AND id IN ({these}) AND status = 'CLOSED'")
            .With("tenant", tenantId).WithList("s", sessionIds);
        return await sessions.ExecuteNonQueryAsync(cancellationToken);
    }
}
