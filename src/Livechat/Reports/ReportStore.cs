using System.Data.Common;
using System.Globalization;
using System.Text;
using Livechat.Data;

namespace Livechat.Reports;

/// <summary>
/// The reports' SQL (contract section 20, docs/reports.md) over <c>session_facts</c>: two queries per report, one pass
/// over the sessions started in the range (their count, messages, ratings, and the p50 and p90 of each duration) and
/// the count of the closes, each grouped by the report's rows (nothing, the agent, the day). The percentiles are the
/// database's <c>percentile_cont</c>: PostgreSQL's own, and on SQLite, which has none, an aggregate with the same
/// definition registered on its connections (Data/SqlitePercentile.cs), so both give the same numbers (ADRs 0033, 0035).
/// </summary>
public sealed class ReportStore(Database database)
{
    /// <summary>What a report's rows are: its key in SQL, and how its sessions are grouped.</summary>
    private sealed record Grouping(string Key, string GroupBy, bool ByDay, string Extra = "")
    {
        public static readonly Grouping Summary = new("0", "", false);
        public static readonly Grouping Agents = new("f.agent_id", "GROUP BY f.agent_id", false, "AND f.agent_id IS NOT NULL");
        public static readonly Grouping Daily = new("d.day", "GROUP BY d.day", true);
    }

    /// <summary>The figures of one row while the three queries fill them in.</summary>
    private sealed class Row
    {
        public long Started, Closed, Messages;
        public readonly long[] Ratings = new long[5];
        public readonly Percentiles[] Durations = [Percentiles.None, Percentiles.None, Percentiles.None];

        public T To<T>(T figures) where T : ReportFigures
        {
            var count = Ratings.Sum();
            double? average = count == 0 ? null : Math.Round(Ratings.Select((n, i) => n * (i + 1)).Sum() / (double)count, 2, MidpointRounding.AwayFromZero);
            return figures with
            {
                SessionsStarted = Started, SessionsClosed = Closed, Messages = Messages,
                FirstResponseSeconds = Durations[0], ResolutionSeconds = Durations[1], QueueWaitSeconds = Durations[2],
                Rating = new RatingFigures(count, average, ReportFigures.Distribution(Ratings)),
            };
        }
    }

    public async Task<ReportFigures> SummaryAsync(long tenantId, ReportQuery query, CancellationToken cancellationToken)
    {
        var rows = await RowsAsync(tenantId, query, Grouping.Summary, [], cancellationToken);
        return (rows.GetValueOrDefault(0) ?? new Row()).To(new ReportFigures());
    }

    /// <summary>Every agent that has a session started or closed in the range, by id.</summary>
    public async Task<IReadOnlyList<AgentFigures>> AgentsAsync(long tenantId, ReportQuery query, CancellationToken cancellationToken)
    {
        var rows = await RowsAsync(tenantId, query, Grouping.Agents, [], cancellationToken);
        return rows.OrderBy(row => row.Key).Select(row => row.Value.To(new AgentFigures { AgentId = row.Key })).ToList();
    }

