using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Livechat.Data;

/// <summary>
/// <c>livechat_percentiles(x, y, ...)</c> for SQLite, which has no percentile_cont: over a group, the p50 and the p90 of
/// each argument's non-null values, with PostgreSQL's definition of <c>percentile_cont(0.5 or 0.9) WITHIN GROUP (ORDER BY x)</c>
/// and the same arithmetic in doubles (with the n values in order and h = p * (n - 1), the value at floor(h) plus
/// (h - floor(h)) times the step to the next). Its result is one text, <c>p50,p90</c> per argument in order (round-trip
/// doubles, empty where an argument had no value; <see cref="Parse"/> reads it back).
/// </summary>
/// <para>
/// An aggregate registered on each connection, as <c>livechat_uuidv7</c> is: SQLite hands it each row's values and asks
/// for the result once the group is done, so a report reads each session once and sorts each group's values in memory
/// (ranking them with window functions cost SQLite a second of CPU over a year of 100,000 sessions: ADR 0035). It is
/// one call per row for all of a report's durations, registered with SQLitePCL directly: a call through
/// Microsoft.Data.Sqlite's typed aggregates costs about twice as much, and six of those per row (two fractions of three
/// durations) were half of a year's report.
/// </para>
public static class SqlitePercentile
{
    /// <summary>The fractions of each argument, in the order of the result.</summary>
    public static readonly double[] Fractions = [0.5, 0.9];

    public static void Register(SqliteConnection connection)
    {
        var added = raw.sqlite3_create_function(connection.Handle, "livechat_percentiles", -1, raw.SQLITE_UTF8 | raw.SQLITE_DETERMINISTIC, null, Step, Final);
        if (added != raw.SQLITE_OK) throw new InvalidOperationException($"SQLite refused livechat_percentiles: {added}.");
    }

    // A group's state: one list of values per argument, made by its first row.
    private static void Step(sqlite3_context context, object userData, sqlite3_value[] args)
    {
        if (context.state is not List<double>[] values)
        {
            values = new List<double>[args.Length];
            for (var i = 0; i < values.Length; i++) values[i] = [];
            context.state = values;
        }
        for (var i = 0; i < args.Length && i < values.Length; i++)
        {
            if (raw.sqlite3_value_type(args[i]) != raw.SQLITE_NULL) values[i].Add(raw.sqlite3_value_double(args[i]));
        }
    }

    private static void Final(sqlite3_context context, object userData)
    {
        if (context.state is not List<double>[] values)
        {
            raw.sqlite3_result_null(context);
            return;
        }
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < values.Length; i++)
        {
            values[i].Sort(); // once for both fractions: the sorts were a quarter of a year's report
            for (var f = 0; f < Fractions.Length; f++)
            {
                if (i + f > 0) text.Append(','); // after every field but the first, empty ones too
                if (OfSorted(values[i], Fractions[f]) is { } percentile) text.Append(percentile.ToString("R", CultureInfo.InvariantCulture));
            }
        }
        raw.sqlite3_result_text(context, text.ToString());
    }

    /// <summary>The result of <c>livechat_percentiles</c> as numbers: p50 and p90 of each argument in order, null where it had no value.</summary>
    public static double?[] Parse(string text) =>
        [.. text.Split(',').Select(part => part.Length == 0 ? (double?)null : double.Parse(part, NumberStyles.Float, CultureInfo.InvariantCulture))];

    /// <summary>percentile_cont over <paramref name="values"/>, which are sorted.</summary>
    private static double? OfSorted(List<double> values, double p)
    {
        if (values.Count == 0) return null;
        var h = p * (values.Count - 1);
        var lo = (int)Math.Floor(h);
        return lo + 1 < values.Count ? values[lo] + (h - lo) * (values[lo + 1] - values[lo]) : values[lo];
    }
}
