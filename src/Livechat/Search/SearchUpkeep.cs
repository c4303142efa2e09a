using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;

namespace Livechat.Search;

/// <summary>
/// SQLite's search index, kept every <see cref="IntervalSeconds"/> seconds in short transactions through the write
/// path (PostgreSQL has nothing to do: its index is a column of the message row):
/// <list type="bullet">
/// <item><b>Words no message holds any more</b> leave <c>message_search_words</c>, since a word can be personal data
/// (a name, a phone number). Erasure and retention (Privacy/Forgetting.cs) note the words of the messages they
/// forget in <c>message_search_words_to_check</c>, in their transaction; this checks them against the FTS5 index in
/// batches of <see cref="WordsPerBatch"/>, so a purge batch pays one statement for its words, not a lookup per word.
/// A word found nowhere leaves the table in the checking transaction (a send that writes it again waits).</item>
/// <item><b>Fewer segments</b>: FTS5 looks a word up once in each of its b-trees (segments), and a prefix is an OR of
/// up to 200 words, so a query's cost is words × segments (18 segments after a backfill: <c>bisa to</c>, 127 words,
/// 27 ms; merged, 1.4 ms; docs/performance.md, session 26). Migration 0101 sets <c>usermerge</c> to 2, and this runs
/// <c>merge</c> steps of <see cref="PagesPerMerge"/> pages while any level holds two segments, at most
/// <see cref="MaxMergeSteps"/> a run: in time about one segment per level, each step a short transaction.</item>
/// </list>
/// docs/search.md and docs/privacy.md say what this keeps.
/// </summary>
public sealed class SearchUpkeep(Database database, WritePath writes, TimeProvider time, ILogger<SearchUpkeep> logger) : BackgroundService
{
    public const int IntervalSeconds = 10;

    /// <summary>About 0.15 ms a word at a million messages: a batch holds the writer for some 15 ms.</summary>
    public const int WordsPerBatch = 100;

    /// <summary>Pages of merged index a step writes: some 25 ms at a million messages (4 KiB pages).</summary>
    public const int PagesPerMerge = 100;

    /// <summary>
    /// Merge steps a run takes at most: some 200 ms of the writer's time every 10 s. Unbounded, the merges under a
    /// saturating send load (`bench builds`) cost the send some 10 % of its rate; bounded, a backfilled index of a
    /// million messages (about 375 steps) is merged within some 8 minutes, a lightly written one at once.
    /// </summary>
    public const int MaxMergeSteps = 8;

    /// <summary>Notes the words <c>@words</c> (a JSON array, <c>MessageSearchIndex.SqliteWords</c>) for the next sweep.</summary>
    public const string NoteSql = "INSERT OR IGNORE INTO message_search_words_to_check (word) SELECT value FROM json_each(@words)";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database is PostgresDatabase) return;
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
                    logger.LogError(e, "The upkeep of the search index failed; trying again at the next interval.");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Sweeps every noted word, then merges (at most <see cref="MaxMergeSteps"/> steps); answers how many words left the table.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var removed = 0;
        while (true)
        {
            var (done, gone) = await writes.RunAsync(scope => SweepBatchAsync(scope, cancellationToken), cancellationToken);
            removed += gone;
            if (done < WordsPerBatch) break;
        }
        for (var step = 0; step < MaxMergeSteps && await writes.RunAsync(scope => MergeStepAsync(scope, cancellationToken), cancellationToken); step++)
        {
        }
        return removed;
    }

    private static async Task<Change<(int Done, int Gone)>> SweepBatchAsync(ChangeScope scope, CancellationToken cancellationToken)
    {
        var words = new List<string>();
        await using (var select = scope.Sql($"SELECT word FROM message_search_words_to_check LIMIT {WordsPerBatch}"))
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
            ? scope.Sql(SearchStore.WordsBeyondAsciiSql).With("head", word[..^1]).With("take", 1)
            : scope.Sql("SELECT 1 FROM message_search WHERE message_search MATCH @query LIMIT 1").With("query", $"body : \"{word}\"");
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>
    /// One step of FTS5's <c>merge</c>: whether it merged anything (FTS5 says so by changing two rows or more; a step
    /// with nothing to merge changes fewer).
    /// </summary>
    private static async Task<Change<bool>> MergeStepAsync(ChangeScope scope, CancellationToken cancellationToken)
    {
        await using var changes = scope.Sql("SELECT total_changes()");
        var before = (long)(await changes.ExecuteScalarAsync(cancellationToken))!;
        await using (var merge = scope.Sql($"INSERT INTO message_search (message_search, rank) VALUES ('merge', {PagesPerMerge})"))
            await merge.ExecuteNonQueryAsync(cancellationToken);
        return Change.Of((long)(await changes.ExecuteScalarAsync(cancellationToken))! - before >= 2);
    }
}
