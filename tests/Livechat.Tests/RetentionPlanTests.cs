using System.Net;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Privacy;
using Livechat.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using SQLitePCL;

namespace Livechat.Tests;

/// <summary>
/// SQLite: a retention batch holds the one writer while it runs, so each of its statements must reach its rows through
/// the purged sessions' own index entries, never by walking all of the tenant's rows, whatever the planner's statistics
/// say (docs/performance.md, issue 28, session 26: a walk over the tenant's notifications was 84 of a batch's 93 ms).
/// </summary>
public sealed class RetentionPlanTestsOnSqlite(PrivacySqliteServer server) : IClassFixture<PrivacySqliteServer>
{
    [Fact]
    public async Task EveryStatementOfARetentionBatchFindsItsRowsByTheSessionsEvenWhenStatisticsFavourTheTenantsPrimaryKey()
    {
        // A closed session with what a batch deletes: messages (with search entries), a notification, a read marker.
        var (agent, customer, session) = await server.ConversationAsync();
        var last = await customer.SendMessageAsync(session, "hello there");
        await agent.SendMessageAsync(session, "hi");
        (await agent.PostAsync($"/livechat/sessions/{session}/read", new { message_id = last.Text("id") })).AssertStatus(HttpStatusCode.OK);
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);

        // On a copy, so the server's planner keeps its own statistics.
        var copy = Path.Combine(server.Folder, $"plans-{Guid.NewGuid():N}.db");
        await using (var source = new SqliteConnection($"Data Source={Path.Combine(server.Folder, "livechat.db")}"))
        {
            await source.OpenAsync();
            await ExecuteAsync(source, $"VACUUM INTO '{copy}'");
        }
        await using var connection = new SqliteConnection($"Data Source={copy};Foreign Keys=True");
        await connection.OpenAsync();
        // Statistics that make the primary key's tenant_id prefix look like a handful of rows and the session indexes like
        // a million (what statistics taken while the table was empty make the planner believe).
        await ExecuteAsync(connection, """
            ANALYZE;
            DELETE FROM sqlite_stat1 WHERE tbl IN ('notifications', 'webhook_deliveries');
            INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
                ('notifications', 'notifications', '1000000 10 1 1'),
                ('notifications', 'ix_notifications_message', '1000000 1000000 1'),
                ('notifications', 'ix_notifications_unmessaged', '1000000 1000000 100000'),
                ('webhook_deliveries', 'webhook_deliveries', '1000000 10 1'),
                ('webhook_deliveries', 'ix_webhook_deliveries_event', '1000000 1000000 100000');
            ANALYZE sqlite_schema;
            """);
        // The control: with these statistics the plain statement walks the tenant's notifications.
        Assert.Contains(await PlanAsync(connection, $"DELETE FROM notifications WHERE tenant_id = {agent.TenantId} AND session_id IN ('a', 'b', 'c')"),
            line => line.EndsWith("USING PRIMARY KEY (tenant_id=?)", StringComparison.Ordinal));

        var statements = new List<string>();
        raw.sqlite3_trace(connection.Handle, (delegate_trace)((_, statement) => statements.Add(statement.utf8_to_string())), null);
        PurgeCounts counts;
        await using (var transaction = connection.BeginTransaction())
        {
            (counts, _) = await RetentionJob.PurgeBatchAsync(new ChangeScope(connection, transaction, DateTimeOffset.UtcNow), agent.TenantId,
                DateTimeOffset.UtcNow.AddYears(1), 500, CancellationToken.None);
            transaction.Rollback();
        }
        raw.sqlite3_trace(connection.Handle, (delegate_trace?)null, null);
        Assert.Equal(1, counts.Sessions);
        Assert.Equal(2, counts.Messages);

