using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Livechat.Data;

/// <summary>
/// <c>percentile_cont_50(x)</c> and <c>percentile_cont_90(x)</c> for SQLite, which has no percentile_cont: PostgreSQL's
/// <c>percentile_cont(0.5 or 0.9) WITHIN GROUP (ORDER BY x)</c>, the same arithmetic in doubles (with the n values in
/// order and h = p * (n - 1), the value at floor(h) plus (h - floor(h)) times the step to the next; null without
/// values). Aggregates registered on each connection, as <c>livechat_uuidv7</c> is: SQLite hands one a group's values
/// and asks for the result once the group is done, so a report reads each session once and sorts each group's values
/// in memory, where ranking them with window functions cost SQLite a second of CPU over a year of 100,000 sessions
/// (ADR 0035). A call costs a third of what one with p as a second argument did, hence a function per fraction.
/// NULLs are the caller's to leave out (<c>FILTER (WHERE x IS NOT NULL)</c>, which spares the calls too).
/// </summary>
public static class SqlitePercentile
{
    /// <summary>The fractions there is a function for, as percentages: <c>percentile_cont_50</c>, <c>percentile_cont_90</c>.</summary>
    public static readonly int[] Percents = [50, 90];

    public static void Register(SqliteConnection connection)
    {
        foreach (var percent in Percents)
        {
            var p = percent / 100.0;
            // A null seed: the seed is shared by every group of a statement, so each group's list is made by its first value.
            connection.CreateAggregate<double, List<double>?, double?>($"percentile_cont_{percent.ToString(CultureInfo.InvariantCulture)}", null,
                (values, x) =>
                {
                    values ??= [];
                    values.Add(x);
                    return values;
                },
                values => values is null ? null : Of(values, p), isDeterministic: true);
        }
    }

    /// <summary>percentile_cont over <paramref name="values"/> (sorted here, in place).</summary>
    public static double? Of(List<double> values, double p)
    {
        if (values.Count == 0) return null;
        values.Sort();
        var h = p * (values.Count - 1);
        var lo = (int)Math.Floor(h);
        return lo + 1 < values.Count ? values[lo] + (h - lo) * (values[lo + 1] - values[lo]) : values[lo];
    }
}
