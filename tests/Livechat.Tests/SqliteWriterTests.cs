using System.Net;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>
/// SQLite group commit (Data/SqliteDatabase.cs): writes that share a batch must not share a fate. Faults are
/// planted with triggers, so the failures are real database failures at the real points.
/// </summary>
public sealed class SqliteWriterTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    private Task<int> ExecuteAsync(string sql) => server.ExecuteSqlAsync(sql);

    private static async Task<List<string>> TextsAsync(Caller caller, string session) =>
        (await caller.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK)
            .Data.EnumerateArray().Select(m => m.GetProperty("message").GetString()!).ToList();

    /// <summary>New databases get 2 KB pages; a file made with the old 4 KB pages opens, migrates and works as it is.</summary>
    [Fact]
    public async Task ADatabaseMadeWithLargerPagesKeepsThemAndWorks()
    {
        Assert.Equal(2048L, await PageSizeAsync(DatabaseFile));

        await using var older = new LivechatServer(DatabaseProvider.Sqlite);
        var file = Path.Combine(older.Folder, "livechat.db");
        await using (var made = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=false"))
        {
            await made.OpenAsync();
            await using var command = made.CreateCommand();
            command.CommandText = "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE made_before (id INTEGER PRIMARY KEY);";
            await command.ExecuteNonQueryAsync();
        }
        await older.StartAsync();
        var agent = older.Agent(await older.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        await agent.SendMessageAsync(session, "on 4 KB pages");
        Assert.Equal(["on 4 KB pages"], await TextsAsync(agent, session));
        Assert.Equal(4096L, await PageSizeAsync(file));
    }

    /// <summary>From now on, inserting a message whose text begins "poison" fails in the database (its write is undone alone).</summary>
    private Task<int> PoisonMessagesAsync() => ExecuteAsync("""
        CREATE TRIGGER IF NOT EXISTS test_poison BEFORE INSERT ON chat_messages
        WHEN NEW.message LIKE 'poison%' BEGIN SELECT RAISE(ABORT, 'poisoned'); END
        """);

    private static Task<long> PageSizeAsync(string file) => ReadNumberAsync(file, "PRAGMA page_size");

    /// <summary>One number read from <paramref name="dataSource"/> on a read-only connection of its own, apart from the service's.</summary>
    private static async Task<long> ReadNumberAsync(string dataSource, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={dataSource};Mode=ReadOnly;Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue("@" + name, value);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private string DatabaseFile => Path.Combine(server.Folder, "livechat.db");

    [Fact]
    public async Task AWriteThatFailsInABatchIsUndoneAloneAndTheOthersCommit()
    {
        await PoisonMessagesAsync();
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();

        var texts = Enumerable.Range(0, 40).Select(i => i % 4 == 0 ? $"poison {i}" : $"fine {i}").ToList();
        var replies = await Task.WhenAll(texts.Select(t => agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = t })));

        for (var i = 0; i < texts.Count; i++)
        {
            if (texts[i].StartsWith("poison", StringComparison.Ordinal)) replies[i].AssertError(HttpStatusCode.InternalServerError, "request");
            else replies[i].AssertStatus(HttpStatusCode.Created);
        }
        var stored = await TextsAsync(agent, session);
        Assert.Equal(texts.Where(t => t.StartsWith("fine", StringComparison.Ordinal)).Order(), stored.Order());
    }

    /// <summary>
    /// The plain messages of a batch share one check of their tenant's webhooks, sent by the first. When that
    /// one fails, its check goes with it: the messages after it must check again, not trust this process's
    /// memory that the tenant had no enabled webhook (here, one enabled behind the service's back).
    /// </summary>
    [Fact]
    public async Task MessagesAfterAFailedOneInABatchStillRecordTheirWebhookEvents()
    {
        await PoisonMessagesAsync();
        var tenant = await server.NewTenantAsync();
        var admin = new Caller(server, LivechatServer.NewUserId(), tenant, [Livechat.Auth.Roles.SupportAdmin]);
        var webhook = (await admin.PostAsync("/webhooks", new { url = "https://93.184.215.14/hook", events = new[] { "message.created" } }))
            .AssertStatus(HttpStatusCode.Created).Data.GetProperty("id").GetString()!;
        (await admin.PatchAsync($"/webhooks/{webhook}", new { enabled = false })).AssertStatus(HttpStatusCode.OK);
        var agent = server.Agent(tenant);
        var session = await agent.StartSessionAsync();
        for (var i = 0; i < 3; i++) await agent.SendMessageAsync(session, $"while it is disabled {i}");
        Assert.Equal(1, await server.ExecuteSqlAsync("UPDATE webhooks SET enabled = TRUE WHERE tenant_id = @tenant", ("tenant", tenant)));

        var texts = Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? $"poison {i}" : $"fine {i}").ToList();
        var replies = await Task.WhenAll(texts.Select(t => agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = t })));
        Assert.Equal(20, replies.Count(r => r.Status == HttpStatusCode.Created));

        // One message.created event for each message stored while the webhook was enabled, and none before.
        Assert.Equal(20, await server.ExecuteSqlAsync(
            "UPDATE webhook_events SET type = type WHERE tenant_id = @tenant AND type = 'message.created'", ("tenant", tenant)));
    }

    /// <summary>
    /// A batch writes its messages' search entries in one statement at its end (ADR 0046). Held behind a write that waits,
    /// sends and an erasure queue into one batch: the stored messages are found, a message undone in its savepoint has no
    /// entry, and neither has the message the erasure emptied later in that batch.
    /// </summary>
    [Fact]
    public async Task TheSearchEntriesOfABatchAreWrittenAtItsEndForTheMessagesItKept()
    {
        await PoisonMessagesAsync();
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var engine = (SqliteDatabase)server.Services.GetRequiredService<Database>();

        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var held = engine.WriteAsync(async (_, _) =>
        {
            holding.SetResult();
            await release.Task;
            return 0;
        }, CancellationToken.None);
        await holding.Task;
        var queued = engine.WritesQueued;
        var texts = Enumerable.Range(0, 12).Select(i => i % 4 == 3 ? $"poison batched {i}" : $"batched {i}").ToList();
        var sends = texts.Select(t => agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = t })).ToList();
        await QueuedAsync(engine, queued + texts.Count);
        // The erasure queues last: the agent's oldest message of the session is one this batch sends.
        var erasure = server.Services.GetRequiredService<WritePath>().RunAsync(async scope => Change.Of(await Livechat.Privacy.Forgetting.ForgetMessagesAsync(
            scope, agent.TenantId, new Livechat.Privacy.ForgottenMessages.SentBy(Guid.Parse(session), agent.UserId), take: 1, CancellationToken.None)),
            CancellationToken.None);
        await QueuedAsync(engine, queued + texts.Count + 1);
        release.SetResult();
        await held;
        Assert.Equal(1, await erasure);
        var replies = await Task.WhenAll(sends);
        Assert.Equal(9, replies.Count(r => r.Status == HttpStatusCode.Created));

        var kept = await TextsAsync(agent, session);
        Assert.Equal(9, kept.Count);
        Assert.Single(kept, "");
        var found = (await agent.GetAsync("/livechat/search?q=batched&limit=50")).AssertStatus(HttpStatusCode.OK)
            .Data.EnumerateArray().Select(hit => hit.GetProperty("message").Text("message")).ToList();
        Assert.Equal(kept.Where(t => t.Length > 0).Order(), found.Order());
        // The index holds exactly those eight: no entry for the poisoned ones nor for the erased one.
        Assert.Equal(8L, await IndexEntriesAsync(agent.TenantId));
    }

    /// <summary>
    /// A writer with nothing left to write copies the WAL into the database file: read from the file alone (immutable,
    /// which ignores the WAL), a message is there once the writer has been idle after its send.
    /// </summary>
    [Fact]
    public async Task TheWriterCopiesItsWritesIntoTheDatabaseFileWhenIdle()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var engine = (SqliteDatabase)server.Services.GetRequiredService<Database>();
        var before = engine.IdleCheckpoints;
        await agent.SendMessageAsync(session, "copied when idle");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        // The writer copies at most every 50 ms: an empty write per poll gives it another idle moment after the send's.
        while (engine.IdleCheckpoints <= before || await InTheFileAloneAsync(agent.TenantId, "copied when idle") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the writer did not copy the send into the database file within 10 s");
            await engine.WriteAsync((_, _) => Task.FromResult(0), CancellationToken.None);
            await Task.Delay(5); // a poll of the signal
        }
    }

    /// <summary>Messages of this text in the database file itself, without the WAL (immutable ignores it).</summary>
    private Task<long> InTheFileAloneAsync(long tenant, string text) => ReadNumberAsync($"file:{DatabaseFile}?immutable=1",
        "SELECT count(*) FROM chat_messages WHERE tenant_id = @tenant AND message = @text", ("tenant", tenant), ("text", text));

    private static async Task QueuedAsync(SqliteDatabase engine, long count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (engine.WritesQueued < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the writer's queue did not reach {count} writes within 10 s");
            await Task.Delay(2); // a poll of the signal, not a guess at readiness
        }
    }

    private Task<long> IndexEntriesAsync(long tenant) =>
        ReadNumberAsync(DatabaseFile, "SELECT count(*) FROM message_search WHERE message_search MATCH @query", ("query", $"tenant : t{tenant}"));

    [Fact]
    public async Task ABatchWhoseCommitFailsReportsEveryWriteAsFailedAndTheWriterCarriesOn()
    {
        // A deferred foreign key is checked at COMMIT: a 'doom' message makes the whole batch's commit fail.
        await ExecuteAsync("CREATE TABLE IF NOT EXISTS test_parent (id INTEGER PRIMARY KEY)");
        await ExecuteAsync("CREATE TABLE IF NOT EXISTS test_child (parent INTEGER REFERENCES test_parent (id) DEFERRABLE INITIALLY DEFERRED)");
        await ExecuteAsync("""
            CREATE TRIGGER IF NOT EXISTS test_doom AFTER INSERT ON chat_messages
            WHEN NEW.message = 'doom' BEGIN INSERT INTO test_child (parent) VALUES (-1); END
            """);
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();

        var doomed = await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "doom" });
        doomed.AssertError(HttpStatusCode.InternalServerError, "request");
        Assert.Empty(await TextsAsync(agent, session));

        // The writer took a fresh connection and goes on.
        await agent.SendMessageAsync(session, "after the failed batch");
        Assert.Equal(["after the failed batch"], await TextsAsync(agent, session));
    }
}
