using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Livechat.Data;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

/// <summary>
/// The reports' times (issue 27): a year of one tenant's desk, --sessions sessions and --messages messages, written
/// straight into the database in bulk (SQLite: prepared inserts in one transaction; PostgreSQL: binary COPY), with
/// the facts the write path records (docs/reports.md): the start, the queue and the first assignment, the agent's
/// first message, the close, the rating. Then each report, summary, agents and daily, for the last 30 and the last
/// 365 days, one request at a time: p50, p95 and the slowest.
/// </summary>
internal static class ReportTimes
{
    private const int Agents = 40;

    /// <summary>One planted session: what its rows and its facts say. Its messages are in <see cref="Message"/>s, in order.</summary>
    private sealed record Session(Guid Id, long Agent, long Customer, DateTimeOffset Start, bool Queued, DateTimeOffset Assigned,
        DateTimeOffset? FirstResponse, DateTimeOffset? Closed, DateTimeOffset UpdatedAt, int? Rating, int FirstMessage, int Messages);

    private readonly record struct Message(Guid Id, long Sender, DateTimeOffset At);

    /// <summary>
    /// Seeds tenant 1 as <see cref="RunAsync"/> does (the purge bench reuses it); answers the sessions closed before
    /// <paramref name="closedBefore"/> and their messages: what a purge with that cutoff deletes.
    /// </summary>
    public static async Task<(int Sessions, long Messages, TimeSpan Took)> SeedAsync(Service service, int sessionCount, int messageCount, DateTimeOffset now,
        DateTimeOffset closedBefore)
    {
        var (sessions, messages) = Plan(sessionCount, messageCount, now);
        var seeding = Stopwatch.StartNew();
        if (service.Postgres is { } postgres) await CopyAsync(postgres, sessions, messages);
        else Insert(service.DatabaseConnectionString, sessions, messages);
        var expired = sessions.Where(s => s.Closed is { } closed && closed < closedBefore).ToList();
        return (expired.Count, expired.Sum(s => (long)s.Messages), seeding.Elapsed);
    }

