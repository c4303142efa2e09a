using System.Data.Common;
using Livechat.Data;

namespace Livechat.Search;

/// <summary>
/// PostgreSQL: the words of the index (lexemes, as <c>to_tsvector('livechat_search', ...)</c> makes them) that are in
/// at least <see cref="Share"/> of all messages, every tenant's together, from the statistics PostgreSQL keeps of
/// <c>chat_messages.search_vector</c> (<c>pg_stats.most_common_elems</c>, which <c>ANALYZE</c> and autovacuum
/// refresh), read at most every <see cref="Refresh"/>. A search looks up its rare words in the GIN index and checks
/// its common ones on the few messages those find (ADR 0052): advancing a common word's list of hundreds of
/// thousands of messages to each of them costs the index more than reading the messages. Only a speed decision:
/// the whole query is checked on every message found either way.
/// </summary>
public sealed class CommonWords(TimeProvider time)
{
    /// <summary>A word in this share of all messages is common: at a million messages, 10,000 of them.</summary>
    public const double Share = 0.01;

    public static readonly TimeSpan Refresh = TimeSpan.FromMinutes(10);

    /// <summary>What the last read found, and when. One reference, replaced whole: searches running at once read it
    /// without a lock and never see a set from one read with the time of another.</summary>
    private sealed record Read(HashSet<string> Words, DateTimeOffset At);

    private volatile Read? last;

    /// <summary>The common words, read again from the statistics when the last read is older than <see cref="Refresh"/>.</summary>
    public async Task<IReadOnlySet<string>> OfAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (last is { } read && now - read.At < Refresh) return read.Words;
        var words = new HashSet<string>(StringComparer.Ordinal);
        // The elements and their frequencies are parallel arrays (the frequencies end with three summary numbers).
        await using (var command = connection.Sql("""
            SELECT e.word FROM pg_stats s, unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(word, share)
            WHERE s.schemaname = current_schema() AND s.tablename = 'chat_messages' AND s.attname = 'search_vector' AND e.word IS NOT NULL AND e.share >= @share
            """).With("share", Share))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) words.Add(reader.GetString(0));
        }
        last = new Read(words, now);
        return words;
    }
}