        // The batch's own statements (FTS5 runs statements of its own on its shadow tables, traced too).
        var statementsWithRows = statements.Where(s => (s.StartsWith("SELECT", StringComparison.Ordinal) || s.StartsWith("DELETE", StringComparison.Ordinal))
            && !s.Contains("message_search_", StringComparison.Ordinal)).ToList();
        Assert.Contains(statementsWithRows, s => s.StartsWith("DELETE FROM notifications", StringComparison.Ordinal));
        Assert.Contains(statementsWithRows, s => s.StartsWith("DELETE FROM webhook_deliveries", StringComparison.Ordinal));
        foreach (var sql in statementsWithRows)
            foreach (var line in await PlanAsync(connection, sql))
            {
                // Not the statement's: SQLite's own foreign-key probe of the events' deliveries (which the statement before
                // deleted), planned with the same statistics, and out of reach of INDEXED BY (docs/privacy.md says so).
                if (sql.StartsWith("DELETE FROM webhook_events", StringComparison.Ordinal) && line.StartsWith("SEARCH webhook_deliveries", StringComparison.Ordinal)) continue;
                // A search by more than the tenant, or FTS5's lookup of the entries by rowid; never a walk of a table.
                var walk = line.StartsWith("SCAN", StringComparison.Ordinal) && !line.Contains("VIRTUAL TABLE", StringComparison.Ordinal)
                    || line.StartsWith("SEARCH", StringComparison.Ordinal) && line.EndsWith("(tenant_id=?)", StringComparison.Ordinal);
                Assert.False(walk, $"{sql}\n walks the tenant's rows: {line}");
            }
    }

    /// <summary>
    /// Migration 0104 (ADR 0053): a message's notifications are found by the message, no longer by the session. A purge
    /// that the upgrade interrupted had deleted some of a session's messages but not yet their notifications (the code
    /// before deleted them with the session); the migration deletes those, and keeps every notification whose message is
    /// still there, and those without a message.
    /// </summary>
    [Fact]
    public async Task TheMigrationDeletesTheNotificationsOfMessagesAnInterruptedPurgeDeletedAndKeepsTheRest()
    {
        await using var older = new LivechatServer(DatabaseProvider.Sqlite);
        await older.StartAsync();
        var tenant = await older.NewTenantAsync();
        var agent = older.Agent(tenant);
        await agent.GoOnlineAsync();
        var customer = older.TenantUser(tenant);
        var session = await customer.StartSessionAsync(agent.UserId); // an assignment: a notification without a message
        await customer.SendMessageAsync(session, "to the agent");
        await agent.SendMessageAsync(session, "to the customer");
        var agentsBefore = (await agent.GetAsync("/notifications?limit=50")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength();
        Assert.Equal(1, (await customer.GetAsync("/notifications?limit=50")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
        Assert.True(agentsBefore >= 2, $"the agent has {agentsBefore} notifications, expected its assignment and the customer's message");

        // The database as one from before 0104, in the middle of a purge: the session index there, a customer's
        // notification quoting a message already deleted (no such message row), and 0104 still to run.
        Assert.Equal(1, await older.ExecuteSqlAsync("""
            INSERT INTO notifications (tenant_id, user_id, id, type, session_id, message_id, preview, created_at, read_at)
            SELECT tenant_id, user_id, @id, type, session_id, @message, 'quoted from a purged message', created_at, read_at
            FROM notifications WHERE tenant_id = @tenant AND user_id = @user
            """, ("id", Guid.CreateVersion7()), ("message", Guid.CreateVersion7()), ("tenant", tenant), ("user", customer.UserId)));
        Assert.Contains("quoted from a purged message", (await customer.GetAsync("/notifications?limit=50")).Text); // the control
        await older.ExecuteSqlAsync("DROP INDEX ix_notifications_message");
        await older.ExecuteSqlAsync("DROP INDEX ix_notifications_unmessaged");
        await older.ExecuteSqlAsync("CREATE INDEX ix_notifications_session ON notifications (tenant_id, session_id)");
        Assert.Equal(1, await older.ExecuteSqlAsync("DELETE FROM schemaversions WHERE scriptname LIKE '%0104_notifications_found_by_their_message.sql'"));
        await older.StopAsync();

        await older.StartAsync();
        var customers = (await customer.GetAsync("/notifications?limit=50")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(1, customers.Data.GetArrayLength());
        Assert.DoesNotContain("quoted from a purged message", customers.Text);
        Assert.Equal(agentsBefore, (await agent.GetAsync("/notifications?limit=50")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength());
        var indexes = await older.Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'notifications' ORDER BY name)");
            return (string?)await command.ExecuteScalarAsync();
        }, CancellationToken.None);
        Assert.Equal("ix_notifications_message ix_notifications_unmessaged ux_notifications_id", indexes);
    }

    private static async Task<List<string>> PlanAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(3));
        return lines;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