    public static async Task RunAsync(Service service, int sessionCount, int messageCount, int repeat, string? keep)
    {
        var now = DateTimeOffset.UtcNow;
        var (sessions, messages) = Plan(sessionCount, messageCount, now);
        var seeding = Stopwatch.StartNew();
        if (service.Postgres is { } postgres) await CopyAsync(postgres, sessions, messages);
        else Insert(service.DatabaseConnectionString, sessions, messages);
        var seeded = seeding.Elapsed;
        if (keep is not null && service.Postgres is null) Keep(service.DatabaseConnectionString, keep);
        var mismatches = await FirstResponsesNotFromMessagesAsync(service);

        var reader = Service.Admin(90_000);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        Console.WriteLine();
        Console.WriteLine($"## Reports on {service.Name}: {sessionCount:N0} sessions and {messageCount:N0} messages of one tenant over a year (seeded in {seeded.TotalSeconds:0} s, then {(service.Postgres is null ? "ANALYZE" : "VACUUM ANALYZE")}), one client, {repeat} requests each");
        Console.WriteLine();
        Console.WriteLine($"Facts whose first response is not the agent's first message: {mismatches} (the backfill's rule, migration 0071).");
        Console.WriteLine();
        // The service's CPU per report, which a busy machine inflates far less than the wall time (SQLite: the whole query).
        Console.WriteLine("| report | range | sessions started | median ms | p95 ms | max ms | service CPU ms per report |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        var results = new List<string>();
        foreach (var days in new[] { 30, 365 })
        {
            var range = $"from={today.AddDays(1 - days):yyyy-MM-dd}&to={today:yyyy-MM-dd}";
            var (_, summary) = await service.GetDataAsync(reader, $"/livechat/reports/summary?{range}");
            var started = summary.GetProperty("sessions_started").GetInt64();
            foreach (var report in new[] { "summary", "agents", "daily" })
            {
                var times = new List<double>();
                var cpu = TimeSpan.Zero;
                for (var i = 0; i < repeat + 3; i++)
                {
                    var cpuBefore = service.CpuTime;
                    var (elapsed, data) = await service.GetDataAsync(reader, $"/livechat/reports/{report}?{range}");
                    if (i >= 3) cpu += service.CpuTime - cpuBefore;
                    if (report == "daily" && data.GetArrayLength() != days) throw new InvalidOperationException($"daily: {data.GetArrayLength()} rows for {days} days");
                    if (i >= 3) times.Add(elapsed); // the first three warm up
                }
                times.Sort();
                var cpuPerReport = cpu.TotalMilliseconds / times.Count;
                Console.WriteLine($"| {report} | {days} days | {started:N0} | {Table.At(times, 0.5):0.0} | **{Table.At(times, 0.95):0.0}** | {times[^1]:0.0} | {cpuPerReport:0} |");
                results.Add($"{report}_{days}_p95={Table.At(times, 0.95):0.0}");
                results.Add($"{report}_{days}_cpu={cpuPerReport:0}");
            }
        }
        Console.WriteLine($"RESULT {string.Join(' ', results)} seed_seconds={seeded.TotalSeconds:0} mismatches={mismatches}");
    }

    /// <summary>
    /// A year of a desk, the same every run: starts spread evenly over the year; three in ten queued first (5 s to
    /// 15 min); the customer writes first, the agent answers 5 s to 5 min after taking the chat, then they alternate;
    /// one in twenty never answered; chats close 30 s to 10 min after their last message except the last day's and
    /// one in fifty; four in ten closed chats rated. Messages per session 1 to 19, --messages in all.
    /// </summary>
    private static (List<Session>, Message[]) Plan(int sessionCount, int messageCount, DateTimeOffset now)
    {
        var random = new Random(27);
        var counts = Enumerable.Range(0, sessionCount).Select(_ => 1 + random.Next(19)).ToArray();
        var difference = messageCount - counts.Sum();
        for (var i = 0; difference != 0; i = (i + 1) % sessionCount)
        {
            if (difference > 0) { counts[i]++; difference--; }
            else if (counts[i] > 1) { counts[i]--; difference++; }
        }

        var sessions = new List<Session>(sessionCount);
        var messages = new Message[messageCount];
        var yearAgo = now.AddDays(-365);
        var spacing = TimeSpan.FromDays(365) / sessionCount;
        var next = 0;
        int[] scores = [1, 2, 3, 4, 4, 5, 5, 5];
        for (var i = 0; i < sessionCount; i++)
        {
            var start = Microseconds(yearAgo + spacing * (i + random.NextDouble() * 0.9)); // as the databases keep it
            var agent = 10_000L + random.Next(Agents);
            var customer = 2_000_000L + i;
            var queued = random.Next(10) < 3;
            var assigned = queued ? start.AddSeconds(random.Next(5, 900)) : start;
            var answered = random.Next(20) != 0;
            DateTimeOffset? firstResponse = null;
            var at = start.AddSeconds(random.Next(1, 20));
            var first = next;
            for (var seq = 1; seq <= counts[i]; seq++)
            {
                var byAgent = answered && seq % 2 == 0;
                if (byAgent && firstResponse is null) at = (at > assigned ? at : assigned).AddSeconds(random.Next(5, 300));
                else if (seq > 1) at = at.AddSeconds(random.Next(5, 180));
                if (byAgent) firstResponse ??= at;
                messages[next++] = new Message(Guid.CreateVersion7(at), byAgent ? agent : customer, at);
            }
            var closed = start < now.AddDays(-1) && random.Next(50) != 0 ? at.AddSeconds(random.Next(30, 600)) : (DateTimeOffset?)null;
            var rating = closed is not null && random.Next(10) < 4 ? scores[random.Next(scores.Length)] : (int?)null;
            sessions.Add(new Session(Guid.CreateVersion7(start), agent, customer, start, queued, assigned, firstResponse, closed, closed ?? at, rating, first, counts[i]));
        }
        return (sessions, messages);
    }

    private static DateTimeOffset Microseconds(DateTimeOffset at) => new(at.Ticks - at.Ticks % 10, at.Offset);

    /// <summary>A duration as the write path records it: seconds between two times kept to the microsecond.</summary>
    private static double? Seconds(DateTimeOffset? later, DateTimeOffset? earlier) =>
        later is { } end && earlier is { } start ? (end - start).Ticks / 10 / 1_000_000.0 : null;

    private static void Insert(string connectionString, List<Session> sessions, Message[] messages)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        Run(connection, "PRAGMA busy_timeout = 30000");
        using (var transaction = connection.BeginTransaction())
        {
            var session = Prepared(connection, transaction, """
                INSERT INTO chat_sessions (tenant_id, id, agent_id, status, created_by, last_seq, created_at, updated_at, routed, rating_score, rated_at)
                VALUES (1, @id, @agent, @status, @customer, @last_seq, @created_at, @updated_at, 1, @rating, @rated_at)
                """, "id", "agent", "status", "customer", "last_seq", "created_at", "updated_at", "rating", "rated_at");
            var message = Prepared(connection, transaction, """
                INSERT INTO chat_messages (tenant_id, session_id, seq, id, sender_id, message, created_at)
                VALUES (1, @session, @seq, @id, @sender, @message, @at)
                """, "session", "seq", "id", "sender", "message", "at");
            var facts = Prepared(connection, transaction, """
                INSERT INTO session_facts (tenant_id, session_id, started_at, queued_at, assigned_at, first_response_at, closed_at, agent_id, rating_score,
                    first_response_seconds, resolution_seconds, queue_wait_seconds, messages)
                VALUES (1, @session, @started, @queued, @assigned, @answered, @closed, @agent, @rating, @first_response, @resolution, @queue_wait, @messages)
                """, "session", "started", "queued", "assigned", "answered", "closed", "agent", "rating", "first_response", "resolution", "queue_wait", "messages");
            static object Time(DateTimeOffset? at) => at is { } value ? DbCommandExtensions.SqliteTimestamp(value) : DBNull.Value;
            foreach (var s in sessions)
            {
                var id = s.Id.ToString("D");
                Bind(session, id, s.Agent, s.Closed is null ? "OPEN" : "CLOSED", s.Customer, s.Messages, Time(s.Start), Time(s.UpdatedAt),
                    (object?)s.Rating ?? DBNull.Value, s.Rating is null ? DBNull.Value : Time(s.Closed!.Value.AddMinutes(1)));
                for (var seq = 1; seq <= s.Messages; seq++)
                {
                    var m = messages[s.FirstMessage + seq - 1];
                    Bind(message, id, seq, m.Id.ToString("D"), m.Sender, $"message {seq}", Time(m.At));
                }
                Bind(facts, id, Time(s.Start), s.Queued ? Time(s.Start) : DBNull.Value, Time(s.Assigned), Time(s.FirstResponse), Time(s.Closed),
                    s.Agent, (object?)s.Rating ?? DBNull.Value, (object?)Seconds(s.FirstResponse, s.Start) ?? DBNull.Value,
                    (object?)Seconds(s.Closed, s.Start) ?? DBNull.Value, s.Queued ? (object?)Seconds(s.Assigned, s.Start) ?? DBNull.Value : DBNull.Value,
                    s.Closed is null ? DBNull.Value : s.Messages); // the close counts a session's messages
            }
            transaction.Commit();
        }
        Run(connection, "ANALYZE");
        // The seed went into the WAL in one transaction (hundreds of MB): a reader looks each page up there first, in
        // every 4,096 frames' hash table, which the service never sees (its writer checkpoints every 10,000 pages).
        Run(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
    }

    /// <summary>A copy of the seeded SQLite file (--keep), to read the reports' plans with the sqlite3 shell.</summary>
    private static void Keep(string connectionString, string path)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        File.Delete(path);
        using var command = connection.CreateCommand();
        command.CommandText = "VACUUM INTO @path";
        command.Parameters.AddWithValue("@path", path);
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Prepared(SqliteConnection connection, SqliteTransaction transaction, string sql, params string[] names)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in names) command.Parameters.Add(new SqliteParameter("@" + name, null));
        command.Prepare();
        return command;
    }

    private static void Bind(SqliteCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i];
        command.ExecuteNonQuery();
    }

    private static void Run(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static async Task CopyAsync(string connectionString, List<Session> sessions, Message[] messages)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY chat_sessions (tenant_id, id, agent_id, status, created_by, last_seq, created_at, updated_at, routed, rating_score, rated_at) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var s in sessions)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(1L, NpgsqlDbType.Bigint);
                await copy.WriteAsync(s.Id, NpgsqlDbType.Uuid);
                await copy.WriteAsync(s.Agent, NpgsqlDbType.Bigint);
                await copy.WriteAsync(s.Closed is null ? "OPEN" : "CLOSED", NpgsqlDbType.Text);
                await copy.WriteAsync(s.Customer, NpgsqlDbType.Bigint);
                await copy.WriteAsync((long)s.Messages, NpgsqlDbType.Bigint);
                await copy.WriteAsync(s.Start, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(s.UpdatedAt, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(true, NpgsqlDbType.Boolean);
                await WriteAsync(copy, s.Rating, NpgsqlDbType.Integer);
                await WriteAsync(copy, s.Rating is null ? (DateTimeOffset?)null : s.Closed!.Value.AddMinutes(1), NpgsqlDbType.TimestampTz);
            }
            await copy.CompleteAsync();
        }
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY chat_messages (tenant_id, session_id, seq, id, sender_id, message, created_at) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var s in sessions)
            {
                for (var seq = 1; seq <= s.Messages; seq++)
                {
                    var m = messages[s.FirstMessage + seq - 1];
                    await copy.StartRowAsync();
                    await copy.WriteAsync(1L, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(s.Id, NpgsqlDbType.Uuid);
                    await copy.WriteAsync((long)seq, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(m.Id, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(m.Sender, NpgsqlDbType.Bigint);
                    await copy.WriteAsync($"message {seq}", NpgsqlDbType.Text);
                    await copy.WriteAsync(m.At, NpgsqlDbType.TimestampTz);
                }
            }
            await copy.CompleteAsync();
        }
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY session_facts (tenant_id, session_id, started_at, queued_at, assigned_at, first_response_at, closed_at, agent_id, rating_score, "
            + "first_response_seconds, resolution_seconds, queue_wait_seconds, messages) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var s in sessions)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(1L, NpgsqlDbType.Bigint);
                await copy.WriteAsync(s.Id, NpgsqlDbType.Uuid);
                await copy.WriteAsync(s.Start, NpgsqlDbType.TimestampTz);
                await WriteAsync(copy, s.Queued ? s.Start : (DateTimeOffset?)null, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(s.Assigned, NpgsqlDbType.TimestampTz);
                await WriteAsync(copy, s.FirstResponse, NpgsqlDbType.TimestampTz);
                await WriteAsync(copy, s.Closed, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(s.Agent, NpgsqlDbType.Bigint);
                await WriteAsync(copy, s.Rating, NpgsqlDbType.Integer);
                await WriteAsync(copy, Seconds(s.FirstResponse, s.Start), NpgsqlDbType.Double);
                await WriteAsync(copy, Seconds(s.Closed, s.Start), NpgsqlDbType.Double);
                await WriteAsync(copy, s.Queued ? Seconds(s.Assigned, s.Start) : null, NpgsqlDbType.Double);
                await WriteAsync(copy, s.Closed is null ? null : (long?)s.Messages, NpgsqlDbType.Bigint); // the close counts a session's messages
            }
            await copy.CompleteAsync();
        }
        // VACUUM as well: autovacuum does within a minute of the COPY, and until then no index-only scan skips the
        // heap (the reports' covering indexes, migration 0101); a measure must not depend on whether it has yet.
        await using var analyze = new NpgsqlCommand("VACUUM ANALYZE", connection);
        await analyze.ExecuteNonQueryAsync();
    }

    private static async Task WriteAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) where T : struct
    {
        if (value is { } present) await copy.WriteAsync(present, type);
        else await copy.WriteNullAsync();
    }

    /// <summary>The sessions whose recorded first response is not the first message of their agent: none, if the facts are the write path's.</summary>
    private static async Task<long> FirstResponsesNotFromMessagesAsync(Service service)
    {
        const string sql = """
            SELECT COUNT(*) FROM session_facts f
            WHERE f.tenant_id = 1 AND f.first_response_at IS DISTINCT FROM
                (SELECT MIN(m.created_at) FROM chat_messages m WHERE m.tenant_id = f.tenant_id AND m.session_id = f.session_id AND m.sender_id = f.agent_id)
            """;
        await using DbConnection connection = service.Postgres is { } postgres ? new NpgsqlConnection(postgres) : new SqliteConnection(service.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 600;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}