    /// <summary>Every day of the range in the report's time zone, days without a session too.</summary>
    public async Task<IReadOnlyList<DailyFigures>> DailyAsync(long tenantId, ReportQuery query, CancellationToken cancellationToken)
    {
        var days = query.Days();
        var rows = await RowsAsync(tenantId, query, Grouping.Daily, days, cancellationToken);
        return days.Select(day => (rows.GetValueOrDefault(day.Index) ?? new Row())
            .To(new DailyFigures { Date = day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) })).ToList();
    }

    private Task<Dictionary<long, Row>> RowsAsync(long tenantId, ReportQuery query, Grouping grouping, IReadOnlyList<ReportDay> days,
        CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            var rows = new Dictionary<long, Row>();
            Row RowOf(DbDataReader reader)
            {
                var key = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
                if (!rows.TryGetValue(key, out var row)) rows[key] = row = new Row();
                return row;
            }

            // PostgreSQL: Npgsql prepares a statement run often enough, and PostgreSQL may then plan it once for any
            // parameters. Without the days' instants, that plan compared every session of the tenant with every day
            // (a 30-day daily report took a second, a year's timed out); a plan for the range asked keeps seeking each
            // day's sessions. No JIT: a report's cost estimate (the open sessions' message lookup counted for every
            // session) is far above jit_above_cost, and compiling its expressions took 341 ms of a 30-day daily report
            // and 441 of a year's summary, which run in 16 and 120 without (ADR 0042, loaded machine). One read-only
            // transaction, so these settings end with the report, and both counts see one snapshot.
            await using var transaction = connection is Npgsql.NpgsqlConnection npgsql
                ? await npgsql.BeginPlannedPerQueryAsync(System.Data.IsolationLevel.RepeatableRead, "; SET LOCAL jit = off", cancellationToken)
                : null;

            await using (var started = Bind(Unkept(connection, StartedSql(grouping, days)), tenantId, query, days))
            await using (var reader = await started.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (Count(reader, 1) == 0) continue; // the summary's one row over no session
                    var row = RowOf(reader);
                    row.Started = Count(reader, 1);
                    row.Messages = Count(reader, 2);
                    for (var score = 0; score < 5; score++) row.Ratings[score] = Count(reader, 3 + score);
                    var percentiles = Postgres
                        ? [.. Enumerable.Range(8, 6).Select(ordinal => reader.IsDBNull(ordinal) ? (double?)null : reader.GetDouble(ordinal))]
                        : SqlitePercentile.Parse(reader.GetString(8));
                    for (var metric = 0; metric < 3; metric++) row.Durations[metric] = new(Seconds(percentiles[2 * metric]), Seconds(percentiles[2 * metric + 1]));
                }
            }
            await using (var closed = Bind(Unkept(connection, ClosedSql(grouping, days)), tenantId, query, days))
            await using (var reader = await closed.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (Count(reader, 1) > 0) RowOf(reader).Closed = Count(reader, 1);
                }
            }
            if (transaction is not null) await transaction.CommitAsync(cancellationToken);
            return rows;
        }, cancellationToken);

    /// <summary>
    /// A command that is not kept prepared: a daily report's SQL changes with its number of days, and SQLite's
    /// connections keep at most 256 statements (Data/SqliteKeptConnection.cs), which are the hot paths' to keep.
    /// </summary>
    private static DbCommand Unkept(DbConnection connection, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    private static long Count(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? 0 : Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    /// <summary>Seconds to the millisecond: the two databases' doubles may differ in their last bit, never in a millisecond.</summary>
    private static double? Seconds(double? seconds) => seconds is { } value ? Math.Round(value, 3, MidpointRounding.AwayFromZero) : null;

    private static DbCommand Bind(DbCommand command, long tenantId, ReportQuery query, IReadOnlyList<ReportDay> days)
    {
        command.With("tenant", tenantId).With("from", query.From).With("to", query.To).With("agent", query.AgentId).With("label", query.Label);
        foreach (var day in days) command.With($"s{day.Index}", day.Starts).With($"e{day.Index}", day.Ends);
        return command;
    }

    private bool Postgres => database.Describe == "postgres";

    /// <summary>
    /// The daily report's days as a table: <c>(day, starts, ends)</c>, one row per local day, in order. The order is for
    /// PostgreSQL: its percentiles need each day's rows together, and from a VALUES list it knows no order, so it sorted
    /// every session of the range by its day (a year's 100,000 rows, on disk past work_mem); from days in order, the
    /// seek of each day's sessions keeps them together. SQLite sorts the 365 days and groups as before.
    /// </summary>
    private static string DaysTable(IReadOnlyList<ReportDay> days)
    {
        var sql = new StringBuilder("days (day, starts, ends) AS (SELECT * FROM (VALUES ");
        sql.AppendJoin(", ", days.Select(day => $"({day.Index}, @s{day.Index}, @e{day.Index})"));
        return sql.Append(") v ORDER BY 1)").ToString();
    }

    private static string With(Grouping grouping, IReadOnlyList<ReportDay> days, params string[] tables)
    {
        var all = (grouping.ByDay ? new[] { DaysTable(days) } : []).Concat(tables).ToList();
        return all.Count == 0 ? "" : "WITH " + string.Join(",\n", all) + "\n";
    }

    /// <summary>
    /// The tenant's sessions whose <paramref name="time"/> falls in the range (and in the row's day), for the agent and
    /// the label asked for (a label is a probe of <c>session_labels</c>' primary key per session). A daily report reads the days first (each within the range), each one's sessions by a seek of the index on
    /// <paramref name="time"/>: SQLite keeps the order of a CROSS JOIN, and the range alone as well would have let it
    /// seek by the range once per day.
    /// </summary>
    private static string Sessions(Grouping grouping, string time) => $"""
        FROM {(grouping.ByDay ? "days d CROSS JOIN " : "")}session_facts f
        WHERE f.tenant_id = @tenant AND (@agent IS NULL OR f.agent_id = @agent) {grouping.Extra}
          AND (@label IS NULL OR EXISTS (SELECT 1 FROM session_labels l WHERE l.tenant_id = f.tenant_id AND l.label = @label AND l.session_id = f.session_id))
          AND {(grouping.ByDay ? $"f.{time} >= d.starts AND f.{time} < d.ends" : $"f.{time} >= @from AND f.{time} < @to")}
        """;

    /// <summary>
    /// Sessions started, their messages (a session's seqs are dense: <c>last_seq</c> counts them, kept with the facts at the
    /// close), their ratings by
    /// score, and the p50 and p90 of each duration (first response, resolution, queue wait, as the write path recorded
    /// them; null where a session has none), in one pass over the sessions.
    /// </summary>
    private string StartedSql(Grouping grouping, IReadOnlyList<ReportDay> days) => $"""
        {With(grouping, days)}SELECT {grouping.Key}, COUNT(*), SUM(COALESCE(f.messages, {OpenSessionMessages})),
            {string.Join(", ", Enumerable.Range(1, 5).Select(score => $"SUM(CASE WHEN f.rating_score = {score} THEN 1 ELSE 0 END)"))},
            {PercentileColumns}
        {Sessions(grouping, "started_at")}
        {grouping.GroupBy}
        """;

    /// <summary>
    /// The messages of a session still open, which its facts do not count yet (the close writes them): a lookup of its
    /// row, for those only (COALESCE evaluates it only where the count is null).
    /// </summary>
    private const string OpenSessionMessages = "(SELECT s.last_seq FROM chat_sessions s WHERE s.tenant_id = f.tenant_id AND s.id = f.session_id)";

    /// <summary>The durations a report reads, in the order of its figures (first response, resolution, queue wait).</summary>
    private static readonly string[] Durations = ["f.first_response_seconds", "f.resolution_seconds", "f.queue_wait_seconds"];

    private static string ClosedSql(Grouping grouping, IReadOnlyList<ReportDay> days) => $"""
        {With(grouping, days)}SELECT {grouping.Key}, COUNT(*)
        {Sessions(grouping, "closed_at")}
        {grouping.GroupBy}
        """;

    /// <summary>
    /// The p50 and p90 of each duration over the group's rows where it is not null: PostgreSQL's own percentile_cont (the
    /// two of one expression share one sort), six columns; on SQLite one column, the aggregate with the same definition
    /// over all three at once (Data/SqlitePercentile.cs: one call per row).
    /// </summary>
    private string PercentileColumns => Postgres
        ? string.Join(",\n    ", Durations.SelectMany(x => SqlitePercentile.Fractions.Select(p =>
            $"percentile_cont({p.ToString("0.0#", CultureInfo.InvariantCulture)}) WITHIN GROUP (ORDER BY {x})")))
        : $"livechat_percentiles({string.Join(", ", Durations)})";

}
