using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 5, listing: cursor pagination, forward and backward, total and stable order.</summary>
public abstract class PaginationTests(LivechatServer server)
{
    private async Task<(Caller Agent, string Session, List<string> Ids)> SessionWithMessagesAsync(int count)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var ids = new List<string>();
        for (var i = 0; i < count; i++) ids.Add((await agent.SendMessageAsync(session, $"message {i}")).GetProperty("id").GetString()!);
        return (agent, session, ids);
    }

    [Theory]
    [InlineData("")]
    [InlineData("limit=")]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=-1")]
    [InlineData("limit=abc")]
    [InlineData("limit=2.5")]
    public async Task LimitIsRequiredAndWithin1To100(string query)
    {
        var (agent, session, _) = await SessionWithMessagesAsync(1);
        (await agent.GetAsync($"/livechat/sessions/{session}/messages?{query}")).AssertError(HttpStatusCode.BadRequest, "limit");
    }

    [Fact]
    public async Task LimitOf100IsAccepted()
    {
        var (agent, session, _) = await SessionWithMessagesAsync(1);
        var reply = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(100, reply.Pagination.GetProperty("limit").GetInt32());
    }

    [Fact]
    public async Task AMalformedUnknownOrForeignCursorIs400()
    {
        var (agent, session, _) = await SessionWithMessagesAsync(2);
        (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5&cursor=nope")).AssertError(HttpStatusCode.BadRequest, "cursor");
        (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5&cursor={Guid.CreateVersion7()}")).AssertError(HttpStatusCode.BadRequest, "cursor");

        // A message id of another session, even of the same tenant, is not a cursor here.
        var colleague = server.Agent(agent.TenantId);
        var otherSession = await colleague.StartSessionAsync();
        var foreign = (await colleague.SendMessageAsync(otherSession, "elsewhere")).GetProperty("id").GetString();
        (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5&cursor={foreign}")).AssertError(HttpStatusCode.BadRequest, "cursor");
    }

    [Fact]
    public async Task ADirectionOtherThanForwardOrBackwardIs400()
    {
        var (agent, session, _) = await SessionWithMessagesAsync(1);
        (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5&direction=sideways")).AssertError(HttpStatusCode.BadRequest, "direction");
    }

    [Fact]
    public async Task AnEmptySessionHasAnEmptyPageWithoutCursors()
    {
        var (agent, session, _) = await SessionWithMessagesAsync(0);
        var reply = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, reply.Data.GetArrayLength());
        Assert.False(reply.Pagination.GetProperty("has_next").GetBoolean());
        Assert.False(reply.Pagination.GetProperty("has_prev").GetBoolean());
        Assert.Null(reply.Cursor("next_cursor"));
        Assert.Null(reply.Cursor("prev_cursor"));
    }

    [Fact]
    public async Task ForwardPagesFollowNextCursorWithExactFlags()
    {
        var (agent, session, ids) = await SessionWithMessagesAsync(5);

        var first = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=2")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ids[..2], first.Ids());
        Assert.True(first.Pagination.GetProperty("has_next").GetBoolean());
        Assert.False(first.Pagination.GetProperty("has_prev").GetBoolean());
        Assert.Equal(ids[1], first.Cursor("next_cursor"));
        Assert.Null(first.Cursor("prev_cursor"));
        Assert.Equal(2, first.Pagination.GetProperty("limit").GetInt32());

        var second = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=2&cursor={first.Cursor("next_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ids[2..4], second.Ids());
        Assert.True(second.Pagination.GetProperty("has_next").GetBoolean());
        Assert.True(second.Pagination.GetProperty("has_prev").GetBoolean());
        Assert.Equal(ids[2], second.Cursor("prev_cursor"));

        var last = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=2&cursor={second.Cursor("next_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ids[4..], last.Ids());
        Assert.False(last.Pagination.GetProperty("has_next").GetBoolean());
        Assert.Null(last.Cursor("next_cursor"));
        Assert.True(last.Pagination.GetProperty("has_prev").GetBoolean());

        // A page that ends exactly at the last message says there is nothing after it.
        var exact = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=5")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ids, exact.Ids());
        Assert.False(exact.Pagination.GetProperty("has_next").GetBoolean());
    }

    [Fact]
    public async Task BackwardOpensAtTheNewestAndScrollsBackWithPrevCursor()
    {
        var (agent, session, ids) = await SessionWithMessagesAsync(5);

        var newest = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=2&direction=backward")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ids[3..], newest.Ids());
        Assert.False(newest.Pagination.GetProperty("has_next").GetBoolean());
        Assert.True(newest.Pagination.GetProperty("has_prev").GetBoolean());
        Assert.Equal(ids[3], newest.Cursor("prev_cursor"));

        var older = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=2&direction=backward&cursor={newest.Cursor("prev_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ids[1..3], older.Ids());
        Assert.True(older.Pagination.GetProperty("has_next").GetBoolean());
        Assert.Equal(ids[2], older.Cursor("next_cursor"));

        var oldest = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=2&direction=backward&cursor={older.Cursor("prev_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ids[..1], oldest.Ids());
        Assert.False(oldest.Pagination.GetProperty("has_prev").GetBoolean());
        Assert.Null(oldest.Cursor("prev_cursor"));

        // Going forward again from a backward page's next_cursor continues where it left off.
        var forward = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=2&cursor={oldest.Cursor("next_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ids[1..3], forward.Ids());
    }

    [Fact]
    public async Task WalkingBackwardWhileOthersWriteFindsEveryOlderMessageOnceInOrder()
    {
        var (agent, session, initial) = await SessionWithMessagesAsync(40);
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested && i < 30; i++) await agent.SendMessageAsync(session, $"late writer {w} message {i}");
        })).ToArray();

        // Open at the newest page, then scroll back page by page while the writers keep adding newer messages.
        var walked = new List<string>();
        string? cursor = null;
        do
        {
            var reply = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=6&direction=backward{(cursor is null ? "" : "&cursor=" + cursor)}"))
                .AssertStatus(HttpStatusCode.OK);
            walked.InsertRange(0, reply.Ids());
            cursor = reply.Cursor("prev_cursor");
        } while (cursor is not null);
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        Assert.Equal(walked.Count, walked.Distinct().Count());
        // Everything that existed before the walk began is there, oldest first, exactly as the session orders it.
        Assert.Equal(initial, walked.Take(initial.Count));
        var truth = new List<string>();
        cursor = null;
        do
        {
            var reply = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100{(cursor is null ? "" : "&cursor=" + cursor)}")).AssertStatus(HttpStatusCode.OK);
            truth.AddRange(reply.Ids());
            cursor = reply.Cursor("next_cursor");
        } while (cursor is not null);
        Assert.Equal(truth.Take(walked.Count), walked);
    }

    [Fact]
    public async Task WalkingEveryPageWhileOthersWriteFindsEachMessageOnceInOrder()
    {
        var (agent, session, initial) = await SessionWithMessagesAsync(30);
        var colleague = server.TenantUser(agent.TenantId);
        var writersDone = false;
        var written = new System.Collections.Concurrent.ConcurrentBag<string>(initial);

        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var writer = w % 2 == 0 ? agent : colleague;
            for (var i = 0; i < 15; i++)
                written.Add((await writer.SendMessageAsync(session, $"writer {w} message {i}")).GetProperty("id").GetString()!);
        })).ToArray();

        // Walk forward repeatedly until the writers are done and a final walk reaches the end.
        var seen = new List<string>();
        string? cursor = null;
        while (true)
        {
            var reply = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=7{(cursor is null ? "" : "&cursor=" + cursor)}")).AssertStatus(HttpStatusCode.OK);
            var ids = reply.Ids();
            seen.AddRange(ids);
            if (ids.Count > 0) cursor = ids[^1];
            if (!reply.Pagination.GetProperty("has_next").GetBoolean())
            {
                if (writersDone) break;
                if (writers.All(t => t.IsCompleted))
                {
                    await Task.WhenAll(writers);
                    writersDone = true;
                }
                else
                {
                    await Task.Delay(5);
                }
            }
        }

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(written.OrderBy(x => x).ToList(), seen.OrderBy(x => x).ToList());

        // The walk's order is the session's one order, which a fresh walk and a backward walk agree on.
        var again = new List<string>();
        cursor = null;
        do
        {
            var reply = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100{(cursor is null ? "" : "&cursor=" + cursor)}")).AssertStatus(HttpStatusCode.OK);
            again.AddRange(reply.Ids());
            cursor = reply.Pagination.TryGetProperty("next_cursor", out var next) ? next.GetString() : null;
        } while (cursor is not null);
        Assert.Equal(seen, again);

        var backward = new List<string>();
        cursor = null;
        do
        {
            var reply = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=9&direction=backward{(cursor is null ? "" : "&cursor=" + cursor)}")).AssertStatus(HttpStatusCode.OK);
            backward.InsertRange(0, reply.Ids());
            cursor = reply.Pagination.TryGetProperty("prev_cursor", out var prev) ? prev.GetString() : null;
        } while (cursor is not null);
        Assert.Equal(seen, backward);

        // And it is chronological: created_at never goes back.
        var times = new List<string>();
        cursor = null;
        do
        {
            var reply = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100{(cursor is null ? "" : "&cursor=" + cursor)}")).AssertStatus(HttpStatusCode.OK);
            times.AddRange(reply.Data.EnumerateArray().Select(m => m.GetProperty("created_at").GetString()!));
            cursor = reply.Pagination.TryGetProperty("next_cursor", out var next) ? next.GetString() : null;
        } while (cursor is not null);
        Assert.Equal(times.OrderBy(t => t, StringComparer.Ordinal), times);
    }
}

public sealed class PaginationTestsOnSqlite(SqliteServer server) : PaginationTests(server), IClassFixture<SqliteServer>;

public sealed class PaginationTestsOnPostgres(PostgresServer server) : PaginationTests(server), IClassFixture<PostgresServer>;
