using System.Diagnostics;
using System.Net;
using Livechat.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Livechat.Tests;

/// <summary>A server with a one-second request timeout.</summary>
public sealed class ImpatientServer : LivechatServer
{
    public ImpatientServer() : base(DatabaseProvider.Sqlite) => Settings["Livechat:Limits:RequestTimeoutSeconds"] = "1";
}

/// <summary>Issue 6: a request that cannot finish in time is answered 503 on time, and nothing hangs.</summary>
public sealed class TimeoutTests(ImpatientServer server) : IClassFixture<ImpatientServer>
{
    [Fact]
    public async Task AWriteStuckBehindALockedDatabaseIsA503WithinTheTimeoutAndTheServiceCarriesOn()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();

        // Another process (here: this test) holds SQLite's write lock, as a long `migrate` or a backup might.
        await using (var blocker = new SqliteConnection($"Data Source={Path.Combine(server.Folder, "livechat.db")};Pooling=false"))
        {
            await blocker.OpenAsync();
            await using var hold = blocker.BeginTransaction(deferred: false);
            var clock = Stopwatch.StartNew();
            var reply = await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "stuck" });
            clock.Stop();
            reply.AssertError(HttpStatusCode.ServiceUnavailable, "request");
            Assert.True(reply.Headers.Contains("Retry-After"));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"answered after {clock.Elapsed}");
            await hold.RollbackAsync();
        }

        // Once the lock is gone, writes go through again.
        var deadline = Stopwatch.StartNew();
        Reply? sent = null;
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            sent = await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "unstuck" });
            if (sent.Status == HttpStatusCode.Created) break;
            await Task.Delay(200);
        }
        sent!.AssertStatus(HttpStatusCode.Created);
    }
}
