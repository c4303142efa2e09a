using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Search;

/// <summary>
/// SQLite: removes from <c>message_search_words</c> the words no message holds any more, since a word can be personal
/// data (a name, a phone number). Erasure and retention (Privacy/Forgetting.cs) note the words of the messages they
/// forget in <c>message_search_words_to_check</c>, in their transaction; this checks them against the FTS5 index
/// every <see cref="IntervalSeconds"/> seconds, in batches of <see cref="BatchSize"/> words, each its own short
/// transaction through the write path, so a purge batch pays one statement for its words, not a lookup per word.
/// A word the check finds nowhere leaves the table in the same transaction (a send that writes it again waits).
/// docs/privacy.md says what happens to these words.
/// </summary>
public sealed class SearchWordsSweep(Database database, WritePath writes, TimeProvider time, ILogger<SearchWordsSweep> logger) : BackgroundService
{
    public const int IntervalSeconds = 10;

    /// <summary>About 0.15 ms a word at a million messages: a batch holds the writer for some 15 ms.</summary>
    public const int BatchSize = 100;

    /// <summary>Notes the words <c>@words</c> (a JSON array, <c>MessageSearchIndex.SqliteWords</c>) for the next sweep.</summary>
    public const string NoteSql = "INSERT OR IGNORE INTO message_search_words_to_check (word) SELECT value FROM json_each(@words)";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database is PostgresDatabase) return; // PostgreSQL's search reads its own GIN index: no table of words
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(IntervalSeconds), time);
        try
        {
            do
            {
                try
                {
                    await RunAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(e, "The sweep of search words failed; trying again at the next interval.");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Checks every noted word, batch after batch; answers how many left the table.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var removed = 0;
        while (true)
        {
            var (done, gone) = await writes.RunAsync(scope => BatchAsync(scope, cancellationToken), cancellationToken);
            removed += gone;
            if (done < BatchSize) return removed;
        }
    }

    private static async Task<Change<(int Done, int Gone)>> BatchAsync(ChangeScope scope, CancellationToken cancellationToken)
    {
        var words = new List<string>();
        await using (var select = scope.Sql($"SELECT word FROM message_search_words_to_check LIMIT {BatchSize}"))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) words.Add(reader.GetString(0));
        }
        var gone = 0;
        foreach (var word in words)
        {
            if (!await InIndexAsync(scope, word, cancellationToken))
            {
                await using var delete = scope.Sql("DELETE FROM message_search_words WHERE word = @word").With("word", word);
                gone += await delete.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var done = scope.Sql("DELETE FROM message_search_words_to_check WHERE word = @word").With("word", word);
            await done.ExecuteNonQueryAsync(cancellationToken);
        }
        return Change.Of((words.Count, gone));
    }

    /// <summary>
    /// Whether a message's text still holds the word: a whole word is a query for it in the body column, which stops
    /// at its first row; <c>stra*</c> (a word that begins so and goes on beyond ASCII, <see cref="IndexWords.Entry"/>)
    /// is a range of the index's vocabulary, non-ASCII words with short lists.
    /// </summary>
    private static async Task<bool> InIndexAsync(ChangeScope scope, string word, CancellationToken cancellationToken)
    {
        await using var command = word.EndsWith('*')
            ? scope.Sql("SELECT 1 FROM message_search_vocabulary WHERE term >= @first AND term < @last LIMIT 1")
                .With("first", word[..^1] + "\u0080").With("last", word[..^1] + "\U0010FFFF")
            : scope.Sql("SELECT 1 FROM message_search WHERE message_search MATCH @query LIMIT 1").With("query", $"body : \"{word}\"");
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }
}
