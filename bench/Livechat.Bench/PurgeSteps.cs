using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Privacy;
using Microsoft.Data.Sqlite;
using SQLitePCL;

/// <summary>
/// Where a SQLite retention batch's time goes (issue 28), statement by statement: the job's own batch
/// (<c>RetentionJob.PurgeBatchAsync</c>) run on a copy of a seeded file (<c>reports --keep FILE</c>), in this process, on
/// one connection set up as the service's writer, each batch in its own <c>BEGIN IMMEDIATE</c> … <c>COMMIT</c>. SQLite's
/// profile hook times each statement; the batch's hold of the writer is from its <c>BEGIN</c> to its commit's end.
/// <c>--indexed</c> first gives the oldest sessions' messages a search entry (as the backfill does), which the bench's seed has not.
/// </summary>
internal static partial class PurgeSteps
{
    public static async Task RunAsync(string seeded, int batches, int budget, bool indexed, int notifications)
    {
        var folder = Directory.CreateTempSubdirectory("livechat-purge-steps-").FullName;
        try
        {
            var file = Path.Combine(folder, "purge.db");
            File.Copy(seeded, file);
            var connectionString = SqliteDatabase.ConnectionString($"Data Source={file}");
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync();
            await ExecuteAsync(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 10000;");
            if (indexed) await IndexAsync(connection);
            // What the bench's send load leaves meanwhile: a notification for the agent with every customer message, in
            // the same tenant, in sessions the purge does not touch.
            if (notifications > 0)
                await ExecuteAsync(connection, $"""
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {notifications})
                    INSERT INTO notifications (tenant_id, user_id, id, type, session_id, message_id, preview, created_at)
                    SELECT 1, 10000 + i % 64, printf('%08d-0000-7000-8000-000000000000', i), 'message', printf('00000000-0000-7000-8000-%012d', i % 64),
                        printf('%08d-0000-7000-8000-000000000001', i), 'hello', '2026-12-05T00:00:00.000000Z' FROM n
                    """);

            var statements = new Dictionary<string, List<double>>();
            // SQLite's profile hook counts whole milliseconds; its trace hook marks each statement's start, and the next
            // statement's start (or the commit's) is its end: the time between is the statement's, with its rows read.
            var current = new List<(string Sql, long At)>();
            var examples = new Dictionary<string, string>(); // one run of each, values bound, for its plan
            raw.sqlite3_trace(connection.Handle, (delegate_trace)((_, statement) =>
            {
                var sql = statement.utf8_to_string();
                current.Add((Normalize(sql), Stopwatch.GetTimestamp()));
                examples.TryAdd(current[^1].Sql, sql);
            }), null);
            var holds = new List<double>();
            var commits = new List<double>();
            long messages = 0, sessions = 0;
            var cutoff = DateTimeOffset.UtcNow.AddDays(-1);
            for (var i = 0; i < batches; i++)
            {
                current.Clear();
                var hold = Stopwatch.StartNew();
                await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
                var (counts, _) = await RetentionJob.PurgeBatchAsync(new ChangeScope(connection, transaction, DateTimeOffset.UtcNow), 1, cutoff, budget, CancellationToken.None);
                var commit = Stopwatch.StartNew();
                current.Add(("COMMIT", Stopwatch.GetTimestamp()));
                await transaction.CommitAsync();
                commits.Add(commit.Elapsed.TotalMilliseconds);
                holds.Add(hold.Elapsed.TotalMilliseconds);
                if (counts.IsEmpty) break;
                messages += counts.Messages;
                sessions += counts.Sessions;
                // A statement SQLite runs inside another (FTS5's own, traced with a leading "--") is part of that one.
                var topLevel = current.Where(c => !c.Sql.StartsWith("--", StringComparison.Ordinal) && !c.Sql.StartsWith("SELECT k, v FROM", StringComparison.Ordinal)).ToList();
                var timed = topLevel.Zip(topLevel.Skip(1), (c, next) => (c.Sql, Ms: Stopwatch.GetElapsedTime(c.At, next.At).TotalMilliseconds));
                foreach (var group in timed.Where(c => !c.Sql.StartsWith("BEGIN", StringComparison.Ordinal) && !c.Sql.StartsWith("COMMIT", StringComparison.Ordinal)).GroupBy(c => c.Sql))
                {
                    if (!statements.TryGetValue(group.Key, out var times)) statements[group.Key] = times = [];
                    times.Add(group.Sum(c => c.Ms));
                }
            }
            raw.sqlite3_trace(connection.Handle, (delegate_trace?)null, null);

            Console.WriteLine();
            Console.WriteLine($"## One retention batch on SQLite, statement by statement: {holds.Count} batches of up to {budget} messages ({sessions:N0} sessions, {messages:N0} messages){(indexed ? ", the messages of the 20,000 oldest sessions with a search entry" : "")}");
            Console.WriteLine();
            Console.WriteLine("| statement | median ms | p90 ms | max ms | share of the statements' time |");
            Console.WriteLine("| --- | --- | --- | --- | --- |");
            var total = statements.Values.Sum(t => t.Sum());
            foreach (var (sql, times) in statements.OrderByDescending(s => s.Value.Sum()))
                Console.WriteLine($"| `{Short(sql)}` | {Percentile(times, 0.5):0.00} | {Percentile(times, 0.9):0.00} | {times.Max():0.00} | {times.Sum() / total:P0} |");
            Console.WriteLine($"| the commit (WAL write and sync) | {Percentile(commits, 0.5):0.00} | {Percentile(commits, 0.9):0.00} | {commits.Max():0.00} | |");
            Console.WriteLine($"| **the batch's hold of the writer** (BEGIN to the commit's end) | **{Percentile(holds, 0.5):0.00}** | {Percentile(holds, 0.9):0.00} | {holds.Max():0.00} | |");
            Console.WriteLine();
            Console.WriteLine("Plans (EXPLAIN QUERY PLAN):");
            Console.WriteLine();
            foreach (var sql in statements.Keys)
            {
                Console.WriteLine($"- `{Short(sql)}`");
                raw.sqlite3_prepare_v2(connection.Handle, "EXPLAIN QUERY PLAN " + examples[sql], out var explain);
                using (explain)
                    while (raw.sqlite3_step(explain) == raw.SQLITE_ROW) Console.WriteLine($"  - {raw.sqlite3_column_text(explain, 3).utf8_to_string()}");
            }
            Console.WriteLine($"RESULT hold_p50={Percentile(holds, 0.5):0.00} hold_p90={Percentile(holds, 0.9):0.00} commit_p50={Percentile(commits, 0.5):0.00} messages_per_second_of_hold={messages / (holds.Sum() / 1000):0}");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// What the backfill does (Search/SearchBackfill.cs) for the messages of the 20,000 sessions closed first (some
    /// 200,000 messages, more than 200 batches take), in one go: a search_row and an FTS5 entry. All million took longer
    /// than the measurement is worth.
    /// </summary>
    private static async Task IndexAsync(SqliteConnection connection)
    {
        var took = Stopwatch.StartNew();
        await ExecuteAsync(connection, """
            UPDATE chat_messages SET search_row = n.row
            FROM (SELECT m.tenant_id, m.session_id, m.seq, -ROW_NUMBER() OVER (ORDER BY m.created_at, m.id) AS row
                  FROM (SELECT session_id FROM session_facts WHERE tenant_id = 1 AND closed_at IS NOT NULL ORDER BY closed_at LIMIT 20000) oldest
                  JOIN chat_messages m ON m.tenant_id = 1 AND m.session_id = oldest.session_id) n
            WHERE chat_messages.tenant_id = n.tenant_id AND chat_messages.session_id = n.session_id AND chat_messages.seq = n.seq;
            INSERT INTO message_search (rowid, tenant, body) SELECT search_row, 't' || tenant_id, message FROM chat_messages WHERE search_row IS NOT NULL;
            ANALYZE;
            PRAGMA wal_checkpoint(TRUNCATE);
            """);
        Console.WriteLine($"Indexed the oldest sessions' messages in {took.Elapsed.TotalSeconds:0} s.");
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The statement as the job wrote it: the trace shows it with its values bound; an IN list of any length as one, a
    /// value as its parameter's kind, so a statement's every run is one row of the table.
    /// </summary>
    private static string Normalize(string sql) => Literals().Replace(InList().Replace(Spaces().Replace(sql, " ").Trim(), "IN (…)"), "?");

    private static string Short(string sql) => sql;

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(p * sorted.Count))];
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"IN \('[^()]*\)")]
    private static partial Regex InList();

    [GeneratedRegex(@"'[^']*'|\b\d+\b")]
    private static partial Regex Literals();
}
