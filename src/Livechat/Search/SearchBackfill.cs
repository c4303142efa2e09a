using System.Diagnostics;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;

namespace Livechat.Search;

/// <summary>
/// Indexes the messages that were stored before migration 0090 (whose insert wrote no index entry), after start,
/// in batches of <see cref="BatchSize"/>, each its own short transaction through the write path: writers wait for
/// one batch at most, never for the whole table. New messages are indexed by their own insert, so the backfill
/// ends for good once it finds nothing; an instance that restarts resumes where the rows say. Several instances
/// may run it at once: a batch only fills rows that are still empty, and filling one twice writes the same.
/// docs/search.md says how long a million messages take.
/// </summary>
public sealed class SearchBackfill(Database database, WritePath writes, ILogger<SearchBackfill> logger) : BackgroundService
{
    public const int BatchSize = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var total = await RunAsync(stoppingToken);
            if (total > 0) logger.LogInformation("Search backfill: indexed {Messages} messages stored before search existed.", total);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Not fatal: new messages are indexed by their insert; the old ones are tried again at the next start.
            logger.LogError(e, "Search backfill stopped; messages stored before search existed may not be found until the next start.");
        }
    }

    /// <summary>Indexes every message without an entry, batch after batch; the number indexed. Also the bench's way to build the index.</summary>
    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var postgres = database is PostgresDatabase;
        long total = 0;
        object? after = null;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (done, last) = postgres
                ? await writes.RunAsync(scope => PostgresBatchAsync(scope, after, cancellationToken), cancellationToken)
                : await writes.RunAsync(scope => SqliteBatchAsync(scope, cancellationToken), cancellationToken);
            total += done;
            if (last is null) return total;
            after = last;
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                logger.LogInformation("Search backfill: {Messages} messages indexed so far.", total);
                clock.Restart();
            }
        }
    }

    /// <summary>
    /// PostgreSQL: the next <see cref="BatchSize"/> rows in primary-key order after the last batch's, those of them
    /// still without a vector get one. Walking the key (not "WHERE search_vector IS NULL", which no index serves)
    /// keeps each batch a short range scan.
    /// </summary>
    private static async Task<Change<(long Done, object? Last)>> PostgresBatchAsync(ChangeScope scope, object? after, CancellationToken cancellationToken)
    {
        var (tenant, session, seq) = after is ValueTuple<long, Guid, long> key ? key : (0L, Guid.Empty, 0L);
        await using var command = scope.Sql($"""
            WITH batch AS (
                SELECT tenant_id, session_id, seq FROM chat_messages
                WHERE (tenant_id, session_id, seq) > (@tenant, @session, @seq)
                ORDER BY tenant_id, session_id, seq LIMIT {BatchSize}),
            filled AS (
                UPDATE chat_messages m SET search_vector = {MessageSearchIndex.PostgresVector("m.message")}
                FROM batch b WHERE m.tenant_id = b.tenant_id AND m.session_id = b.session_id AND m.seq = b.seq AND m.search_vector IS NULL
                RETURNING 1)
            SELECT (SELECT COUNT(*) FROM filled), tenant_id, session_id, seq FROM batch ORDER BY tenant_id DESC, session_id DESC, seq DESC LIMIT 1
            """).With("tenant", tenant).With("session", session).With("seq", seq);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return Change.Of<(long, object?)>((0, null));
        return Change.Of<(long, object?)>((reader.GetInt64(0), (reader.GetInt64(1), reader.GetGuid(2), reader.GetInt64(3))));
    }

    /// <summary>
    /// SQLite: up to <see cref="BatchSize"/> messages without a <c>search_row</c> (found on its index, where the
    /// empty ones come first) each take the next free row of their microsecond and get their entry at the batch's end,
    /// with the sends' (<see cref="MessageSearchIndex.SqliteWriteSent"/>); then their words
    /// go to <c>message_search_words</c> in one statement, as the send writes its message's.
    /// </summary>
    private static async Task<Change<(long Done, object? Last)>> SqliteBatchAsync(ChangeScope scope, CancellationToken cancellationToken)
    {
        var batch = new List<(long Tenant, Guid Id, DateTimeOffset CreatedAt, string Text)>();
        await using (var select = scope.Sql($"SELECT tenant_id, id, created_at, message FROM chat_messages WHERE search_row IS NULL LIMIT {BatchSize}"))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) batch.Add((reader.GetInt64(0), reader.GetId(1), reader.GetTime(2), reader.GetString(3)));
        }
        foreach (var (tenant, id, createdAt, _) in batch)
        {
            await using (var number = scope.Sql($"UPDATE chat_messages SET search_row = {MessageSearchIndex.SqliteRow} WHERE tenant_id = @tenant AND id = @id"))
            {
                MessageSearchIndex.BindSqlite(number.With("tenant", tenant).With("id", id), createdAt);
                await number.ExecuteNonQueryAsync(cancellationToken);
            }
            scope.AtBatchEnd(MessageSearchIndex.SqliteWriteSent, tenant, id);
        }
        if (MessageSearchIndex.SqliteWords([.. batch.Select(m => m.Text)]) is { } words)
        {
            await using var write = scope.Sql(MessageSearchIndex.SqliteWordsWrite).With("words", words);
            await write.ExecuteNonQueryAsync(cancellationToken);
        }
        return Change.Of<(long, object?)>((batch.Count, batch.Count == 0 ? null : "more"));
    }
}
