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
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var done = postgres
                ? await writes.RunAsync(scope => PostgresBatchAsync(scope, cancellationToken), cancellationToken)
                : await writes.RunAsync(scope => SqliteBatchAsync(scope, cancellationToken), cancellationToken);
            if (done == 0) return total;
            total += done;
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                logger.LogInformation("Search backfill: {Messages} messages indexed so far.", total);
                clock.Restart();
            }
        }
    }

    /// <summary>
    /// PostgreSQL: up to <see cref="BatchSize"/> messages without a vector (migration 0103's partial index
    /// <c>ix_chat_messages_unsearched</c> holds exactly those, so a finished backfill costs one look at an empty index,
    /// not a walk of the table) get one. Rows another instance's batch holds are skipped, not waited for.
    /// </summary>
    private static async Task<Change<long>> PostgresBatchAsync(ChangeScope scope, CancellationToken cancellationToken)
    {
        await using var command = scope.Sql($"""
            WITH batch AS (
                SELECT tenant_id, session_id, seq FROM chat_messages WHERE search_vector IS NULL
                LIMIT {BatchSize} FOR UPDATE SKIP LOCKED)
            UPDATE chat_messages m SET search_vector = {MessageSearchIndex.PostgresVector("m.message")}
            FROM batch b WHERE m.tenant_id = b.tenant_id AND m.session_id = b.session_id AND m.seq = b.seq
            """);
        return Change.Of<long>(await command.ExecuteNonQueryAsync(cancellationToken));
    }

    /// <summary>
    /// SQLite: up to <see cref="BatchSize"/> messages without a <c>search_row</c> (found on its index, where the
    /// empty ones come first) each take the next free row of their microsecond and get their entry at the batch's end,
    /// with the sends' (<see cref="MessageSearchIndex.SqliteWriteSent"/>); then their words
    /// go to <c>message_search_words</c> in one statement, as the send writes its message's.
    /// </summary>
    private static async Task<Change<long>> SqliteBatchAsync(ChangeScope scope, CancellationToken cancellationToken)
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
        return Change.Of<long>(batch.Count);
    }
}
