using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Livechat.Data;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

/// <summary>
/// Search's times (issue 26): tenant 1 with --messages messages over --sessions sessions, and --noise messages of four
/// other tenants, written straight into the database in bulk without their index entries, as in a database that
/// migration 0090 has just reached. A restart then runs the service's own backfill (Search/SearchBackfill.cs), timed
/// until no message is left without its entry. Then queries of 1, 2 and 3 words, common and rare, a prefix and a
/// phrase, --concurrency at a time, --repeat each: p50 and p95.
/// </summary>
/// <remarks>
/// The words: a generated vocabulary of 20,000 words (syllables of Indonesian, no word list ships with the image),
/// the first ones everyday Indonesian and English words, drawn with Zipf's law (s = 1.07), 3 to 24 words a message.
/// </remarks>
internal static class SearchTimes
{
    private const int Vocabulary = 20_000;

    private static readonly string[] Everyday =
    [
        "saya", "tidak", "bisa", "yang", "dan", "the", "to", "ini", "is", "kasir", "mohon", "terima", "kasih", "login", "refund", "pesanan",
        "tolong", "sudah", "belum", "akun", "please", "order", "payment", "pembayaran", "café", "struk", "printer", "harga", "diskon", "voucher",
    ];

    public static async Task RunAsync(Service service, int sessionCount, int messageCount, int noise, int repeat, int concurrency, string? keep, string? reuse,
        int warmup, string? only = null)
    {
        var words = Words();
        var cumulative = Zipf(words.Length, 1.07);
        var random = new Random(26);
        string Text()
        {
            var count = 3 + random.Next(22);
            var text = new StringBuilder();
            for (var i = 0; i < count; i++)
            {
                var word = words[Pick(cumulative, random.NextDouble())];
                if (i == 0) word = char.ToUpperInvariant(word[0]) + word[1..];
                text.Append(word).Append(i == count - 1 ? "." : random.Next(12) == 0 ? ", " : " ");
            }
            return text.ToString();
        }

        var seeding = Stopwatch.StartNew();
        var seeded = TimeSpan.Zero;
        var backfill = new Stopwatch();
        long before = 0, after = 0;
        if (reuse is not null && service.Postgres is not null)
        {
            // The database an earlier run seeded and indexed, as that run left it: the queries only.
        }
        else if (reuse is not null)
        {
            // A database an earlier run seeded and indexed (--keep): the queries only (their words come from the fixed vocabulary).
            await service.RestartOnCopyOfAsync(reuse);
            // The upkeep (Search/SearchUpkeep.cs) merges the FTS5 index's segments after the start, a few steps every
            // 10 s: the queries measure the index as it stays, so they wait until it holds at most 3 (15 minutes at most).
            await using var connection = await OpenAsync(service);
            var merging = Stopwatch.StartNew();
            var (first, segments) = (-1L, long.MaxValue);
            while (segments > 3 && merging.Elapsed < TimeSpan.FromMinutes(15))
            {
                segments = Convert.ToInt64(await ScalarAsync(connection, "SELECT COUNT(DISTINCT segid) FROM message_search_idx"), CultureInfo.InvariantCulture);
                if (first < 0) first = segments;
                await Task.Delay(1000);
            }
            Console.WriteLine($"The index's segments after the start: {first}, merged to {segments} in {merging.Elapsed.TotalSeconds:0} s.");
        }
        else
        {
            await using (var connection = await OpenAsync(service))
            {
                foreach (var tenant in new long[] { 2, 3, 4, 5 })
                    await ExecuteAsync(connection, $"INSERT INTO tenants (id, name, active, created_at) VALUES ({tenant}, 'Noise {tenant}', {(service.Postgres is null ? "1" : "true")}, {(service.Postgres is null ? "'2026-01-01T00:00:00.000000Z'" : "now()")})");
                var year = DateTimeOffset.UtcNow.AddDays(-365);
                var plan = new List<(long Tenant, int Sessions, int Messages)> { (1, sessionCount, messageCount) };
                plan.AddRange(new long[] { 2, 3, 4, 5 }.Select(t => (t, Math.Max(1, sessionCount / 20), noise / 4)));
                foreach (var (tenant, sessions, messages) in plan)
                    await SeedAsync(connection, service.Postgres is not null, tenant, sessions, messages, year, Text);
            }
            seeded = seeding.Elapsed;
            before = await SizeAsync(service);

            // The backfill, as after a deploy that brings migration 0090 to a database with messages.
            backfill.Start();
            await service.RestartAsync();
            await using (var connection = await OpenAsync(service))
            {
                var left = service.Postgres is null
                    ? "SELECT COUNT(*) FROM chat_messages WHERE search_row IS NULL"
                    : "SELECT COUNT(*) FROM (SELECT 1 FROM chat_messages WHERE search_vector IS NULL LIMIT 1) x";
                while (Convert.ToInt64(await ScalarAsync(connection, left), CultureInfo.InvariantCulture) > 0) await Task.Delay(500);
                backfill.Stop();
                // What autovacuum does after a million updates; the planner needs the new column's statistics.
                await ExecuteAsync(connection, service.Postgres is null ? "ANALYZE" : "VACUUM ANALYZE chat_messages");
            }
            after = await SizeAsync(service);
            if (keep is not null && service.Postgres is null) await KeepAsync(service, keep);
        }
        var total = messageCount + noise / 4 * 4;

        // The queries: words by their rank in the distribution (1 is the most common).
        string W(int rank) => words[rank - 1];
        var phrase = $"\"{W(4)} {W(2)}\"";
        var queries = new (string Name, string Q)[]
        {
            ("1 common word", W(2)),
            ("1 mid word", W(300)),
            ("1 rare word", W(15_000)),
            ("2 common words", $"{W(3)} {W(7)}"),
            ("2 words, common and rare", $"{W(5)} {W(12_000)}"),
            ("3 common words", $"{W(1)} {W(6)} {W(10)}"),
            ("3 words, common, mid, rare", $"{W(8)} {W(500)} {W(9_000)}"),
            ("a prefix (3 letters)", W(1_000)[..3]),
            ("a phrase of 2 common words", phrase),
            ("reference: GET /livechat/labels", ""),
        };
        // --only "dan khaké": that query and the reference alone (warm-up and timing), to measure one query's cost without the others'.
        if (only is not null) queries = [.. queries.Where(x => x.Q == only || x.Q.Length == 0)];
        var agent = Service.Agent(10_000);
        static string PathOf(string q) => q.Length == 0 ? "/livechat/labels" : $"/livechat/search?limit=20&q={Uri.EscapeDataString(q)}";

        // The service as it runs once it has served searches for a while: the runtime compiles a path's methods again and
        // again in the background (tiered, with dynamic PGO) over its first thousands of calls, on the same two cores. Without
        // this the first queries carried that compiling: the service's CPU per search fell from 4 ms in the first query to
        // 1.1 ms by the seventh (docs/performance.md, session 27). --warmup seconds of the queries below, in turn.
        var warming = Stopwatch.StartNew();
        var warmed = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (warming.Elapsed < TimeSpan.FromSeconds(warmup))
            {
                var (_, q) = queries[Interlocked.Increment(ref warmed) % queries.Length];
                await service.GetDataAsync(agent, PathOf(q));
            }
        }));
        Console.WriteLine();
        Console.WriteLine($"## Search on {service.Name}: {messageCount:N0} messages of one tenant over {sessionCount:N0} sessions, and {noise / 4 * 4:N0} of four other tenants");
        Console.WriteLine();
        if (reuse is not null && service.Postgres is not null) Console.WriteLine("The database an earlier run seeded and indexed (--reuse): the queries only.");
        else if (reuse is not null) Console.WriteLine($"The database {reuse}, seeded and indexed by an earlier run (--keep); the service was ready on it " +
            $"**{service.ReadyAfter.TotalSeconds:0.0} s** after its start (with the migrations a file from an older build needs).");
        else Console.WriteLine($"Seeded in {seeded.TotalSeconds:0} s without the index; the backfill then indexed all {total:N0} messages in **{backfill.Elapsed.TotalSeconds:0} s** " +
            $"({total / backfill.Elapsed.TotalSeconds:0} messages/s). The index: **{(after - before) / (double)total:0} bytes per message** ({(after - before) / 1048576.0:0} MiB in all).");
        Console.WriteLine($"Warmed up with {warmed:N0} searches of the queries below, {warmup} s (--warmup).");
        Console.WriteLine();
        // CPU per search: the service's process, and (PostgreSQL on this machine) its backends' (the database's work).
        Console.WriteLine($"| query | q | hits on page 1 (limit 20) | p50 ms | p95 ms | max ms | service CPU ms | database CPU ms |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        var results = new List<string>();
        foreach (var (name, q) in queries)
        {
            // The reference: an authenticated read that does almost nothing, at the same concurrency: what the machine adds.
            var path = PathOf(q);
            var (_, first) = await service.GetDataAsync(agent, path);
            for (var i = 0; i < 5; i++) await service.GetDataAsync(agent, path); // warm up
            var times = new List<double>();
            var next = 0;
            var (serviceCpu, databaseCpu) = (service.CpuTime, await BackendsCpuAsync(service));
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) <= repeat)
                {
                    var (elapsed, _) = await service.GetDataAsync(agent, path);
                    lock (times) times.Add(elapsed);
                }
            }));
            var serviceMs = (service.CpuTime - serviceCpu).TotalMilliseconds / repeat;
            var databaseMs = await BackendsCpuAsync(service) is { } backends && databaseCpu is not null
                ? (backends.Sum(b => b.Value) - backends.Sum(b => databaseCpu.GetValueOrDefault(b.Key))) / repeat : double.NaN;
            times.Sort();
            Console.WriteLine($"| {name} | `{q}` | {first.GetArrayLength()} | {Table.At(times, 0.5):0.0} | **{Table.At(times, 0.95):0.0}** | {times[^1]:0.0} | {serviceMs:0.00} | {databaseMs:0.00} |");
            results.Add($"{name.Replace(' ', '_').Replace(",", "").Replace(":", "").Replace("/", "_")}_p95={Table.At(times, 0.95):0.0}");
        }
        Console.WriteLine($"RESULT {string.Join(' ', results)} seed_seconds={seeded.TotalSeconds:0} backfill_seconds={backfill.Elapsed.TotalSeconds:0} bytes_per_message={(after - before) / (double)total:0}");
    }

    /// <summary>The vocabulary, most common first: everyday words, then generated ones of two to four syllables.</summary>
    private static string[] Words()
    {
        string[] onsets = ["b", "c", "d", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "w", "y", "ng", "ny", "kh", "st"];
        string[] vowels = ["a", "i", "u", "e", "o", "é", "ai", "au"];
        string[] codas = ["", "", "", "n", "ng", "k", "r", "s", "t", "h", "l", "m"];
        var random = new Random(19);
        var words = new List<string>(Everyday);
        var seen = new HashSet<string>(words);
        while (words.Count < Vocabulary)
        {
            var word = new StringBuilder();
            var syllables = 2 + random.Next(3);
            for (var i = 0; i < syllables; i++)
                word.Append(onsets[random.Next(onsets.Length)]).Append(vowels[random.Next(vowels.Length)]).Append(i == syllables - 1 ? codas[random.Next(codas.Length)] : "");
            if (seen.Add(word.ToString())) words.Add(word.ToString());
        }
        return [.. words];
    }

    private static double[] Zipf(int n, double s)
    {
        var cumulative = new double[n];
        var sum = 0.0;
        for (var i = 0; i < n; i++) cumulative[i] = sum += 1 / Math.Pow(i + 1, s);
        for (var i = 0; i < n; i++) cumulative[i] /= sum;
        return cumulative;
    }

    private static int Pick(double[] cumulative, double u)
    {
        var i = Array.BinarySearch(cumulative, u);
        return Math.Min(i < 0 ? ~i : i, cumulative.Length - 1);
    }

    private static async Task SeedAsync(DbConnection connection, bool postgres, long tenant, int sessions, int messages, DateTimeOffset from, Func<string> text)
    {
        var perSession = messages / sessions;
        var spacing = TimeSpan.FromDays(365) / sessions;
        var agentBase = 10_000L;
        if (postgres)
        {
            var npgsql = (NpgsqlConnection)connection;
            var rows = new List<(Guid Session, DateTimeOffset At, int Count, long Agent, long Customer)>();
            await using (var copy = await npgsql.BeginBinaryImportAsync(
                "COPY chat_sessions (tenant_id, id, agent_id, status, created_by, customer_id, last_seq, created_at, updated_at, routed) FROM STDIN (FORMAT BINARY)"))
            {
                for (var i = 0; i < sessions; i++)
                {
                    var at = from + spacing * i;
                    var count = i < messages % sessions ? perSession + 1 : perSession;
                    var row = (Guid.CreateVersion7(at), at, count, agentBase + i % 40, 2_000_000L + i);
                    rows.Add(row);
                    await copy.StartRowAsync();
                    await copy.WriteAsync(tenant, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(row.Item1, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(row.Item4, NpgsqlDbType.Bigint);
                    await copy.WriteAsync("CLOSED", NpgsqlDbType.Text);
                    await copy.WriteAsync(row.Item5, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(row.Item5, NpgsqlDbType.Bigint);
                    await copy.WriteAsync((long)count, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(at, NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(at, NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(true, NpgsqlDbType.Boolean);
                }
                await copy.CompleteAsync();
            }
            await using (var copy = await npgsql.BeginBinaryImportAsync(
                "COPY chat_messages (tenant_id, session_id, seq, id, sender_id, message, created_at) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var (session, start, count, agent, customer) in rows)
                {
                    for (var seq = 1; seq <= count; seq++)
                    {
                        var at = start.AddSeconds(seq * 30);
                        await copy.StartRowAsync();
                        await copy.WriteAsync(tenant, NpgsqlDbType.Bigint);
                        await copy.WriteAsync(session, NpgsqlDbType.Uuid);
                        await copy.WriteAsync((long)seq, NpgsqlDbType.Bigint);
                        await copy.WriteAsync(Guid.CreateVersion7(at), NpgsqlDbType.Uuid);
                        await copy.WriteAsync(seq % 2 == 0 ? agent : customer, NpgsqlDbType.Bigint);
                        await copy.WriteAsync(text(), NpgsqlDbType.Text);
                        await copy.WriteAsync(at, NpgsqlDbType.TimestampTz);
                    }
                }
                await copy.CompleteAsync();
            }
            return;
        }
        var sqlite = (SqliteConnection)connection;
        await using var transaction = sqlite.BeginTransaction();
        await using var insertSession = sqlite.CreateCommand();
        insertSession.Transaction = transaction;
        insertSession.CommandText = """
            INSERT INTO chat_sessions (tenant_id, id, agent_id, status, created_by, customer_id, last_seq, created_at, updated_at, routed)
            VALUES (@tenant, @id, @agent, 'CLOSED', @customer, @customer, @count, @at, @at, 1)
            """;
        await using var insertMessage = sqlite.CreateCommand();
        insertMessage.Transaction = transaction;
        insertMessage.CommandText = """
            INSERT INTO chat_messages (tenant_id, session_id, seq, id, sender_id, message, created_at) VALUES (@tenant, @session, @seq, @id, @sender, @message, @at)
            """;
        foreach (var name in new[] { "@tenant", "@id", "@agent", "@customer", "@count", "@at" }) insertSession.Parameters.Add(new SqliteParameter(name, null));
        foreach (var name in new[] { "@tenant", "@session", "@seq", "@id", "@sender", "@message", "@at" }) insertMessage.Parameters.Add(new SqliteParameter(name, null));
        for (var i = 0; i < sessions; i++)
        {
            var start = from + spacing * i;
            var count = i < messages % sessions ? perSession + 1 : perSession;
            var id = Guid.CreateVersion7(start).ToString("D");
            var (agent, customer) = (agentBase + i % 40, 2_000_000L + i);
            Bind(insertSession, tenant, id, agent, customer, count, DbCommandExtensions.SqliteTimestamp(start));
            for (var seq = 1; seq <= count; seq++)
            {
                var at = start.AddSeconds(seq * 30);
                Bind(insertMessage, tenant, id, seq, Guid.CreateVersion7(at).ToString("D"), seq % 2 == 0 ? agent : customer, text(), DbCommandExtensions.SqliteTimestamp(at));
            }
        }
        await transaction.CommitAsync();
    }

    private static void Bind(SqliteCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i];
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// PostgreSQL: the CPU milliseconds each client backend of the database has used so far (/proc, the database runs on this
    /// machine), by process id; null on SQLite or when /proc does not show them.
    /// </summary>
    private static async Task<Dictionary<int, double>?> BackendsCpuAsync(Service service)
    {
        if (service.Postgres is null) return null;
        var backends = new Dictionary<int, double>();
        await using var connection = await OpenAsync(service);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var pid = reader.GetInt32(0);
            try
            {
                // Fields 14 and 15 of /proc/PID/stat (after the name in parentheses): user and system time in clock ticks (100 a second).
                var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                backends[pid] = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
            }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
        }
        return backends;
    }

    /// <summary>The database's size in bytes: SQLite's file (pages in use), PostgreSQL's database.</summary>
    /// <summary>A copy of the seeded and indexed SQLite database (--keep), for later runs of the queries (--reuse).</summary>
    private static async Task KeepAsync(Service service, string path)
    {
        File.Delete(path);
        await using var connection = await OpenAsync(service);
        await using var command = connection.CreateCommand();
        command.CommandText = "VACUUM INTO @path";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@path";
        parameter.Value = path;
        command.Parameters.Add(parameter);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> SizeAsync(Service service)
    {
        await using var connection = await OpenAsync(service);
        return Convert.ToInt64(await ScalarAsync(connection, service.Postgres is null
            ? "SELECT ((SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count())) * (SELECT page_size FROM pragma_page_size())"
            : "SELECT pg_database_size(current_database())"), CultureInfo.InvariantCulture);
    }

    private static async Task<DbConnection> OpenAsync(Service service)
    {
        DbConnection connection = service.Postgres is { } postgres ? new NpgsqlConnection(postgres) : new SqliteConnection(service.DatabaseConnectionString);
        await connection.OpenAsync();
        if (connection is SqliteConnection) await ExecuteAsync(connection, "PRAGMA busy_timeout = 60000");
        return connection;
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 3600;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 3600;
        return await command.ExecuteScalarAsync();
    }
}
