using System.Net;
using Livechat.Auth;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>
/// PostgreSQL group commit (Data/PostgresDatabase.cs): a batch runs without savepoints, so a failed statement
/// fails the batch and its writes run again alone. Every write of the batch must be answered, including those
/// the failure kept from running. Faults are planted with triggers, so they are real database failures.
/// </summary>
public sealed class PostgresWriterTests(PostgresWriterServer server) : IClassFixture<PostgresWriterServer>
{
    [Fact]
    public async Task WritesQueuedBehindAFailedWriteInItsBatchAreAllAnsweredAndCommitted()
    {
        // 'slow' holds the one writer loop while the rest queue up into the next batch; 'poison' fails there.
        await PlantSlowTriggerAsync();
        var tenant = await server.NewTenantAsync();
        var agents = Enumerable.Range(0, 12).Select(_ => server.Agent(tenant)).ToList();
        // Sessions are UUIDv7, so the first one sorts first in its batch: the poisoned write runs before all the others.
        var sessions = new List<string>();
        foreach (var agent in agents) sessions.Add(await agent.StartSessionAsync());

        var slow = agents[^1].PostAsync($"/livechat/sessions/{sessions[^1]}/messages", new { message = "slow" });
        await SlowIsRunningAsync();
        var poisoned = agents[0].PostAsync($"/livechat/sessions/{sessions[0]}/messages", new { message = "poison" });
        var fine = Enumerable.Range(1, 10).Select(i => agents[i].PostAsync($"/livechat/sessions/{sessions[i]}/messages", new { message = $"fine {i}" })).ToList();

        (await slow).AssertStatus(HttpStatusCode.Created);
        (await poisoned).AssertError(HttpStatusCode.InternalServerError, "request");
        foreach (var reply in await Task.WhenAll(fine)) reply.AssertStatus(HttpStatusCode.Created);
        for (var i = 1; i <= 10; i++)
        {
            var stored = (await agents[i].GetAsync($"/livechat/sessions/{sessions[i]}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data;
            Assert.Equal([$"fine {i}"], stored.EnumerateArray().Select(m => m.GetProperty("message").GetString()));
        }
        Assert.Equal(0, (await agents[0].GetAsync($"/livechat/sessions/{sessions[0]}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
    }

    /// <summary>
    /// Plain messages are planned: the statements of a batch's sends travel together and each send learns its
    /// seq from its own insert's row. One batch of a conversation's messages (both sides, in queue order) must
    /// store them in that order, move each sender's marker, and notify the tenant side of the agent's reply.
    /// A send to a closed or unknown session in the next batch is an outcome, not a failure: it writes nothing
    /// and gets its own answer, and the batch commits as it ran, without running any write again.
    /// </summary>
    [Fact]
    public async Task PlannedSendsOfOneBatchGetTheirOwnOutcomesAndASendToAClosedSessionDoesNotSendItsBatchBack()
    {
        await PlantSlowTriggerAsync();
        var (agent, user, session) = await server.ConversationAsync();
        var other = server.Agent(agent.TenantId);
        var closed = await other.StartSessionAsync();
        (await other.PatchAsync($"/livechat/sessions/{closed}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var bystander = await other.StartSessionAsync();

        // Batch 1 queues behind 'slow' (one writer loop): the user, then the agent twice, then the user again.
        var slow = other.PostAsync($"/livechat/sessions/{bystander}/messages", new { message = "slow" });
        await SlowIsRunningAsync();
        var first = new List<Task<Reply>>();
        foreach (var (caller, text) in new[] { (user, "u1"), (agent, "a1"), (agent, "a2"), (user, "u2") })
        {
            first.Add(caller.PostAsync($"/livechat/sessions/{session}/messages", new { message = text }));
            await QueuedAsync(1); // queue order is arrival order
        }
        (await slow).AssertStatus(HttpStatusCode.Created);
        var sent = (await Task.WhenAll(first)).Select(r => r.AssertStatus(HttpStatusCode.Created).Data).ToList();

        var stored = (await user.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data
            .EnumerateArray().Select(m => (m.GetProperty("id").GetString(), m.GetProperty("message").GetString())).ToList();
        Assert.Equal(sent.Select(m => (m.GetProperty("id").GetString(), m.GetProperty("message").GetString())), stored);
        // Each sender's marker is on its own last message: the user has read u2, the agent a2 (u2 is unread).
        Assert.Equal(0, (await user.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data.GetProperty("unread_count").GetInt64());
        Assert.Equal(1, (await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data.GetProperty("unread_count").GetInt64());
        var notified = (await user.GetAsync("/notifications?limit=20")).AssertStatus(HttpStatusCode.OK).Data
            .EnumerateArray().Select(n => n.GetProperty("message_id").GetString()).ToHashSet();
        Assert.Contains(sent[1].GetProperty("id").GetString(), notified);
        Assert.Contains(sent[2].GetProperty("id").GetString(), notified);

        // Batch 2: valid sends around one to a closed session and one to a session that does not exist.
        var runAlone = Engine.BatchesRunAlone;
        slow = other.PostAsync($"/livechat/sessions/{bystander}/messages", new { message = "slow" });
        await SlowIsRunningAsync();
        var valid = agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "a3" });
        await QueuedAsync(1);
        var toClosed = other.PostAsync($"/livechat/sessions/{closed}/messages", new { message = "too late" });
        var toNowhere = other.PostAsync($"/livechat/sessions/{Guid.CreateVersion7()}/messages", new { message = "lost" });
        await QueuedAsync(2);
        var alsoValid = user.PostAsync($"/livechat/sessions/{session}/messages", new { message = "u3" });
        (await slow).AssertStatus(HttpStatusCode.Created);
        (await valid).AssertStatus(HttpStatusCode.Created);
        (await alsoValid).AssertStatus(HttpStatusCode.Created);
        (await toClosed).AssertError(HttpStatusCode.Conflict, "request");
        (await toNowhere).AssertError(HttpStatusCode.NotFound, "request");
        Assert.Equal(["u1", "a1", "a2", "u2", "a3", "u3"], (await user.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).Data
            .EnumerateArray().Select(m => m.GetProperty("message").GetString()));
        Assert.Equal(0, (await other.GetAsync($"/livechat/sessions/{closed}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
        Assert.Equal(runAlone, Engine.BatchesRunAlone);
    }

    /// <summary>
    /// The pipeline is in use and stays clean: a conversation's plain messages (a tenant user's, whose
    /// participation is written with it, and an agent's reply, which notifies) are sent as plans and run in
    /// their batch, with webhooks subscribed so the outbox writes too. A send to a closed session is planned
    /// too, and answered 409 without sending its batch back. Operators see both counts at /metrics.
    /// </summary>
    [Fact]
    public async Task PlainMessagesAreSentAsPlansAndASendToAClosedSessionSendsNoBatchBack()
    {
        var engine = (PostgresDatabase)server.Services.GetRequiredService<Database>();
        var (agent, user, session) = await server.ConversationAsync();
        var admin = new Caller(server, LivechatServer.NewUserId(), agent.TenantId, [Roles.SupportAdmin]);
        (await admin.PostAsync("/webhooks", new { url = "https://93.184.215.14/hook", events = new[] { "*" } })).AssertStatus(HttpStatusCode.Created);
        var planned = engine.PlannedWrites;
        var runAlone = engine.BatchesRunAlone;

        await user.SendMessageAsync(session, "hello");
        await agent.SendMessageAsync(session, "hi, how can I help?");
        await user.SendMessageAsync(session, "it is about my invoice");

        Assert.Equal(planned + 3, engine.PlannedWrites);
        Assert.Equal(runAlone, engine.BatchesRunAlone);
        Assert.Contains((await user.GetAsync("/notifications?limit=5")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray(),
            n => n.GetProperty("preview").GetString() == "hi, how can I help?");
        Assert.Equal(3, await server.ExecuteSqlAsync(
            "UPDATE webhook_events SET type = type WHERE tenant_id = @tenant AND type = 'message.created'", ("tenant", agent.TenantId)));

        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        (await user.PostAsync($"/livechat/sessions/{session}/messages", new { message = "one more thing" })).AssertError(HttpStatusCode.Conflict, "request");
        Assert.Equal(planned + 4, engine.PlannedWrites);
        Assert.Equal(runAlone, engine.BatchesRunAlone);
        var metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Contains("livechat_planned_writes_total", metrics, StringComparison.Ordinal);
        Assert.Contains("livechat_write_batches_run_alone_total", metrics, StringComparison.Ordinal);
    }

    /// <summary>
    /// A burst of one conversation shares batches, each message moving its sender's read marker: every send is
    /// planned and none sends its batch back, and each sender's marker ends at its last message.
    /// </summary>
    [Fact]
    public async Task ABurstOfOneConversationLeavesEachSendersMarkerAtItsLastMessage()
    {
        var engine = (PostgresDatabase)server.Services.GetRequiredService<Database>();
        var (agent, user, session) = await server.ConversationAsync();
        await user.SendMessageAsync(session, "first");
        var runAlone = engine.BatchesRunAlone;

        var sends = Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? agent : user).PostAsync($"/livechat/sessions/{session}/messages", new { message = $"burst {i}" }));
        foreach (var reply in await Task.WhenAll(sends)) reply.AssertStatus(HttpStatusCode.Created);

        Assert.Equal(runAlone, engine.BatchesRunAlone);
        var messages = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK)
            .Data.EnumerateArray().Select(m => m.GetProperty("sender_id").GetInt64()).ToList();
        Assert.Equal(41, messages.Count);
        foreach (var (reader, other) in new[] { (agent, user), (user, agent) })
        {
            // Everything up to the reader's own last message is read; the other's messages after it are not.
            var unread = messages.Skip(messages.LastIndexOf(reader.UserId) + 1).Count(sender => sender == other.UserId);
            var row = (await reader.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data;
            Assert.Equal(unread, row.GetProperty("unread_count").GetInt64());
        }
    }

    /// <summary>
    /// Waits until PostgreSQL says a backend of this database sleeps in the trigger: the 'slow' write runs and holds
    /// the one writer loop, so what is posted next queues into the next batch. Asked on a connection of its own,
    /// since the writer loop is busy.
    /// </summary>
    private async Task SlowIsRunningAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(server.Settings["Livechat:Database:ConnectionString"]);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'", connection);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((long)(await command.ExecuteScalarAsync())! == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the 'slow' write did not start within 10 s");
        }
        queuedBefore = Engine.WritesQueued;
    }

    private long queuedBefore;

    private PostgresDatabase Engine => (PostgresDatabase)server.Services.GetRequiredService<Database>();

    /// <summary>Waits until <paramref name="count"/> more writes are in the writer's queue than at the last wait: they queue in that order.</summary>
    private async Task QueuedAsync(int count)
    {
        queuedBefore += count;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Engine.WritesQueued < queuedBefore)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{count} write(s) did not reach the writer's queue within 10 s");
            await Task.Delay(2); // a poll of the signal, not a guess at readiness
        }
    }

    private Task<int> PlantSlowTriggerAsync() => server.ExecuteSqlAsync("""
        CREATE OR REPLACE FUNCTION test_writer_faults() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.message = 'slow' THEN PERFORM pg_sleep(0.5); END IF;
            IF NEW.message = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF;
            RETURN NEW;
        END $$;
        DROP TRIGGER IF EXISTS test_writer_faults ON chat_messages;
        CREATE TRIGGER test_writer_faults BEFORE INSERT ON chat_messages FOR EACH ROW EXECUTE FUNCTION test_writer_faults();
        """);
}

/// <summary>
/// Two writes whose transactions take the same two locks in opposite orders: PostgreSQL aborts one as a deadlock's
/// victim. Nothing of the victim was stored, so the engine runs it again and both requests succeed.
/// </summary>
public sealed class PostgresDeadlockTests(PostgresDeadlockServer server) : IClassFixture<PostgresDeadlockServer>
{
    [Fact]
    public async Task ADeadlocksVictimRunsAgainAndBothWritesSucceed()
    {
        await server.ExecuteSqlAsync("""
            CREATE OR REPLACE FUNCTION test_deadlock() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.message = 'one-two' THEN PERFORM pg_advisory_xact_lock(1); PERFORM pg_sleep(0.3); PERFORM pg_advisory_xact_lock(2); END IF;
                IF NEW.message = 'two-one' THEN PERFORM pg_advisory_xact_lock(2); PERFORM pg_sleep(0.3); PERFORM pg_advisory_xact_lock(1); END IF;
                RETURN NEW;
            END $$;
            DROP TRIGGER IF EXISTS test_deadlock ON chat_messages;
            CREATE TRIGGER test_deadlock BEFORE INSERT ON chat_messages FOR EACH ROW EXECUTE FUNCTION test_deadlock();
            """);
        var tenant = await server.NewTenantAsync();
        // A write goes to the writer loop its session id hashes to: one session for each of the two loops.
        var byLoop = new Dictionary<uint, (Caller Agent, string Session)>();
        while (byLoop.Count < 2)
        {
            var agent = server.Agent(tenant);
            var session = await agent.StartSessionAsync();
            byLoop.TryAdd((uint)Guid.Parse(session).GetHashCode() % 2, (agent, session));
        }

        var replies = await Task.WhenAll(
            byLoop[0].Agent.PostAsync($"/livechat/sessions/{byLoop[0].Session}/messages", new { message = "one-two" }),
            byLoop[1].Agent.PostAsync($"/livechat/sessions/{byLoop[1].Session}/messages", new { message = "two-one" }));

        foreach (var reply in replies) reply.AssertStatus(HttpStatusCode.Created);
        foreach (var (agent, session) in byLoop.Values)
            Assert.Equal(1, (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
    }
}

public sealed class PostgresDeadlockServer : LivechatServer
{
    public PostgresDeadlockServer() : base(DatabaseProvider.Postgres) => Settings["Livechat:Database:Writers"] = "2";
}

/// <summary>One writer loop, so the test decides what shares a batch; a short request timeout, so a write nobody answers shows as a 503 at once.</summary>
public sealed class PostgresWriterServer : LivechatServer
{
    public PostgresWriterServer() : base(DatabaseProvider.Postgres)
    {
        Settings["Livechat:Database:Writers"] = "1";
        Settings["Livechat:Limits:RequestTimeoutSeconds"] = "5";
    }
}
