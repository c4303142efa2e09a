using System.Net;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>
/// SQLite read connections stay open with their prepared commands and go back to a pool
/// (Data/SqliteKeptConnection.cs): concurrent readers must never share one, and a read that fails must not
/// spoil the connection for the next.
/// </summary>
public sealed class SqliteReadConnectionTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task ConcurrentReadsEachSeeTheirOwnSessionsMessages()
    {
        var tenant = await server.NewTenantAsync();
        var conversations = new List<(Caller Agent, string Session)>();
        for (var i = 0; i < 12; i++)
        {
            var agent = server.Agent(tenant);
            var session = await agent.StartSessionAsync();
            await agent.SendMessageAsync(session, $"only in {session}");
            conversations.Add((agent, session));
        }

        var reads = await Task.WhenAll(Enumerable.Range(0, 240).Select(async i =>
        {
            var (agent, session) = conversations[i % conversations.Count];
            var page = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data;
            return (session, Texts: page.EnumerateArray().Select(m => m.GetProperty("message").GetString()).ToList());
        }));

        Assert.All(reads, read => Assert.Equal([$"only in {read.session}"], read.Texts));
    }

    [Fact]
    public async Task AReadThatFailsLeavesItsConnectionFitForTheNext()
    {
        var database = server.Services.GetRequiredService<Database>();
        for (var i = 0; i < 40; i++)
        {
            await Assert.ThrowsAsync<SqliteException>(() => database.ReadAsync(async connection =>
            {
                await using var command = connection.Sql("SELECT no_such_column FROM tenants");
                return await command.ExecuteScalarAsync();
            }, CancellationToken.None));
        }
        // A reader left half-read by an exception is disposed with its command: the next read starts clean.
        await Assert.ThrowsAsync<InvalidOperationException>(() => database.ReadAsync<int>(async connection =>
        {
            await using var command = connection.Sql("SELECT id FROM tenants");
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            throw new InvalidOperationException("the caller gave up half-way");
        }, CancellationToken.None));

        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        await agent.SendMessageAsync(session, "still readable");
        var listed = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")));
        Assert.All(listed, reply => Assert.Equal("still readable", reply.AssertStatus(HttpStatusCode.OK).Data[0].GetProperty("message").GetString()));
    }
}
