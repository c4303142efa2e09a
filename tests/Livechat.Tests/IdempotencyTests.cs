using System.Net;
using System.Text;
using Livechat.Api;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>Contract section 9: Idempotency-Key on every POST, and client_message_id on messages.</summary>
public abstract class IdempotencyTests(LivechatServer server)
{
    private static Action<HttpRequestMessage> Key(string key) => request => request.Headers.Add("Idempotency-Key", key);

    private async Task<int> CountMessagesAsync(Caller caller, string session) =>
        (await caller.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK).Data.GetArrayLength();

    [Fact]
    public async Task TheSameKeyAndBodyReplaysTheFirstResponseAndWritesNothing()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var key = Guid.NewGuid().ToString();
        var first = (await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "once" }, Key(key)))
            .AssertStatus(HttpStatusCode.Created);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));

        var again = (await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "once" }, Key(key)))
            .AssertStatus(HttpStatusCode.Created);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Text, again.Text);
        Assert.Equal(1, await CountMessagesAsync(agent, session));
    }

    [Fact]
    public async Task TheSameKeyWithAnotherBodyIs422()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var key = Guid.NewGuid().ToString();
        (await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "one" }, Key(key))).AssertStatus(HttpStatusCode.Created);
        (await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "two" }, Key(key)))
            .AssertError(HttpStatusCode.UnprocessableEntity, "idempotency_key");
        Assert.Equal(1, await CountMessagesAsync(agent, session));
    }

    [Fact]
    public async Task KeysAreScopedToTheUser()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var session = await agent.StartSessionAsync();
        var user = server.TenantUser(tenant);
        var key = Guid.NewGuid().ToString();
        (await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "hi" }, Key(key))).AssertStatus(HttpStatusCode.Created);
        var other = (await user.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "hi" }, Key(key))).AssertStatus(HttpStatusCode.Created);
        Assert.False(other.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await CountMessagesAsync(agent, session));
    }

    [Fact]
    public async Task AHundredConcurrentPostsWithOneKeyCreateExactlyOneMessage()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var key = Guid.NewGuid().ToString();
        var replies = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ =>
            agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "exactly once" }, Key(key))));

        Assert.Equal(1, await CountMessagesAsync(agent, session));
        Assert.All(replies, r => Assert.True(r.Status is HttpStatusCode.Created or HttpStatusCode.Conflict, r.Text));
        var created = replies.Where(r => r.Status == HttpStatusCode.Created).ToList();
        Assert.Single(created, r => !r.Headers.Contains("Idempotent-Replayed"));
        Assert.Single(created.Select(r => r.Data.GetProperty("id").GetString()).Distinct());
        Assert.All(replies.Where(r => r.Status == HttpStatusCode.Conflict), r => r.AssertError(HttpStatusCode.Conflict, "idempotency_key"));
    }

    [Fact]
    public async Task AKeyWhoseFirstRequestIsInFlightIs409()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var key = Guid.NewGuid().ToString();
        var path = $"/livechat/sessions/{session}/messages";
        var json = System.Text.Json.JsonSerializer.Serialize(new { message = "slow" });
        // The in-flight record a first request leaves until its response is stored.
        await InsertRecordAsync(agent, key, HashOf("POST", path, json), DateTimeOffset.UtcNow, status: null);

        var reply = await agent.SendAsync(HttpMethod.Post, path, json, Key(key));
        reply.AssertError(HttpStatusCode.Conflict, "idempotency_key");
        Assert.Equal(0, await CountMessagesAsync(agent, session));
    }

    [Fact]
    public async Task ARecordOlderThan24HoursIsExpiredAndTheKeyWorksAnew()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var key = Guid.NewGuid().ToString();
        await InsertRecordAsync(agent, key, "0000", DateTimeOffset.UtcNow.AddHours(-25), status: 201);
        var reply = await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "fresh" }, Key(key));
        reply.AssertStatus(HttpStatusCode.Created);
        Assert.False(reply.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(1, await CountMessagesAsync(agent, session));
    }

    [Theory]
    [InlineData(256)]
    [InlineData(-1)]
    public async Task AMalformedKeyIs400(int length)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var key = length < 0 ? "tab\there" : new string('k', length);
        var reply = await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = "x" },
            r => r.Headers.TryAddWithoutValidation("Idempotency-Key", key));
        reply.AssertError(HttpStatusCode.BadRequest, "idempotency_key");
        Assert.Equal(0, await CountMessagesAsync(agent, session));
    }

    [Fact]
    public async Task ARefusedStartThatOpenedATicketIsReplayedWithTheSameTicket()
    {
        var tenant = await server.NewTenantAsync();
        var offline = server.Agent(tenant);
        (await offline.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        var user = server.TenantUser(tenant);
        var key = Guid.NewGuid().ToString();
        var first = await user.SendAsync(HttpMethod.Post, "/livechat/sessions", new { agent_id = offline.UserId }, Key(key));
        first.AssertError(HttpStatusCode.BadRequest, "agent_id");
        var again = await user.SendAsync(HttpMethod.Post, "/livechat/sessions", new { agent_id = offline.UserId }, Key(key));
        Assert.Equal(first.Text, again.Text);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task AResendWithTheSameClientMessageIdReturnsTheFirstMessage()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var first = (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "optimistic", client_message_id = "tmp-1" }))
            .AssertStatus(HttpStatusCode.Created);
        Assert.Equal("tmp-1", first.Data.GetProperty("client_message_id").GetString());
        var again = (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "optimistic", client_message_id = "tmp-1" }))
            .AssertStatus(HttpStatusCode.Created);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Data.ToString(), again.Data.ToString());
        Assert.Equal(1, await CountMessagesAsync(agent, session));

        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "different", client_message_id = "tmp-1" }))
            .AssertError(HttpStatusCode.UnprocessableEntity, "client_message_id");
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "x", client_message_id = "" }))
            .AssertError(HttpStatusCode.BadRequest, "client_message_id");
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "x", client_message_id = 5 }))
            .AssertError(HttpStatusCode.BadRequest, "client_message_id");
    }

    [Fact]
    public async Task ConcurrentResendsWithOneClientMessageIdStoreOneMessage()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "flaky network", client_message_id = "m-42" })));
        Assert.All(replies, r => r.AssertStatus(HttpStatusCode.Created));
        Assert.Single(replies.Select(r => r.Data.GetProperty("id").GetString()).Distinct());
        Assert.Equal(1, await CountMessagesAsync(agent, session));
    }

    private static string HashOf(string method, string path, string body)
    {
        var bytes = Encoding.UTF8.GetBytes($"{method} {path}\n{body}");
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes));
    }

    private async Task InsertRecordAsync(Caller caller, string key, string hash, DateTimeOffset createdAt, int? status)
    {
        var database = server.Services.GetRequiredService<Database>();
        await database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Sql("""
                INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, status_code, response_body, created_at)
                VALUES (@tenant, @user, @key, @hash, @status, @body, @at)
                """, transaction)
                .With("tenant", caller.TenantId).With("user", caller.UserId).With("key", key).With("hash", hash)
                .With("status", status).With("body", status is null ? null : "{}").With("at", createdAt);
            return await command.ExecuteNonQueryAsync();
        }, CancellationToken.None);
    }
}

public sealed class IdempotencyTestsOnSqlite(SqliteServer server) : IdempotencyTests(server), IClassFixture<SqliteServer>;

public sealed class IdempotencyTestsOnPostgres(PostgresServer server) : IdempotencyTests(server), IClassFixture<PostgresServer>;
