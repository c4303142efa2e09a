using System.Globalization;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Livechat.Tests;

/// <summary>
/// The console's reports page (<c>/console/reports/</c>, issue 27) in Chromium, over four weeks of a desk's
/// facts planted in the database: the summary's figures, the three daily charts, the per-agent table and the
/// CSV, each against what the planted facts give by hand. Its screenshot is docs/images/reports.png.
/// </summary>
public sealed class ReportsPageBrowserTests(ConsoleServer server) : IClassFixture<ConsoleServer>
{
    private static readonly TimeSpan Jakarta = TimeSpan.FromHours(7); // the browser's zone (Infrastructure/Browser.cs)

    private sealed record PlantedSession(DateOnly Day, DateTimeOffset Start, long Agent, int Messages, double? FirstResponse, double? Resolution, double? QueueWait, int? Rating);

    /// <summary>
    /// Four weeks of November 2026 in Jakarta: more chats on weekdays than at weekends, replies mostly within minutes
    /// and now and then much later, about a third of the chats queued first, most of them rated (more 4s and 5s).
    /// Every chat starts between 08:00 and 18:00 and closes within the hour, so every fact falls in its day.
    /// </summary>
    private static List<PlantedSession> Plant(long[] agents)
    {
        var random = new Random(27);
        var sessions = new List<PlantedSession>();
        for (var day = new DateOnly(2026, 11, 1); day <= new DateOnly(2026, 11, 28); day = day.AddDays(1))
        {
            var weekend = day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;
            var chats = day == new DateOnly(2026, 11, 15) ? 0 : weekend ? random.Next(2, 6) : random.Next(8, 16); // one Sunday the desk was closed
            for (var i = 0; i < chats; i++)
            {
                var start = new DateTimeOffset(day.ToDateTime(new TimeOnly(8, 0)), Jakarta).AddSeconds(random.Next(0, 10 * 3600));
                var answered = random.Next(10) != 0;
                var firstResponse = answered ? (random.Next(8) == 0 ? random.Next(300, 1500) : random.Next(15, 240)) : (double?)null;
                var closed = answered && random.Next(12) != 0;
                var queued = random.Next(3) == 0 ? random.Next(10, 300) : (double?)null;
                int? rating = closed && random.Next(5) != 0 ? new[] { 1, 2, 3, 4, 4, 5, 5, 5 }[random.Next(8)] : null;
                sessions.Add(new PlantedSession(day, start, agents[random.Next(agents.Length)], random.Next(2, 25), firstResponse,
                    closed ? firstResponse!.Value + random.Next(120, 1800) : null, queued, rating));
            }
        }
        return sessions;
    }

    private async Task PlantAsync(long tenant, IEnumerable<PlantedSession> sessions)
    {
        foreach (var s in sessions)
        {
            var id = Guid.CreateVersion7(s.Start);
            DateTimeOffset? At(double? seconds) => seconds is { } value ? s.Start.AddSeconds(value) : null;
            await server.ExecuteSqlAsync("""
                INSERT INTO chat_sessions (tenant_id, id, agent_id, status, created_by, last_seq, created_at, updated_at)
                VALUES (@tenant, @id, @agent, @status, 1, @messages, @at, @at)
                """, ("tenant", tenant), ("id", id), ("agent", s.Agent), ("status", s.Resolution is null ? "OPEN" : "CLOSED"), ("messages", s.Messages), ("at", s.Start));
            await server.ExecuteSqlAsync("""
                INSERT INTO session_facts (tenant_id, session_id, started_at, queued_at, assigned_at, first_response_at, closed_at, agent_id, rating_score)
                VALUES (@tenant, @id, @at, @queued, @assigned, @answered, @closed, @agent, @rating)
                """, ("tenant", tenant), ("id", id), ("at", s.Start), ("queued", s.QueueWait is null ? null : s.Start),
                ("assigned", At(s.QueueWait ?? 0)), ("answered", At(s.FirstResponse)), ("closed", At(s.Resolution)), ("agent", s.Agent), ("rating", s.Rating));
        }
        await server.ExecuteSqlAsync(await ReportTests.DurationsBackfillAsync(server.Provider)); // their durations, as the write path records them
    }

