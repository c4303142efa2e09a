using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Livechat.Api;

namespace Livechat.Reports;

/// <summary>The 50th and 90th percentile of a duration, in seconds (to the millisecond); null when nothing was measured.</summary>
public sealed record Percentiles(double? P50, double? P90)
{
    public static readonly Percentiles None = new(null, null);
}

/// <summary>How customers rated: how many ratings, their average (two decimals, null without any), and how many of each score.</summary>
public sealed record RatingFigures(long Count, double? Average, IReadOnlyDictionary<string, long> Distribution);

/// <summary>The figures of contract section 20 over a set of sessions (docs/reports.md defines each).</summary>
public record ReportFigures
{
    public long SessionsStarted { get; init; }
    public long SessionsClosed { get; init; }
    public long Messages { get; init; }
    public Percentiles FirstResponseSeconds { get; init; } = Percentiles.None;
    public Percentiles ResolutionSeconds { get; init; } = Percentiles.None;
    public Percentiles QueueWaitSeconds { get; init; } = Percentiles.None;
    public RatingFigures Rating { get; init; } = new(0, null, Distribution([0, 0, 0, 0, 0]));

    /// <summary>The distribution's keys as the contract spells them, "1" to "5".</summary>
    public static IReadOnlyDictionary<string, long> Distribution(long[] counts) =>
        Enumerable.Range(1, 5).ToDictionary(score => score.ToString(CultureInfo.InvariantCulture), score => counts[score - 1]);
}

/// <summary>One row of <c>GET /livechat/reports/agents</c>: an agent's figures over the sessions it was assigned last.</summary>
public sealed record AgentFigures : ReportFigures
{
    [JsonPropertyOrder(-1)]
    public long AgentId { get; init; }
}

/// <summary>One row of <c>GET /livechat/reports/daily</c>: a day of the report's time zone (<c>yyyy-MM-dd</c>).</summary>
public sealed record DailyFigures : ReportFigures
{
    [JsonPropertyOrder(-1)]
    public string Date { get; init; } = "";
}

/// <summary>One local day of a daily report: its index, its date, and the instants it covers within the range.</summary>
public sealed record ReportDay(int Index, DateOnly Date, DateTimeOffset Starts, DateTimeOffset Ends);

/// <summary>
/// What a report covers (docs/reports.md): the instants <c>[From, To)</c>, the time zone that draws day
/// boundaries (a date in <c>from</c>/<c>to</c> and the daily rows), optionally one agent.
/// </summary>
public sealed partial record ReportQuery(DateTimeOffset From, DateTimeOffset To, TimeZoneInfo TimeZone, long? AgentId, bool Csv)
{
    /// <summary>Only the sessions that carry this label now (contract section 18).</summary>
    public string? Label { get; init; }
}

public sealed partial record ReportQuery
{
    public const int MaxDays = 366;


    /// <summary>The query string's report, or the first thing wrong with it (400 on its key).</summary>
    public static (ReportQuery? Query, ApiError? Error) Parse(IQueryCollection query)
    {
        var (zone, zoneError) = TimeZoneQuery.Read(query);
        if (zone is null) return (null, zoneError);

        if (Instant(query["from"].ToString(), zone, endOfDate: false) is not { } from)
            return (null, ApiError.BadRequest("from", "from is required: an RFC 3339 time (2026-12-01T00:00:00Z) or a date (2026-12-01)."));
        if (Instant(query["to"].ToString(), zone, endOfDate: true) is not { } to)
            return (null, ApiError.BadRequest("to", "to is required: an RFC 3339 time (2026-12-02T00:00:00Z) or a date (2026-12-01, included)."));
        // A date in to is included: to=2026-03-01 ends where 2026-03-02 begins, so it is before from=2026-03-02 when that end is not after from.
        if (to < from || (to == from && IsDate(query["to"].ToString())))
            return (null, ApiError.BadRequest("to", "to must not be before from."));
        // Days of tz's calendar: a range from summer time to winter time is an hour longer than its days.
        if (TimeZoneInfo.ConvertTime(to, zone).DateTime - TimeZoneInfo.ConvertTime(from, zone).DateTime > TimeSpan.FromDays(MaxDays))
            return (null, ApiError.BadRequest("to", $"from and to must be at most {MaxDays} days apart."));

        long? agentId = null;
        var agent = query["agent_id"].ToString();
        if (query.ContainsKey("agent_id"))
        {
            if (!long.TryParse(agent, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
                return (null, ApiError.BadRequest("agent_id", "agent_id must be a positive integer."));
            agentId = id;
        }
        string? label = null;
        if (query.ContainsKey("label") && (label = Sessions.SessionLabels.Normalise(query["label"].ToString())) is null)
            return (null, ApiError.BadRequest("label", Sessions.SessionLabels.Rule));

        var format = query["format"].ToString();
        if (format is not ("" or "json" or "csv")) return (null, ApiError.BadRequest("format", "format must be json or csv."));
        return (new ReportQuery(from, to, zone, agentId, format == "csv") { Label = label }, null);
    }

    private static bool IsDate(string text) => text.Length == 10 && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    /// <summary>An RFC 3339 time as it is; a date as the start of that day in <paramref name="zone"/>, or of the next day for the end of a range (dates are inclusive).</summary>
    private static DateTimeOffset? Instant(string text, TimeZoneInfo zone, bool endOfDate)
    {
        if (text.Length == 10 && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            return StartOfDay(endOfDate ? date.AddDays(1) : date, zone);
        if (Api.Rfc3339.TryParse(text, out var instant)) return instant;
        return null;
    }

    /// <summary>The instant a local day begins: its midnight, or the first valid local time after it where a clock change skips midnight.</summary>
    public static DateTimeOffset StartOfDay(DateOnly date, TimeZoneInfo zone)
    {
        var local = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local)) local = local.AddMinutes(15);
        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero);
    }

    /// <summary>The local days the range touches, each clipped to the range: the rows of a daily report.</summary>
    public IReadOnlyList<ReportDay> Days()
    {
        var days = new List<ReportDay>();
        var date = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(From, TimeZone).DateTime);
        for (var starts = StartOfDay(date, TimeZone); starts < To; date = date.AddDays(1), starts = StartOfDay(date, TimeZone))
        {
            var ends = StartOfDay(date.AddDays(1), TimeZone);
            if (ends > From) days.Add(new ReportDay(days.Count, date, starts < From ? From : starts, ends > To ? To : ends));
        }
        return days;
    }
}
