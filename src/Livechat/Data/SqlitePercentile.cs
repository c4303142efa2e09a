using Microsoft.Data.Sqlite;

namespace Livechat.Data;

/// <summary>
/// <c>percentile_cont(x, p)</c> for SQLite, which has none: PostgreSQL's <c>percentile_cont(p) WITHIN GROUP (ORDER BY
/// x)</c>, the same arithmetic in doubles (NULLs skipped; with the n values in order and h = p * (n - 1), the value
/// at floor(h) plus (h - floor(h)) times the step to the next; null without values). An aggregate registered on
/// each connection, as <c>livechat_uuidv7</c> is: SQLite hands it a group's values and asks for the result once the
/// group is done, so a report reads each session once and sorts each group's values in memory, where ranking them
/// with window functions cost SQLite a second of CPU over a year of 100,000 sessions (ADR 0035).
/// </summary>
public static class SqlitePercentile
{
    /// <summary>One group's values so far, and the fraction asked for.</summary>
    private sealed class Group(double p)
    {
        public readonly double P = p;
        public readonly List<double> Values = [];
    }

    public static void Register(SqliteConnection connection) =>
        // A null seed: the seed is shared by every group of a statement, so each group's state is made by its first row.
        connection.CreateAggregate<double?, double, Group?, double?>("percentile_cont", null, Add, group => group is null ? null : Of(group.Values, group.P),
            isDeterministic: true);

    private static Group Add(Group? group, double? x, double p)
    {
        group ??= new Group(p);
        if (x is { } value) group.Values.Add(value);
        return group;
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
