using System.Data.Common;
using Livechat.Api;
using Livechat.Data;
using Livechat.Messages;
using Livechat.Sessions;

namespace Livechat.Search;

/// <summary>One search result (contract section 19): the message, its session, and the message text with its matches marked.</summary>
public sealed record SearchHit(ChatMessage Message, ChatSession Session, string Highlight);

/// <summary>What a search looks in besides the words: the list's session filters, one session, and the message's time.</summary>
public sealed record SearchScope(SessionFilter Sessions, Guid? SessionId, DateTimeOffset? From, DateTimeOffset? To);

/// <summary>
/// Searches messages through the index the send writes (<see cref="MessageSearchIndex"/>): PostgreSQL's
/// <c>search_vector</c> under its tenant-first GIN index, SQLite's FTS5 table walked by its rowid, newest first.
/// Who sees what is decided once, in <see cref="Visible"/>.
/// </summary>
public sealed class SearchStore(Database database, MessageStore messageStore, TimeProvider time)
{
    /// <summary>
    /// A prefix that begins more words than this stays a prefix search. An OR costs FTS5 a seek per word in each of
    /// its segments (about 0.1 to 0.25 ms a word at a million messages on the loaded 2-core machine: 200 words
    /// 22 to 52 ms, 500 words 64 to 100 ms; docs/performance.md, session 26), while the prefix search it replaces
    /// merges every word's whole list first (300 to 420 ms for the 127 words of <c>to</c>). At 200 an OR stays
    /// within the 50 ms target even on 18 segments, a tenth of that once <see cref="SearchUpkeep"/> has merged them,
    /// and every two-letter prefix of the bench's vocabulary is words.
    /// </summary>
    public const int MaxPrefixWords = 200;

    /// <summary>
    /// SQLite: at most <c>@take</c> of the index's words that begin with <c>@head</c> and go on beyond ASCII (what an entry
    /// <c>head*</c> of <c>message_search_words</c> stands for, <see cref="IndexWords.Entry"/>), from the index's own
    /// vocabulary: non-ASCII words, rare ones whose lists are short. The search and the upkeep read them alike.
    /// </summary>
    internal const string WordsBeyondAsciiSql =
        "SELECT term FROM message_search_vocabulary WHERE term >= @head || char(128) AND term < @head || char(1114111) LIMIT @take";

