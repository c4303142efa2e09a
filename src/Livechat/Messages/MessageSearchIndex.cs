using System.Data.Common;
using Livechat.Data;

namespace Livechat.Messages;

/// <summary>
/// The full-text index of messages (contract section 19, ADR 0038), written in the message's transaction (on SQLite at
/// the end of its write batch, ADR 0046), so a message is searchable once its 201 is sent. Migration 0090 made it; <c>Search/</c> reads it.
/// <list type="bullet">
/// <item>PostgreSQL: <c>chat_messages.search_vector</c>, a <c>tsvector</c> the insert computes from its own
/// <c>@message</c> (<see cref="PostgresVector"/>), under a GIN index that leads with <c>tenant_id</c>.</item>
/// <item>SQLite: the contentless FTS5 table <c>message_search</c> (<c>unicode61 remove_diacritics 2</c>), whose rowid
/// is the message's <c>search_row</c>: minus its creation time in microseconds times 1,000, minus a count within that
/// microsecond, so the index's ascending rowid order (the direction FTS5 walks fastest) is newest first
/// (<see cref="SqliteRow"/>).</item>
/// </list>
/// Erasing or deleting messages (contract section 21) happens only in <c>Privacy/Forgetting.cs</c>, which removes their
/// SQLite entries first (<see cref="SqliteRemoveOf"/>) in its transaction; the backfill (<c>Search/SearchBackfill.cs</c>)
/// writes the entries of messages from before the index. Those are the only other writers.
/// </summary>
public static class MessageSearchIndex
{
    /// <summary>
    /// The text as the index sees it: ASCII punctuation and the common Unicode punctuation (quotes, dashes, the
    /// ellipsis, CJK punctuation) become spaces, so PostgreSQL's parser finds plain words, split where FTS5's
    /// <c>unicode61</c> splits them ("foo-bar" is "foo" "bar", "1.5" is "1" "5") whatever the database's locale.
    /// </summary>
    public const string PostgresPunctuation = @"[[:punct:]\u00a1-\u00bf\u00d7\u00f7\u2000-\u206f\u3000-\u303f\uff01-\uff0f]+";

    /// <summary>The <c>tsvector</c> of a text expression: configuration <c>livechat_search</c> is <c>simple</c> (no stemming) after <c>unaccent</c>.</summary>
    public static string PostgresVector(string text) => $"to_tsvector('livechat_search', regexp_replace({text}, '{PostgresPunctuation}', ' ', 'g'))";

    /// <summary>
    /// SQLite: a new message's <c>search_row</c>, the next free one of its microsecond going down from <c>@search_top</c>
    /// (<see cref="SearchTop"/>), found on the unique index of <c>search_row</c>: one writer, so no two take the same.
    /// </summary>
    public const string SqliteRow =
        "(SELECT COALESCE(MIN(r.search_row) - 1, @search_top) FROM chat_messages r WHERE r.search_row <= @search_top AND r.search_row > @search_top - 1000)";

    /// <summary>The first (highest) <c>search_row</c> of a time's microsecond: later times have lower rows.</summary>
    public static long SearchTop(DateTimeOffset createdAt) => -((createdAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10 * 1000);

    /// <summary>
    /// SQLite: the entries of the messages a write batch sent (or the backfill numbered), in one statement at the end of the batch, in its transaction
    /// (<see cref="BatchEndStatement"/>, ADR 0046). FTS5 writes what it holds as a new segment at every savepoint, and each write
    /// of a batch has one: an entry written with its message cost a segment, and the merges after it, per message. The entries
    /// are read from the messages as they are at the batch's end: a message whose write was undone has none, and one erased
    /// later in the same batch (its text emptied, or its row deleted) has none either.
    /// </summary>
    public static readonly BatchEndStatement SqliteWriteSent = new("""
        INSERT INTO message_search (rowid, tenant, body)
        SELECT m.search_row, 't' || m.tenant_id, m.message
        FROM json_each(@rows) sent JOIN chat_messages m ON m.tenant_id = sent.value ->> 0 AND m.id = sent.value ->> 1
        WHERE m.message <> ''
        ORDER BY m.search_row
        """);

    /// <summary>
    /// SQLite: adds the words <c>@words</c> (a JSON array, <see cref="SqliteWords"/>) to <c>message_search_words</c>,
    /// the index's ASCII words, where a prefix is looked up (Search/SearchStore.cs). A word already there costs a
    /// lookup in the primary key and writes nothing.
    /// </summary>
    public const string SqliteWordsWrite = "INSERT OR IGNORE INTO message_search_words (word) SELECT value FROM json_each(@words)";

    /// <summary>SQLite: the send's <see cref="SqliteWordsWrite"/>, when the message <c>@id</c> was stored (a closed session stores nothing).</summary>
    public const string SqliteWordsOfMessage = $"{SqliteWordsWrite} WHERE EXISTS (SELECT 1 FROM chat_messages WHERE tenant_id = @tenant AND id = @id)";

    /// <summary>
    /// The ASCII words of <paramref name="texts"/> as FTS5 stores them (<see cref="IndexWords"/>), de-duplicated,
    /// as the JSON array <c>@words</c> of <see cref="SqliteWordsWrite"/>, or null when there are none. A word is
    /// letters a-z and digits only, so it needs no escaping.
    /// </summary>
    public static string? SqliteWords(IReadOnlyCollection<string> texts)
    {
        var words = texts.Count == 1 ? IndexWords.Of(texts.First()) : [.. texts.SelectMany(IndexWords.Of).Distinct(StringComparer.Ordinal)];
        return words.Count == 0 ? null : $"[\"{string.Join("\",\"", words)}\"]";
    }

    /// <summary>SQLite: removes the entries of the messages <paramref name="rows"/> (a condition over <c>chat_messages</c>) selects, before they are deleted or erased.</summary>
    public static string SqliteRemoveOf(string rows) =>
        $"DELETE FROM message_search WHERE rowid IN (SELECT search_row FROM chat_messages WHERE {rows} AND search_row IS NOT NULL)";

    /// <summary>Binds what the index's part of a send needs beyond the send's own parameters (SQLite's <c>@search_top</c>).</summary>
    public static DbCommand BindSqlite(DbCommand command, DateTimeOffset createdAt) => command.With("search_top", SearchTop(createdAt));
}
