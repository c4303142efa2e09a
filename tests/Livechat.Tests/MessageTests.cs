using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 5: sending messages.</summary>
public abstract class MessageTests(LivechatServer server)
{
    private async Task<(Caller Agent, string Session)> OpenSessionAsync()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        return (agent, await agent.StartSessionAsync());
    }

    [Fact]
    public async Task SendingReturns201WithTheStoredMessage()
    {
        var (agent, session) = await OpenSessionAsync();
        var reply = (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "Halo, ada yang bisa dibantu?" }))
            .AssertStatus(HttpStatusCode.Created);
        Assert.Equal(session, reply.Data.GetProperty("session_id").GetString());
        Assert.Equal(agent.UserId, reply.Data.GetProperty("sender_id").GetInt64());
        Assert.Equal("Halo, ada yang bisa dibantu?", reply.Data.GetProperty("message").GetString());

        var page = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(reply.Data.ToString(), page.Data[0].ToString());
    }

    [Fact]
    public async Task ServerOwnedFieldsInTheBodyAreIgnored()
    {
        var (agent, session) = await OpenSessionAsync();
        var forgedId = Guid.NewGuid().ToString();
        var sentAt = DateTimeOffset.UtcNow;
        var reply = (await agent.PostAsync($"/livechat/sessions/{session}/messages", new
        {
            message = "hi",
            id = forgedId,
            session_id = Guid.NewGuid().ToString(),
            sender_id = 1,
            created_at = "2000-01-01T00:00:00Z",
        })).AssertStatus(HttpStatusCode.Created);
        Assert.NotEqual(forgedId, reply.Data.GetProperty("id").GetString());
        Assert.Equal(session, reply.Data.GetProperty("session_id").GetString());
        Assert.Equal(agent.UserId, reply.Data.GetProperty("sender_id").GetInt64());
        // The server's clock, not the forged 2000-01-01: within the request's own time (a second's slack for clocks).
        var createdAt = DateTimeOffset.Parse(reply.Data.GetProperty("created_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(createdAt, sentAt.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    public static TheoryData<string, string> InvalidMessages() => new()
    {
        { "missing", "{}" },
        { "null", "{\"message\": null}" },
        { "number", "{\"message\": 42}" },
        { "array", "{\"message\": [\"hi\"]}" },
        { "empty", "{\"message\": \"\"}" },
        { "white space", "{\"message\": \"  \\n\\t \"}" },
        { "5001 characters", $"{{\"message\": \"{new string('a', 5001)}\"}}" },
        { "NUL character", "{\"message\": \"a\\u0000b\"}" },
        { "lone surrogate", "{\"message\": \"a\\ud800b\"}" },
        { "lone low surrogate", "{\"message\": \"\\udc00\"}" },
    };

    [Theory]
    [MemberData(nameof(InvalidMessages))]
    public async Task AnInvalidMessageIs400AndStoresNothing(string why, string json)
    {
        var (agent, session) = await OpenSessionAsync();
        var reply = await agent.PostAsync($"/livechat/sessions/{session}/messages", json);
        Assert.True(reply.Status == HttpStatusCode.BadRequest, why);
        reply.AssertError(HttpStatusCode.BadRequest, "message");
        var page = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, page.Data.GetArrayLength());
    }

    [Fact]
    public async Task InvalidUtf8Is400NotA500()
    {
        var (agent, session) = await OpenSessionAsync();
        var reply = await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", null, request =>
        {
            request.Content = new ByteArrayContent([.. "{\"message\":\"a"u8, 0xFF, 0xFE, .. "b\"}"u8]);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        });
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Envelope.AssertShape(reply);
    }

    [Fact]
    public async Task FiveThousandCharactersAreAcceptedCountingEmojiAsOne()
    {
        var (agent, session) = await OpenSessionAsync();
        await agent.SendMessageAsync(session, new string('a', 5000));
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 5000)); // 10,000 UTF-16 units, 5,000 characters
        var stored = await agent.SendMessageAsync(session, emoji);
        Assert.Equal(emoji, stored.GetProperty("message").GetString());
    }

    [Fact]
    public async Task TextIsStoredAndReturnedVerbatim()
    {
        var (agent, session) = await OpenSessionAsync();
        const string text = "'; DROP TABLE chat_messages; --\n<script>alert(1)</script>\tÜñíçødé 你好";
        var stored = await agent.SendMessageAsync(session, text);
        Assert.Equal(text, stored.GetProperty("message").GetString());
        var page = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(text, page.Data[0].GetProperty("message").GetString());
    }

    /// <summary>
    /// Unknown here, or another tenant's: 404, and no row. Nothing but the insert itself guards this (it selects
    /// the session it writes to); on PostgreSQL no foreign key checks it again (migration 0032).
    /// </summary>
    [Fact]
    public async Task SendingToAnUnknownSessionIs404AndStoresNothing()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var unknown = Guid.CreateVersion7();
        (await agent.PostAsync($"/livechat/sessions/{unknown}/messages", new { message = "hi" })).AssertError(HttpStatusCode.NotFound, "request");
        var otherTenants = await server.Agent(await server.NewTenantAsync()).StartSessionAsync();
        (await agent.PostAsync($"/livechat/sessions/{otherTenants}/messages", new { message = "hi" })).AssertError(HttpStatusCode.NotFound, "request");

        const string Count = "UPDATE chat_messages SET message = message WHERE session_id = @session";
        Assert.Equal(0, await server.ExecuteSqlAsync(Count, ("session", unknown)));
        Assert.Equal(0, await server.ExecuteSqlAsync(Count, ("session", Guid.Parse(otherTenants))));
        var own = await agent.StartSessionAsync();
        await agent.SendMessageAsync(own, "stored");
        Assert.Equal(1, await server.ExecuteSqlAsync(Count, ("session", Guid.Parse(own)))); // the count sees a stored message
    }

    [Fact]
    public async Task AnAcknowledgedMessageSurvivesARestart()
    {
        await using var own = new LivechatServer(server.Provider);
        await own.InitializeAsync();
        var agent = own.Agent(await own.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var sent = await agent.SendMessageAsync(session, "still here after a restart");

        await own.StopAsync();
        await own.StartAsync();

        var page = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(sent.ToString(), page.Data[0].ToString());
    }
}

public sealed class MessageTestsOnSqlite(SqliteServer server) : MessageTests(server), IClassFixture<SqliteServer>;

public sealed class MessageTestsOnPostgres(PostgresServer server) : MessageTests(server), IClassFixture<PostgresServer>;