    /// <summary>
    /// SQLite: the index's whole words the query's last word begins, when there are at most <see cref="MaxPrefixWords"/>,
    /// else null (the prefix is searched as one): a range of <c>message_search_words</c>' primary key, which the send
    /// keeps (migration 0101). An entry with a star, <c>stra*</c>, stands for the words that begin so and go on beyond
    /// ASCII (<see cref="IndexWords.Entry"/>): those are read from the index's own vocabulary, a range of non-ASCII
    /// words, rare ones whose lists are short. The words are every tenant's: a word only widens the OR, the tenant's
    /// token still decides what matches.
    /// </summary>
    private static async Task<IReadOnlyList<string>?> PrefixWordsAsync(DbConnection connection, SearchQuery query, CancellationToken cancellationToken)
    {
        if (query.FoldedPrefix is not { } prefix) return null;
        var entries = new List<string>();
        // Entries are letters a-z, digits and a final star: each one the prefix begins sorts before the prefix and '{'.
        await using (var command = connection.Sql("""
            SELECT word FROM message_search_words WHERE word >= @prefix AND word < @past ORDER BY word LIMIT @take
            """).With("prefix", prefix).With("past", prefix + "{").With("take", MaxPrefixWords + 1))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) entries.Add(reader.GetString(0));
        }
        var words = entries.Where(e => !e.EndsWith('*')).ToList();
        foreach (var head in entries.Where(e => e.EndsWith('*')).Select(e => e[..^1]))
        {
            if (words.Count > MaxPrefixWords) break;
            await using var command = connection.Sql(WordsBeyondAsciiSql).With("head", head).With("take", MaxPrefixWords + 1 - words.Count);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) words.Add(reader.GetString(0));
        }
        return words.Count is > 0 and <= MaxPrefixWords ? words : null;
    }

    private readonly CommonWords commonWords = new(time);

    /// <summary>
    /// PostgreSQL: the condition on the index's words. A query with rare words and common ones (<see cref="CommonWords"/>)
    /// looks up only the rare ones in the GIN index and checks the whole query on the messages they find
    /// (<c>ts_match_vq</c> is <c>@@</c> as a function, which the planner does not take to the index); otherwise the
    /// whole query goes to the index, or to the newest-first walk when all its words are common.
    /// </summary>
    private async Task<(string Sql, string? LookedUp)> PostgresWordsAsync(DbConnection connection, SearchQuery query, CancellationToken cancellationToken)
    {
        const string Whole = "m.search_vector @@ to_tsquery('livechat_search', @query)";
        if (query.Terms.Count < 2) return (Whole, null);
        var common = await commonWords.OfAsync(connection, cancellationToken);
        // A single whole ASCII word, lower case, is the index's word as is; anything else counts as rare, which is only slower.
        var rare = query.Terms.Where(t => t.Prefix || t.Words.Count > 1 || !t.Words[0].All(char.IsAscii)
            || !common.Contains(t.Words[0].ToLowerInvariant())).ToList();
        if (rare.Count == 0 || rare.Count == query.Terms.Count) return (Whole, null);
        return ("m.search_vector @@ to_tsquery('livechat_search', @looked_up) AND ts_match_vq(m.search_vector, to_tsquery('livechat_search', @query))",
            SearchQuery.ToPostgres(rare));
    }

    private const string MessageColumns = "m.id, m.session_id, m.sender_id, m.message, m.created_at, m.client_message_id, m.internal, m.sender_name, m.attachment_count";

    /// <summary>
    /// The page of hits, newest first (forward walks to older ones), or null when the cursor is not a message the
    /// caller can see in the tenant.
    /// </summary>
    public Task<Page<SearchHit>?> SearchAsync(CurrentUser caller, SearchQuery query, SearchScope scope, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var postgres = connection is Npgsql.NpgsqlConnection;
            var conditions = Visible(caller) + Filters(scope);
            // PostgreSQL: Npgsql prepares a statement run often, and PostgreSQL may then keep one plan for every query,
            // which cannot tell a word in 3,000 messages (walk the newest first, stop at the page: 3 ms) from a pair in
            // 88 (the GIN index: 5 ms); the kept plan took the index for all, 57 ms for the first at a million messages.
            // A plan for each query's own words.
            await using var transaction = connection is Npgsql.NpgsqlConnection npgsql
                ? await npgsql.BeginPlannedPerQueryAsync(System.Data.IsolationLevel.ReadCommitted, "", cancellationToken)
                : null;
            // The cursor's place in the order: its (created_at, id) on PostgreSQL, its search_row on SQLite.
            object? cursorAt = null;
            if (page.Cursor is { } cursor)
            {
                await using var find = Bind(connection.Sql($"SELECT {(postgres ? "m.created_at" : "m.search_row")} FROM chat_messages m WHERE m.tenant_id = @tenant AND m.id = @cursor{Visible(caller)}"),
                    caller, scope).With("cursor", cursor);
                cursorAt = await find.ExecuteScalarAsync(cancellationToken);
                if (cursorAt is null or DBNull) return null;
            }
            var newer = page.Backward;
            string sql;
            string? lookedUp = null;
            if (postgres)
            {
                (var words, lookedUp) = await PostgresWordsAsync(connection, query, cancellationToken);
                var keyset = cursorAt is null ? "" : newer ? " AND (m.created_at, m.id) > (@cursor_at, @cursor)" : " AND (m.created_at, m.id) < (@cursor_at, @cursor)";
                var order = newer ? "m.created_at, m.id" : "m.created_at DESC, m.id DESC";
                sql = $"""
                    SELECT {MessageColumns} FROM chat_messages m
                    WHERE m.tenant_id = @tenant AND {words} AND m.message <> ''{conditions}{keyset}
                    ORDER BY {order} LIMIT @take
                    """;
            }
            else
            {
                // Rows go down as time goes up (MessageSearchIndex.SqliteRow): newest first is FTS5's ascending walk, its fast one.
                var keyset = cursorAt is null ? "" : newer ? " AND f.rowid < @cursor_at" : " AND f.rowid > @cursor_at";
                sql = $"""
                    SELECT {MessageColumns} FROM message_search f JOIN chat_messages m ON m.search_row = f.rowid
                    WHERE message_search MATCH @query AND m.tenant_id = @tenant AND m.message <> ''{conditions}{keyset}
                    ORDER BY f.rowid{(newer ? " DESC" : "")} LIMIT @take
                    """;
            }
            var messages = new List<ChatMessage>(page.Limit + 1);
            var carrying = new List<Guid>();
            await using (var command = Bind(connection.Sql(sql), caller, scope)
                .With("query", postgres ? query.ToPostgres() : query.ToFts5(caller.TenantId, await PrefixWordsAsync(connection, query, cancellationToken)))
                .With("cursor", page.Cursor).With("cursor_at", cursorAt).With("take", page.Limit + 1).With("looked_up", lookedUp))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    messages.Add(new ChatMessage(reader.GetId(0), reader.GetId(1), reader.GetInt64(2), reader.GetString(3), reader.GetTime(4))
                    {
                        ClientMessageId = reader.IsDBNull(5) ? null : reader.GetString(5),
                        Internal = reader.GetBoolean(6),
                        SenderName = reader.IsDBNull(7) ? null : reader.GetString(7),
                    });
                    if (!reader.IsDBNull(8)) carrying.Add(messages[^1].Id);
                }
            }
            // A hit's message is the message as every read shows it: with its files and fresh links.
            var files = await messageStore.AttachmentsOfAsync(connection, caller.TenantId, carrying, cancellationToken);
            if (files.Count > 0) messages = [.. messages.Select(m => files.TryGetValue(m.Id, out var list) ? m with { Attachments = list } : m)];
            var sessions = await SessionsAsync(connection, caller.TenantId, [.. messages.Select(m => m.SessionId).Distinct()], cancellationToken);
            var hits = messages.Select(m => new SearchHit(m, sessions[m.SessionId], Highlight.Of(m.Message, query))).ToList();
            return page.ToPage(hits, h => h.Message.Id);
        }, cancellationToken);

    /// <summary>
    /// Who may find which messages, said once: agents every message of the tenant; a tenant user no notes
    /// (<see cref="MessageVisibility"/>), and only in the sessions it started or wrote in.
    /// </summary>
    private static string Visible(CurrentUser caller) => caller.IsAgent ? "" : $"""
        {MessageVisibility.Condition(caller.IsAgent, "m")} AND (
            EXISTS (SELECT 1 FROM session_participants p WHERE p.tenant_id = m.tenant_id AND p.session_id = m.session_id AND p.user_id = @user)
            OR EXISTS (SELECT 1 FROM chat_sessions c WHERE c.tenant_id = m.tenant_id AND c.id = m.session_id AND c.customer_id = @user))
        """;

    /// <summary>The list's session filters on the message's session (its own SQL, unchanged), one session, and the message's time.</summary>
    private static string Filters(SearchScope scope)
    {
        var sql = "";
        var sessions = scope.Sessions.Sql;
        if (sessions.Length > 0)
            sql += $" AND EXISTS (SELECT 1 FROM chat_sessions WHERE chat_sessions.tenant_id = m.tenant_id AND chat_sessions.id = m.session_id{sessions})";
        if (scope.SessionId is not null) sql += " AND m.session_id = @session_id";
        if (scope.From is not null) sql += " AND m.created_at >= @from";
        if (scope.To is not null) sql += " AND m.created_at < @to";
        return sql;
    }

    private static DbCommand Bind(DbCommand command, CurrentUser caller, SearchScope scope)
    {
        scope.Sessions.Bind(command.With("tenant", caller.TenantId).With("user", caller.UserId));
        if (scope.SessionId is { } session) command.With("session_id", session);
        if (scope.From is { } from) command.With("from", from);
        if (scope.To is { } to) command.With("to", to);
        return command;
    }

    /// <summary>The hits' sessions, each read once, as every read of a session shows it.</summary>
    private static async Task<Dictionary<Guid, ChatSession>> SessionsAsync(DbConnection connection, long tenantId, IReadOnlyList<Guid> ids,
        CancellationToken cancellationToken)
    {
        var sessions = new Dictionary<Guid, ChatSession>();
        if (ids.Count == 0) return sessions;
        await using var command = connection.Sql($"SELECT {SessionRows.Columns} FROM chat_sessions WHERE tenant_id = @tenant AND id IN ({DbCommandExtensions.InList("s", ids.Count)})")
            .With("tenant", tenantId).WithList("s", ids);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var session = SessionRows.Read(reader);
            sessions[session.Id] = session;
        }
        return sessions;
    }
}