    /// <summary>PostgreSQL's percentile_cont, as docs/reports.md defines it, to the millisecond the API answers.</summary>
    private static double PercentileCont(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        var h = p * (sorted.Length - 1);
        var lo = (int)Math.Floor(h);
        return Math.Round(lo + 1 < sorted.Length ? sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (h - lo) : sorted[lo], 3, MidpointRounding.AwayFromZero);
    }

    /// <summary>How the page says a duration (reports.js): "45 s", "4 min 10 s", "2 h 5 min".</summary>
    private static string Duration(double seconds)
    {
        if (seconds < 1) return "< 1 s";
        var s = (long)Math.Round(seconds, MidpointRounding.AwayFromZero);
        if (s < 60) return $"{s} s";
        if (s < 3600) return s % 60 == 0 ? $"{s / 60} min" : $"{s / 60} min {s % 60} s";
        var minutes = (long)Math.Round(s % 3600 / 60.0, MidpointRounding.AwayFromZero);
        return minutes == 0 ? $"{s / 3600} h" : $"{s / 3600} h {minutes} min";
    }

    private static string Number(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    [Fact]
    public async Task ALeadReadsFourWeeksOfTheDeskAsFiguresChartsATableAndCsv()
    {
        var tenant = await server.NewTenantAsync();
        var lead = server.Agent(tenant);
        long[] agents = [lead.UserId, LivechatServer.NewUserId(), LivechatServer.NewUserId(), LivechatServer.NewUserId()];
        var planted = Plant(agents);
        await PlantAsync(tenant, planted);

        await using var page = await server.Chromium.NewPageAsync(server, 1280, 900);
        await page.SignInWithDevFormAsync("/console/", lead.UserId, Roles.SupportAgent, tenant);
        await page.TestId("reports-link").ClickAsync();
        await Expect(page.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/reports/"));
        await Expect(page.TestId("tz")).ToHaveValueAsync("Asia/Jakarta"); // the browser's own zone
        await page.TestId("from").FillAsync("2026-11-01");
        await page.TestId("to").FillAsync("2026-11-28");
        await page.TestId("show").ClickAsync();

        // The summary, each figure as worked out from what was planted.
        var answered = planted.Where(s => s.FirstResponse is not null).Select(s => s.FirstResponse!.Value).ToList();
        var resolved = planted.Where(s => s.Resolution is not null).Select(s => s.Resolution!.Value).ToList();
        var waited = planted.Where(s => s.QueueWait is not null).Select(s => s.QueueWait!.Value).ToList();
        var rated = planted.Where(s => s.Rating is not null).Select(s => (double)s.Rating!.Value).ToList();
        await Expect(page.TestId("range-said")).ToHaveTextAsync($"{Number(planted.Count)} chats started from Sun, 1 Nov 2026 to Sat, 28 Nov 2026, days of Asia/Jakarta.");
        await Expect(page.TestId("figure-started").GetByTestId("value")).ToHaveTextAsync(Number(planted.Count));
        await Expect(page.TestId("figure-closed").GetByTestId("value")).ToHaveTextAsync(Number(resolved.Count));
        await Expect(page.TestId("figure-messages").GetByTestId("value")).ToHaveTextAsync(Number(planted.Sum(s => s.Messages)));
        foreach (var (testid, values) in new[] { ("figure-first-response", answered), ("figure-resolution", resolved), ("figure-queue-wait", waited) })
        {
            var figure = page.TestId(testid);
            await Expect(figure).ToHaveAttributeAsync("data-p50", PercentileCont(values, 0.5).ToString(CultureInfo.InvariantCulture));
            await Expect(figure).ToHaveAttributeAsync("data-p90", PercentileCont(values, 0.9).ToString(CultureInfo.InvariantCulture));
            await Expect(figure.GetByTestId("value")).ToHaveTextAsync(Duration(PercentileCont(values, 0.5)));
            await Expect(figure.GetByTestId("detail")).ToHaveTextAsync($"90 % within {Duration(PercentileCont(values, 0.9))}");
        }
        var average = Math.Round(rated.Average(), 2, MidpointRounding.AwayFromZero);
        await Expect(page.TestId("figure-rating").GetByTestId("value")).ToHaveTextAsync($"{average.ToString("0.00", CultureInfo.InvariantCulture)} / 5");
        await Expect(page.TestId("figure-rating").GetByTestId("detail")).ToHaveTextAsync($"average of {rated.Count} ratings");

        // The charts: a bar per day, its height the day's chats (none on the closed Sunday); a dot per day with a
        // first response and with a rating; legends and the axes' units.
        var days = Enumerable.Range(0, 28).Select(i => new DateOnly(2026, 11, 1).AddDays(i)).ToList();
        var bars = page.TestId("chart-chats").GetByTestId("bar");
        await Expect(bars).ToHaveCountAsync(28);
        foreach (var (day, i) in days.Select((day, i) => (day, i)))
        {
            await Expect(bars.Nth(i)).ToHaveAttributeAsync("data-date", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            await Expect(bars.Nth(i)).ToHaveAttributeAsync("data-value", planted.Count(s => s.Day == day).ToString(CultureInfo.InvariantCulture));
        }
        Assert.Equal(0, await bars.Nth(14).EvaluateAsync<double>("bar => bar.getBBox().height"));
        Assert.True(await bars.Nth(2).EvaluateAsync<double>("bar => bar.getBBox().height") > 0);
        var withAnswers = days.Count(day => planted.Any(s => s.Day == day && s.FirstResponse is not null));
        await Expect(page.TestId("chart-first-response").Locator("[data-series='median (p50)'] [data-testid=point]")).ToHaveCountAsync(withAnswers);
        await Expect(page.TestId("chart-first-response").Locator("[data-series='90 % within (p90)'] [data-testid=point]")).ToHaveCountAsync(withAnswers);
        await Expect(page.TestId("chart-rating").GetByTestId("point")).ToHaveCountAsync(days.Count(day => planted.Any(s => s.Day == day && s.Rating is not null)));
        await Expect(page.TestId("chart-first-response").GetByTestId("legend")).ToHaveTextAsync(["median (p50)", "90 % within (p90)"]);
        await Expect(page.TestId("chart-first-response")).ToContainTextAsync("minutes"); // p90s of up to 25 minutes: the axis is in minutes
        await Expect(page.TestId("chart-chats")).ToContainTextAsync("day (Asia/Jakarta)");
        await Expect(page.TestId("chart-rating")).ToContainTextAsync("stars");

        // The per-agent table: a row per agent, in order of id, with its chats and its rating.
        var rows = page.TestId("agent-row");
        await Expect(rows).ToHaveCountAsync(agents.Length);
        foreach (var (agent, i) in agents.Order().Select((agent, i) => (agent, i)))
        {
            var mine = planted.Where(s => s.Agent == agent).ToList();
            await Expect(rows.Nth(i)).ToHaveAttributeAsync("data-agent-id", agent.ToString(CultureInfo.InvariantCulture));
            await Expect(rows.Nth(i).GetByTestId("agent-started")).ToHaveTextAsync(mine.Count.ToString(CultureInfo.InvariantCulture));
            await Expect(rows.Nth(i).GetByTestId("agent-messages")).ToHaveTextAsync(mine.Sum(s => s.Messages).ToString(CultureInfo.InvariantCulture));
            var ratings = mine.Where(s => s.Rating is not null).Select(s => (double)s.Rating!.Value).ToList();
            await Expect(rows.Nth(i).GetByTestId("agent-rating")).ToHaveTextAsync(
                $"{Math.Round(ratings.Average(), 2, MidpointRounding.AwayFromZero).ToString("0.00", CultureInfo.InvariantCulture)} ({ratings.Count})");
        }
        await Expect(page.Page.Locator($"[data-testid=agent-row][data-agent-id='{lead.UserId}'] th")).ToHaveTextAsync($"Agent {lead.UserId} (you)");

        await page.Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots.Folder, "reports.png"), FullPage = true });

        // The CSV download: the daily report, a header and a line per day.
        var download = await page.Page.RunAndWaitForDownloadAsync(() => page.TestId("csv-daily").ClickAsync());
        Assert.Equal("report-daily.csv", download.SuggestedFilename);
        var lines = (await File.ReadAllTextAsync(await download.PathAsync())).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("date,sessions_started,sessions_closed,messages,", lines[0], StringComparison.Ordinal);
        Assert.Equal(29, lines.Length);
        Assert.StartsWith($"2026-11-02,{planted.Count(s => s.Day == new DateOnly(2026, 11, 2))},", lines[2], StringComparison.Ordinal);
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task ARangeTheApiRefusesIsExplainedAndAnEmptyRangeSaysSo()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await using var page = await server.Chromium.NewPageAsync(server);
        await page.SignInWithDevFormAsync("/console/", agent.UserId, Roles.SupportAgent, tenant);

        // A range with nothing in it: the charts are drawn, and say so; the table too.
        await page.Page.GotoAsync("/console/reports/?from=2026-11-01&to=2026-11-07&tz=Europe/Berlin");
        await Expect(page.TestId("tz")).ToHaveValueAsync("Europe/Berlin");
        await Expect(page.TestId("figure-started").GetByTestId("value")).ToHaveTextAsync("0");
        await Expect(page.TestId("figure-first-response").GetByTestId("value")).ToHaveTextAsync("–");
        await Expect(page.TestId("chart-chats").GetByTestId("bar")).ToHaveCountAsync(7);
        await Expect(page.TestId("chart-rating")).ToContainTextAsync("Nothing in this range");
        await Expect(page.TestId("agents-table")).ToContainTextAsync("No agent had a chat in this range.");
        await Expect(page.TestId("reports-error")).ToBeHiddenAsync();

        // To before from: the API's reason, on the page.
        await page.TestId("from").FillAsync("2026-11-08");
        await page.TestId("show").ClickAsync();
        await Expect(page.TestId("reports-error")).ToHaveTextAsync("to must not be before from.");
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task ACustomerCannotSignInToTheReports()
    {
        var tenant = await server.NewTenantAsync();
        await using var page = await server.Chromium.NewPageAsync(server);
        await page.Page.GotoAsync("/console/reports");
        await page.TestId("token-input").FillAsync(server.TenantUser(tenant).Token);
        await page.TestId("tenant-input").FillAsync(tenant.ToString(CultureInfo.InvariantCulture));
        await page.TestId("token-submit").ClickAsync();
        await Expect(page.TestId("signin-error")).ToHaveTextAsync("Reports are for support agents and the tenant's SUPPORT_ADMIN.");
        await Expect(page.Page.Locator("#reports")).ToBeHiddenAsync();

        // The tenant's SUPPORT_ADMIN, who has no desk, reads them.
        await page.TestId("token-input").FillAsync(LivechatServer.Token(LivechatServer.NewUserId(), [tenant], ["SUPPORT_ADMIN"]));
        await page.TestId("token-submit").ClickAsync();
        await Expect(page.TestId("figure-started").GetByTestId("value")).ToHaveTextAsync("0");
        await Expect(page.TestId("whoami")).ToContainTextAsync("Admin");
        Assert.Empty(page.Errors);
    }
}
