using System.Net;
using System.Text.Json;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>What operators and integrators rely on: OpenAPI, docs, health, the 500 path, the first minute.</summary>
public abstract class OperationsTests(LivechatServer server)
{
    [Fact]
    public async Task LivenessAndReadinessAnswerWithoutAuth()
    {
        (await server.SendAsync(HttpMethod.Get, "/health/live")).AssertStatus(HttpStatusCode.OK);
        var ready = (await server.SendAsync(HttpMethod.Get, "/health/ready")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Healthy", ready.Data.GetProperty("checks").GetProperty("database").GetString());
    }

    [Fact]
    public async Task AServerErrorIsA500EnvelopeWithoutStackOrSqlAndIsLoggedWithTheRequestId()
    {
        await using var broken = new LivechatServer(server.Provider);
        await broken.InitializeAsync();
        var agent = broken.Agent(await broken.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var database = broken.Services.GetRequiredService<Database>();
        await database.WriteAsync(async (connection, transaction) =>
        {
            await using var drop = connection.Sql("DROP TABLE chat_messages", transaction);
            return await drop.ExecuteNonQueryAsync();
        }, CancellationToken.None);

        var reply = await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "into the void" });
        reply.AssertError(HttpStatusCode.InternalServerError, "request");
        foreach (var leak in new[] { "chat_messages", "SQLite", "Npgsql", "42P01", "Exception", "   at ", "INSERT" })
            Assert.DoesNotContain(leak, reply.Text, StringComparison.OrdinalIgnoreCase);
        var requestId = reply.Meta.GetProperty("request_id").GetString();
        Assert.Contains(broken.Logs.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Error && l.Scopes.Any(s => s.Contains($"request_id:{requestId}", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DevelopmentStartCreatesTheDemoTenantAndLogsAWorkingAgentToken()
    {
        await using var development = new LivechatServer(server.Provider) { Environment = "Development" };
        await development.InitializeAsync();
        var line = development.Logs.Lines.Select(l => l.Message).Single(m => m.Contains("export TOKEN=", StringComparison.Ordinal));
        var token = line[(line.IndexOf("export TOKEN=", StringComparison.Ordinal) + "export TOKEN=".Length)..].Trim();
        Assert.Contains(development.Logs.Lines, l => l.Message.Contains("curl", StringComparison.Ordinal) && l.Message.Contains("/livechat/sessions", StringComparison.Ordinal));

        var reply = await development.SendAsync(HttpMethod.Post, "/livechat/sessions", token, "1", "{}");
        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(1, reply.Data.GetProperty("tenant_id").GetInt64());
    }
}

public sealed class OperationsTestsOnSqlite(SqliteServer server) : OperationsTests(server), IClassFixture<SqliteServer>;

public sealed class OperationsTestsOnPostgres(PostgresServer server) : OperationsTests(server), IClassFixture<PostgresServer>;

/// <summary>The OpenAPI document and the docs do not depend on the database: run once, on SQLite.</summary>
public sealed class OperationsDocumentTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task OpenApiDocumentDescribesTheContractShapes()
    {
        using var response = await server.Http.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.GetProperty("/livechat/sessions").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/livechat/sessions/{id}/messages").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/livechat/sessions/{id}/messages").TryGetProperty("post", out _));

        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        static string[] Names(JsonElement schema) => schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToArray();
        static string[] Required(JsonElement schema) =>
            schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(x => x.GetString()!).ToArray() : [];

        // The contract's six fields, plus the optional extensions: queue_position (section 10), the caller's
        // unread_count and the last_message (section 11), the rating (section 20), the customer, names and labels (section 18).
        Assert.Equal(["id", "tenant_id", "agent_id", "status", "created_at", "updated_at", "queue_position", "unread_count", "last_message", "rating", "customer_id", "customer_name", "agent_name", "labels"],
            Names(schemas.GetProperty("ChatSession")));
        Assert.DoesNotContain("rating", Required(schemas.GetProperty("ChatSession")));
        Assert.Equal(["session_id", "score", "created_at"], Required(schemas.GetProperty("Rating")));
        Assert.True(paths.GetProperty("/livechat/sessions/{id}/rating").TryGetProperty("post", out _));
        foreach (var report in new[] { "summary", "agents", "daily" }) Assert.True(paths.GetProperty($"/livechat/reports/{report}").TryGetProperty("get", out _));
        Assert.DoesNotContain("agent_id", Required(schemas.GetProperty("ChatSession")));
        Assert.DoesNotContain("queue_position", Required(schemas.GetProperty("ChatSession")));
        Assert.DoesNotContain("unread_count", Required(schemas.GetProperty("ChatSession")));
        Assert.DoesNotContain("last_message", Required(schemas.GetProperty("ChatSession")));
        // The contract's five fields, plus the optional client_message_id, sender_name (section 18), internal (section 16), attachments (section 15) and deleted (section 21) extensions.
        Assert.Equal(["id", "session_id", "sender_id", "message", "created_at", "client_message_id", "sender_name", "internal", "attachments", "deleted"], Names(schemas.GetProperty("ChatMessage")));
        Assert.Equal(["id", "session_id", "sender_id", "message", "created_at"], Required(schemas.GetProperty("ChatMessage")));
        Assert.Equal(["success", "message", "data", "meta", "errors"], Names(schemas.GetProperty("ApiResponseOfChatSession")));
        Assert.Contains("request_id", Names(schemas.GetProperty("Meta")));
        Assert.Contains("pagination", Names(schemas.GetProperty("Meta")));
        var pagination = schemas.GetProperty("Pagination");
        Assert.Equal(["next_cursor", "prev_cursor", "has_next", "has_prev", "limit"], Names(pagination));
        Assert.Equal(["has_next", "has_prev", "limit"], Required(pagination));
        Assert.Equal("integer", schemas.GetProperty("ChatSession").GetProperty("properties").GetProperty("tenant_id").GetProperty("type").ToString());
        Assert.Empty(Required(schemas.GetProperty("StartSessionRequest")));
    }

    [Fact]
    public async Task BrowsableDocsAreServed()
    {
        using var response = await server.Http.GetAsync("/docs/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
