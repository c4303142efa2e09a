using System.Globalization;
using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Livechat.Tests;

/// <summary>A server on a clock the tests move, so a scripted desk's waits and reply delays are known to the second.</summary>
public abstract class ReportServer : LivechatServer
{
    protected ReportServer(DatabaseProvider provider) : base(provider) =>
        ConfigureServices = services => services.AddSingleton<TimeProvider>(Clock);

    // Whole seconds, so the figures of the scenario are whole numbers.
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
}

public sealed class ReportSqliteServer() : ReportServer(DatabaseProvider.Sqlite);

public sealed class ReportPostgresServer() : ReportServer(DatabaseProvider.Postgres);

/// <summary>Contract section 20: the reports' figures, as docs/reports.md defines them, on both databases.</summary>
public abstract class ReportTests(ReportServer server)
{
    /// <summary>
    /// Migration 0072's statement that works out the durations of the facts recorded before it (the write path records
    /// them with each fact since): run on facts planted or backfilled here, as on a database from before it.
    /// </summary>
    public static async Task<string> DurationsBackfillAsync(DatabaseProvider provider)
    {
        var migration = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "src", "Livechat", "Data", "migrations",
            provider == DatabaseProvider.Sqlite ? "sqlite" : "postgres", "0072_session_facts_durations.sql"));
        var update = migration[migration.IndexOf("UPDATE session_facts", StringComparison.Ordinal)..];
        return update[..(update.IndexOf(';', StringComparison.Ordinal) + 1)];
    }

    private static string Range(DateTimeOffset from, DateTimeOffset to) =>
        $"from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}";

    private static void AssertPercentiles(JsonElement figures, string name, double? p50, double? p90)
    {
        var value = figures.GetProperty(name);
        Assert.True(p50 is null ? value.GetProperty("p50").ValueKind == JsonValueKind.Null : value.GetProperty("p50").GetDouble() == p50, $"{name}.p50: {value}");
        Assert.True(p90 is null ? value.GetProperty("p90").ValueKind == JsonValueKind.Null : value.GetProperty("p90").GetDouble() == p90, $"{name}.p90: {value}");
    }

    private static void AssertRating(JsonElement figures, long count, double? average, long[] distribution)
    {
        var rating = figures.GetProperty("rating");
        Assert.Equal(count, rating.GetProperty("count").GetInt64());
        if (average is null) Assert.Equal(JsonValueKind.Null, rating.GetProperty("average").ValueKind);
        else Assert.Equal(average.Value, rating.GetProperty("average").GetDouble());
        Assert.Equal(distribution, Enumerable.Range(1, 5).Select(score => rating.GetProperty("distribution").GetProperty(score.ToString(CultureInfo.InvariantCulture)).GetInt64()));
    }

    /// <summary>
    /// A scripted desk: two agents with room for one chat each, four customers; waits, reply delays and ratings
    /// chosen so each figure can be worked out by hand (below, next to each assertion).
    /// </summary>
    [Fact]
    public async Task AScriptedDeskGivesTheFiguresWorkedOutByHand()
    {
        var tenant = await server.NewTenantAsync();
        var a = server.Agent(tenant);
        var b = server.Agent(tenant);
        await a.GoOnlineAsync();
        await b.GoOnlineAsync();
        var (u1, u2, u3, u4) = (server.TenantUser(tenant), server.TenantUser(tenant), server.TenantUser(tenant), server.TenantUser(tenant));
        var t0 = server.Clock.GetUtcNow();
        void At(int seconds) => server.Clock.Advance(t0.AddSeconds(seconds) - server.Clock.GetUtcNow());

        var s1 = await u1.StartSessionAsync(a.UserId);               // t=0   A takes S1 (A is now full)
        var s2 = await u2.StartSessionAsync(b.UserId);               // t=0   B takes S2 (B is now full)
        At(5);
        await u1.SendMessageAsync(s1, "hello?");                     // t=5   a customer's message: not a response
        At(10);
        var queued = (await u3.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal(1, queued.GetProperty("queue_position").GetInt32()); // t=10  S3 waits in the queue
        var s3 = queued.Text("id");
        At(30);
        await a.SendMessageAsync(s1, "Hi, how can I help?");        // t=30  S1 first response: 30 s
        At(40);
        await a.SendMessageAsync(s1, "Still there?");               // t=40  a second reply changes nothing
        At(50);
        await b.SendMessageAsync(s2, "Good morning");               // t=50  S2 first response: 50 s
        At(100);
        (await a.PatchAsync($"/livechat/sessions/{s1}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK); // t=100 S1 resolved in 100 s; S3 goes to A: waited 90 s
        Assert.Equal(a.UserId, (await a.GetAsync($"/livechat/sessions/{s3}")).Data.GetProperty("agent_id").GetInt64());
        At(110);
        await b.SendMessageAsync(s3, "A colleague will be with you"); // t=110 B is not S3's agent: not its first response
        At(160);
        await a.SendMessageAsync(s3, "Sorry for the wait");          // t=160 S3 first response: 150 s after its start
        At(200);
        (await b.PatchAsync($"/livechat/sessions/{s2}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK); // t=200 S2 resolved in 200 s
        At(400);
        (await a.PatchAsync($"/livechat/sessions/{s3}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK); // t=400 S3 resolved in 390 s
        var s4 = await u4.StartSessionAsync(b.UserId);               // t=400 S4: B, never answered, still open
        await u4.SendMessageAsync(s4, "Anyone?");                    //        its one message, counted while it is open
        (await u1.PostAsync($"/livechat/sessions/{s1}/rating", new { score = 5 })).AssertStatus(HttpStatusCode.Created);
        (await u2.PostAsync($"/livechat/sessions/{s2}/rating", new { score = 3 })).AssertStatus(HttpStatusCode.Created);
        (await u3.PostAsync($"/livechat/sessions/{s3}/rating", new { score = 4 })).AssertStatus(HttpStatusCode.Created);

        var range = Range(t0, t0.AddSeconds(401));
        var summary = (await a.GetAsync($"/livechat/reports/summary?{range}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(4, summary.GetProperty("sessions_started").GetInt64());
        Assert.Equal(3, summary.GetProperty("sessions_closed").GetInt64());
        Assert.Equal(7, summary.GetProperty("messages").GetInt64());                     // S1 3, S2 1, S3 2 (closed: counted by the close), S4 1 (open)
        AssertPercentiles(summary, "first_response_seconds", 50, 130);                    // [30, 50, 150]: h = 1 -> 50; h = 1.8 -> 50 + 0.8 * 100
        AssertPercentiles(summary, "resolution_seconds", 200, 352);                       // [100, 200, 390]: 200; 200 + 0.8 * 190
        AssertPercentiles(summary, "queue_wait_seconds", 90, 90);                         // [90]
        AssertRating(summary, 3, 4, [0, 0, 1, 1, 1]);                                      // (5 + 3 + 4) / 3

        var agents = (await a.GetAsync($"/livechat/reports/agents?{range}")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal(new[] { a.UserId, b.UserId }.Order(), agents.Select(row => row.GetProperty("agent_id").GetInt64()));
        var ofA = agents.Single(row => row.GetProperty("agent_id").GetInt64() == a.UserId);
        Assert.Equal(2, ofA.GetProperty("sessions_started").GetInt64());
        Assert.Equal(2, ofA.GetProperty("sessions_closed").GetInt64());
        Assert.Equal(5, ofA.GetProperty("messages").GetInt64());                         // S1 3, S3 2
        AssertPercentiles(ofA, "first_response_seconds", 90, 138);                        // [30, 150]: 30 + 0.5 * 120; 30 + 0.9 * 120
        AssertPercentiles(ofA, "resolution_seconds", 245, 361);                           // [100, 390]: 100 + 0.5 * 290; 100 + 0.9 * 290
        AssertPercentiles(ofA, "queue_wait_seconds", 90, 90);
        AssertRating(ofA, 2, 4.5, [0, 0, 0, 1, 1]);
        var ofB = agents.Single(row => row.GetProperty("agent_id").GetInt64() == b.UserId);
        Assert.Equal(2, ofB.GetProperty("sessions_started").GetInt64());
        Assert.Equal(1, ofB.GetProperty("sessions_closed").GetInt64());
        Assert.Equal(2, ofB.GetProperty("messages").GetInt64());                         // S2 1, S4 1
        AssertPercentiles(ofB, "first_response_seconds", 50, 50);
        AssertPercentiles(ofB, "resolution_seconds", 200, 200);
        AssertPercentiles(ofB, "queue_wait_seconds", null, null);
        AssertRating(ofB, 1, 3, [0, 0, 1, 0, 0]);

        // One agent's summary is its row of the agents report.
        var onlyA = (await a.GetAsync($"/livechat/reports/summary?{range}&agent_id={a.UserId}")).AssertStatus(HttpStatusCode.OK).Data;
        foreach (var figure in onlyA.EnumerateObject()) Assert.Equal(ofA.GetProperty(figure.Name).ToString(), figure.Value.ToString());

        // A range that ends before S3's start leaves S3 out, and S2's close out of the closes.
        var early = (await a.GetAsync($"/livechat/reports/summary?{Range(t0, t0.AddSeconds(10))}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(2, early.GetProperty("sessions_started").GetInt64());
        Assert.Equal(0, early.GetProperty("sessions_closed").GetInt64());
        AssertPercentiles(early, "first_response_seconds", 40, 48);                       // [30, 50]

        // The daily report: a row for each day of the range. The clock starts at the test's real time, so the day
        // is drawn in a zone where the scenario's 400 s fall in one day (UTC, or UTC-1 in UTC's last hour): that
        // day's row has every figure of the summary, worked out above, and the days around it are empty.
        var tz = t0.UtcDateTime.Hour == 23 ? "Etc/GMT%2B1" : "UTC";
        var day = DateOnly.FromDateTime(t0.ToOffset(TimeSpan.FromHours(t0.UtcDateTime.Hour == 23 ? -1 : 0)).DateTime);
        var daily = (await a.GetAsync($"/livechat/reports/daily?from={day.AddDays(-1):yyyy-MM-dd}&to={day.AddDays(1):yyyy-MM-dd}&tz={tz}"))
            .AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal([day.AddDays(-1), day, day.AddDays(1)], daily.Select(row => DateOnly.ParseExact(row.Text("date"), "yyyy-MM-dd", CultureInfo.InvariantCulture)));
        foreach (var figure in summary.EnumerateObject()) Assert.Equal(figure.Value.ToString(), daily[1].GetProperty(figure.Name).ToString());
        foreach (var empty in new[] { daily[0], daily[2] })
        {
            Assert.Equal(0, empty.GetProperty("sessions_started").GetInt64());
            Assert.Equal(0, empty.GetProperty("sessions_closed").GetInt64());
            AssertPercentiles(empty, "first_response_seconds", null, null);
            AssertRating(empty, 0, null, [0, 0, 0, 0, 0]);
        }

        // CSV: a header row and one line per row, the same figures.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/reports/agents?{range}&format=csv");
        request.Headers.Authorization = new("Bearer", a.Token);
        request.Headers.Add("X-Tenant-ID", tenant.ToString(CultureInfo.InvariantCulture));
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            "agent_id,sessions_started,sessions_closed,messages,first_response_p50_seconds,first_response_p90_seconds,resolution_p50_seconds,resolution_p90_seconds,"
            + "queue_wait_p50_seconds,queue_wait_p90_seconds,rating_count,rating_average,rating_1,rating_2,rating_3,rating_4,rating_5", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.Contains($"{a.UserId},2,2,5,90,138,245,361,90,90,2,4.5,0,0,0,1,1", lines);
        Assert.Contains($"{b.UserId},2,1,2,50,50,200,200,,,1,3,0,0,1,0,0", lines);
    }

    /// <summary>
    /// The percentiles against a known distribution, planted as facts (their durations worked out by migration 0072's
    /// statement, to the microsecond): the same numbers on both databases, equal to
    /// percentile_cont's definition worked out here, to the millisecond; and the daily rows cut at the midnights of tz.
    /// </summary>
    [Fact]
    public async Task PercentilesFollowPercentileContOnAKnownDistributionAndDaysFollowTheTimeZone()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        // First response delays in seconds, unordered, with repeats and microseconds.
        double[] delays = [7, 0.5, 3600, 7, 1.25, 60.125, 10, 2.000001, 0.001, 42];
        // Starts on 2026-03-01 and 2026-03-02 in UTC; in Asia/Jakarta (UTC+7) the evening ones fall on the next day.
        var starts = delays.Select((_, i) => new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero).AddHours(i * 5)).ToList();
        for (var i = 0; i < delays.Length; i++)
        {
            var id = Guid.CreateVersion7(starts[i]);
            await server.ExecuteSqlAsync("""
                INSERT INTO chat_sessions (tenant_id, id, agent_id, status, created_by, last_seq, created_at, updated_at)
                VALUES (@tenant, @id, @agent, 'OPEN', 1, 1, @at, @at)
                """, ("tenant", tenant), ("id", id), ("agent", agent.UserId), ("at", starts[i]));
            await server.ExecuteSqlAsync("""
                INSERT INTO session_facts (tenant_id, session_id, started_at, assigned_at, first_response_at, agent_id)
                VALUES (@tenant, @id, @at, @at, @answered, @agent)
                """, ("tenant", tenant), ("id", id), ("agent", agent.UserId), ("at", starts[i]), ("answered", starts[i].AddTicks((long)Math.Round(delays[i] * TimeSpan.TicksPerSecond))));
        }
        Assert.True(await server.ExecuteSqlAsync(await DurationsBackfillAsync(server.Provider)) >= delays.Length);

        static double PercentileCont(double[] values, double p)
        {
            var sorted = values.Order().ToArray();
            var h = p * (sorted.Length - 1);
            var lo = (int)Math.Floor(h);
            return lo + 1 < sorted.Length ? sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (h - lo) : sorted[lo];
        }
        var summary = (await agent.GetAsync("/livechat/reports/summary?from=2026-03-01&to=2026-03-03")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(delays.Length, summary.GetProperty("sessions_started").GetInt64());
        AssertPercentiles(summary, "first_response_seconds", Math.Round(PercentileCont(delays, 0.5), 3), Math.Round(PercentileCont(delays, 0.9), 3));
        // [0.001, 0.5, 1.25, 2.000001, 7, 7, 10, 42, 60.125, 3600]: h = 4.5 -> 7 + 0.5 * 0; h = 8.1 -> 60.125 + 0.1 * 3539.875 (8.1 is a little under, in doubles)
        AssertPercentiles(summary, "first_response_seconds", 7, 414.112);
        AssertPercentiles(summary, "resolution_seconds", null, null);
        AssertRating(summary, 0, null, [0, 0, 0, 0, 0]);

        // In Jakarta the days begin at 17:00 UTC: starts at 10, 15 UTC on the 1st (day 1), 20 UTC on the 1st to 15 UTC on
        // the 2nd (day 2), 20 UTC on the 2nd onwards (day 3).
        var daily = (await agent.GetAsync("/livechat/reports/daily?from=2026-03-01&to=2026-03-03&tz=Asia/Jakarta")).AssertStatus(HttpStatusCode.OK).Data
            .EnumerateArray().ToList();
        Assert.Equal(["2026-03-01", "2026-03-02", "2026-03-03"], daily.Select(row => row.Text("date")));
        var byDay = starts.GroupBy(start => start.ToOffset(TimeSpan.FromHours(7)).Date).ToDictionary(g => g.Key.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), g => g.Count());
        Assert.Equal(daily.Select(row => byDay.GetValueOrDefault(row.Text("date"))), daily.Select(row => (int)row.GetProperty("sessions_started").GetInt64()));
        Assert.Equal([2, 5, 3], daily.Select(row => row.GetProperty("sessions_started").GetInt64()));
        var second = daily[1];
        var ofSecond = delays.Where((_, i) => starts[i].ToOffset(TimeSpan.FromHours(7)).Day == 2).ToArray();
        AssertPercentiles(second, "first_response_seconds", Math.Round(PercentileCont(ofSecond, 0.5), 3), Math.Round(PercentileCont(ofSecond, 0.9), 3));
    }

    /// <summary>
    /// Migrations 0071's and 0072's backfills, run again over a tenant whose facts were taken away, find from the sessions'
    /// rows and messages what the write path recorded: the start, the agent's first message, the close, their durations.
    /// </summary>
    [Fact]
    public async Task TheBackfillFindsWhatTheWritePathRecorded()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var t0 = server.Clock.GetUtcNow();
        var sessions = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var user = server.TenantUser(tenant);
            var session = await user.StartSessionAsync(agent.UserId);
            sessions.Add(session);
            server.Clock.Advance(TimeSpan.FromSeconds(3));
            await user.SendMessageAsync(session, "hello?");
            server.Clock.Advance(TimeSpan.FromSeconds(10 * (i + 1)));
            await agent.SendMessageAsync(session, "hello!");
            server.Clock.Advance(TimeSpan.FromSeconds(60));
            if (i < 2) (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
            else await agent.SendMessageAsync(session, "anything else?");
        }
        var range = Range(t0, server.Clock.GetUtcNow().AddSeconds(1));
        var recorded = (await agent.GetAsync($"/livechat/reports/summary?{range}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(3, recorded.GetProperty("sessions_started").GetInt64());
        AssertPercentiles(recorded, "first_response_seconds", 23, 31);                    // 13, 23, 33 s after each start

        Assert.Equal(3, await server.ExecuteSqlAsync("DELETE FROM session_facts WHERE tenant_id = @tenant", ("tenant", tenant)));
        Assert.Equal(0, (await agent.GetAsync($"/livechat/reports/summary?{range}")).Data.GetProperty("sessions_started").GetInt64());
        var migration = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "src", "Livechat", "Data", "migrations",
            server.Provider == DatabaseProvider.Sqlite ? "sqlite" : "postgres", "0071_session_facts.sql"));
        var backfill = migration[migration.IndexOf("INSERT INTO session_facts", StringComparison.Ordinal)..];
        Assert.True(await server.ExecuteSqlAsync(backfill) >= 3);
        Assert.True(await server.ExecuteSqlAsync(await DurationsBackfillAsync(server.Provider)) >= 3);
        var counts = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "src", "Livechat", "Data", "migrations",
            server.Provider == DatabaseProvider.Sqlite ? "sqlite" : "postgres", "0084_session_facts_messages.sql"));
        var countsBackfill = counts[counts.IndexOf("UPDATE session_facts", StringComparison.Ordinal)..counts.IndexOf("-- The index", StringComparison.Ordinal)];
        Assert.True(await server.ExecuteSqlAsync(countsBackfill) >= 2); // the two closed sessions

        Assert.Equal(recorded.ToString(), (await agent.GetAsync($"/livechat/reports/summary?{range}")).AssertStatus(HttpStatusCode.OK).Data.ToString());
    }

    [Fact]
    public async Task ALabelNarrowsEveryReportToTheSessionsThatCarryIt()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 5 })).AssertStatus(HttpStatusCode.OK);
        var labelled = await agent.StartSessionAsync();
        await agent.StartSessionAsync();
        (await agent.PutAsync($"/livechat/sessions/{labelled}/labels", new { labels = new[] { "vip" } })).AssertStatus(HttpStatusCode.OK);
        var now = DateTimeOffset.UtcNow;
        var range = $"from={Uri.EscapeDataString(now.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture))}" +
            $"&to={Uri.EscapeDataString(now.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture))}";

        long Started(Reply reply) => reply.AssertStatus(HttpStatusCode.OK).Data.GetProperty("sessions_started").GetInt64();
        Assert.Equal(2, Started(await agent.GetAsync($"/livechat/reports/summary?{range}")));
        Assert.Equal(1, Started(await agent.GetAsync($"/livechat/reports/summary?{range}&label=VIP")));
        Assert.Equal(0, Started(await agent.GetAsync($"/livechat/reports/summary?{range}&label=billing")));
        var perAgent = (await agent.GetAsync($"/livechat/reports/agents?{range}&label=vip")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(1, perAgent.EnumerateArray().Single().GetProperty("sessions_started").GetInt64());
    }

    [Fact]
    public async Task EveryBadInputIsRefusedOnItsKey()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        foreach (var (query, key) in new[]
        {
            ("to=2026-03-01", "from"), ("from=yesterday&to=2026-03-01", "from"), ("from=2026-03-01T10:00:00&to=2026-03-02", "from"),
            ("from=2026-03-01", "to"), ("from=2026-03-01&to=2026-13-01", "to"), ("from=2026-03-02&to=2026-03-01", "to"),
            ("from=2026-01-01&to=2027-01-02", "to"), ("from=2026-03-01T00:00:00Z&to=2027-03-02T00:00:01Z", "to"),
            ("from=2026-03-01&to=2026-03-02&tz=Mars/Olympus", "tz"), ("from=2026-03-01&to=2026-03-02&format=xml", "format"),
            ("from=2026-03-01&to=2026-03-02&agent_id=0", "agent_id"), ("from=2026-03-01&to=2026-03-02&agent_id=x", "agent_id"),
            ("from=2026-03-01&to=2026-03-02&label=no%20way", "label"), ("from=2026-03-01&to=2026-03-02&label=-x", "label"),
            ("from=&to=2026-03-01", "from"), ("from=2026-03-01&to=", "to"), ("from=2026-03-01T10:00:00Z&to=2026-03-01T09:59:59Z", "to"),
            ("from=2026-03-01&to=2026-03-02&format=CSV", "format"),
            // A CSV asked for with bad input still gets the JSON envelope.
            ("from=2026-03-02&to=2026-03-01&format=csv", "to"), ("from=2026-03-01&to=2026-03-02&tz=Mars/Olympus&format=csv", "tz"),
        })
        {
            foreach (var report in new[] { "summary", "agents", "daily" })
                (await agent.GetAsync($"/livechat/reports/{report}?{query}")).AssertError(HttpStatusCode.BadRequest, key);
        }
        // The longest range: 366 days, a leap year's dates from its first to its last.
        Assert.Equal(366, (await agent.GetAsync("/livechat/reports/daily?from=2028-01-01&to=2028-12-31")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
        // In a zone with summer time, 366 days from summer into winter are 366 days and an hour: still 366 days of its calendar.
        Assert.Equal(366, (await agent.GetAsync("/livechat/reports/daily?from=2027-10-30&to=2028-10-29&tz=Europe/Berlin")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
        (await agent.GetAsync("/livechat/reports/daily?from=2027-10-30&to=2028-10-30&tz=Europe/Berlin")).AssertError(HttpStatusCode.BadRequest, "to");
    }

    [Fact]
    public async Task AgentsAndAdminsReadReportsTenantUsersDoNot()
    {
        var tenant = await server.NewTenantAsync();
        const string query = "/livechat/reports/summary?from=2026-03-01&to=2026-03-02";
        (await server.Agent(tenant).GetAsync(query)).AssertStatus(HttpStatusCode.OK);
        (await new Caller(server, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]).GetAsync(query)).AssertStatus(HttpStatusCode.OK);
        (await server.TenantUser(tenant).GetAsync(query)).AssertStatus(HttpStatusCode.Forbidden);
        (await server.TenantUser(tenant).GetAsync("/livechat/reports/agents?from=2026-03-01&to=2026-03-02")).AssertStatus(HttpStatusCode.Forbidden);
    }
}

public sealed class ReportTestsOnSqlite(ReportSqliteServer server) : ReportTests(server), IClassFixture<ReportSqliteServer>;

public sealed class ReportTestsOnPostgres(ReportPostgresServer server) : ReportTests(server), IClassFixture<ReportPostgresServer>;
