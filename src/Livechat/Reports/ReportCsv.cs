using System.Globalization;
using CsvHelper;

namespace Livechat.Reports;

/// <summary>
/// A report as CSV (<c>format=csv</c>): a header row, then one line per row, written by CsvHelper (RFC 4180:
/// CRLF line ends, quoting where needed), numbers in the invariant culture, an empty field for a figure that is null. The figures are
/// flattened: <c>first_response_p50_seconds</c>, <c>rating_average</c>, <c>rating_1</c> ... <c>rating_5</c>.
/// </summary>
public static class ReportCsv
{
    private static readonly (string Name, Func<ReportFigures, object?> Value)[] Figures =
    [
        ("sessions_started", f => f.SessionsStarted),
        ("sessions_closed", f => f.SessionsClosed),
        ("messages", f => f.Messages),
        ("first_response_p50_seconds", f => f.FirstResponseSeconds.P50),
        ("first_response_p90_seconds", f => f.FirstResponseSeconds.P90),
        ("resolution_p50_seconds", f => f.ResolutionSeconds.P50),
        ("resolution_p90_seconds", f => f.ResolutionSeconds.P90),
        ("queue_wait_p50_seconds", f => f.QueueWaitSeconds.P50),
        ("queue_wait_p90_seconds", f => f.QueueWaitSeconds.P90),
        ("rating_count", f => f.Rating.Count),
        ("rating_average", f => f.Rating.Average),
        .. Enumerable.Range(1, 5).Select(score => ($"rating_{score}", (Func<ReportFigures, object?>)(f => f.Rating.Distribution[score.ToString(CultureInfo.InvariantCulture)]))),
    ];

    public static string Write<T>(IEnumerable<T> rows, params (string Name, Func<T, object?> Value)[] leading) where T : ReportFigures
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        // leaveOpen: the StringWriter is read after the writer flushed it (Dispose flushes).
        using (var csv = CsvWriter.Create(text, CsvWriterOptions.Default, leaveOpen: true))
        {
            foreach (var (name, _) in leading) csv.WriteField(name);
            foreach (var (name, _) in Figures) csv.WriteField(name);
            csv.EndRecord();
            foreach (var row in rows)
            {
                foreach (var (_, value) in leading) csv.WriteField(Field(value(row)));
                foreach (var (_, value) in Figures) csv.WriteField(Field(value(row)));
                csv.EndRecord();
            }
        }
        return text.ToString();
    }

    private static string Field(object? value) => value switch
    {
        null => "",
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>The CSV as a download named after the report.</summary>
    public static IResult Result(string report, string csv) => new Download(csv, $"report-{report}.csv");

    private sealed class Download(string csv, string fileName) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
            return Results.Text(csv, "text/csv; charset=utf-8").ExecuteAsync(httpContext);
        }
    }
}
