using System.Net;
using CsCheck;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests.Security;

/// <summary>
/// Property-based pagination invariants (API4: a client can always walk a list to its end, in bounded pages,
/// and never loops or skips). For a generated number of messages (0..60) and generated page sizes (1..20,
/// changing from page to page), walking forward by <c>next_cursor</c> and backward by <c>prev_cursor</c>
/// (<c>direction=backward</c>) both yield every message exactly once, in order; and on every page
/// <c>has_next</c>/<c>has_prev</c> say whether messages exist after/before it, <c>next_cursor</c> is the last
/// item's id iff <c>has_next</c>, <c>prev_cursor</c> the first item's id iff <c>has_prev</c>, items are
/// ascending, and <c>limit</c> echoes the request.
/// </summary>
public abstract class PaginationPropertyTests(LivechatServer server)
{
    private static readonly Gen<(int Count, int[] Sizes)> Cases = Gen.Select(Gen.Int[0, 60], Gen.Int[1, 20].Array[1, 6]);

    [Fact]
    public async Task WalkingForwardAndBackwardYieldsEveryMessageOnceInOrderWithConsistentPagination()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await Cases.SampleAsync(async (count, sizes) =>
        {
            // Each case has its own session: an agent has one open session at a time, so close it afterwards.
            var session = await agent.StartSessionAsync();
            var truth = new List<string>();
            for (var i = 0; i < count; i++) truth.Add((await agent.SendMessageAsync(session, $"m{i}")).Text("id"));
            var path = $"/livechat/sessions/{session}/messages";

            var forward = new List<string>();
            string? cursor = null;
            for (var page = 0; ; page++)
            {
                Assert.True(page <= count + 1, "the forward walk does not end");
                var size = sizes[page % sizes.Length];
                var reply = (await agent.GetAsync($"{path}?limit={size}{(cursor is null ? "" : $"&cursor={cursor}")}")).AssertStatus(HttpStatusCode.OK);
                var ids = AssertPage(reply, size, truth);
                forward.AddRange(ids);
                if (cursor is not null) Assert.NotEmpty(ids); // a page after a cursor is never empty here: has_next promised more
                cursor = reply.Cursor("next_cursor");
                if (cursor is null) break;
            }
            Assert.Equal(truth, forward);

            var backward = new List<string>();
            cursor = null;
            for (var page = 0; ; page++)
            {
                Assert.True(page <= count + 1, "the backward walk does not end");
                var size = sizes[page % sizes.Length];
                var reply = (await agent.GetAsync($"{path}?limit={size}&direction=backward{(cursor is null ? "" : $"&cursor={cursor}")}")).AssertStatus(HttpStatusCode.OK);
                var ids = AssertPage(reply, size, truth);
                if (cursor is null && count > 0) Assert.Equal(truth[^ids.Count..], ids); // opens at the newest messages
                backward.InsertRange(0, ids);
                cursor = reply.Cursor("prev_cursor");
                if (cursor is null) break;
            }
            Assert.Equal(truth, backward);
            (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        }, iter: 30, threads: 1, print: c => $"{c.Item1} messages, page sizes [{string.Join(",", c.Item2)}]");
    }

    /// <summary>Checks one page against the ground truth and the contract's rules; returns its ids.</summary>
    private static List<string> AssertPage(Reply reply, int size, List<string> truth)
    {
        var ids = reply.Ids();
        var pagination = reply.Pagination;
        Assert.Equal(size, pagination.GetProperty("limit").GetInt32());
        Assert.InRange(ids.Count, 0, size);
        var hasNext = pagination.GetProperty("has_next").GetBoolean();
        var hasPrev = pagination.GetProperty("has_prev").GetBoolean();
        var next = reply.Cursor("next_cursor");
        var prev = reply.Cursor("prev_cursor");
        Assert.Equal(hasNext, next is not null);
        Assert.Equal(hasPrev, prev is not null);
        if (ids.Count == 0)
        {
            Assert.Empty(truth);
            Assert.False(hasNext);
            Assert.False(hasPrev);
            return ids;
        }
        // A contiguous, ascending slice of the truth.
        var first = truth.IndexOf(ids[0]);
        Assert.True(first >= 0, $"unknown id {ids[0]}");
        Assert.Equal(truth.Skip(first).Take(ids.Count), ids);
        var last = first + ids.Count - 1;
        Assert.Equal(last < truth.Count - 1, hasNext);
        Assert.Equal(first > 0, hasPrev);
        if (hasNext) Assert.Equal(ids[^1], next);
        if (hasPrev) Assert.Equal(ids[0], prev);
        return ids;
    }
}

public sealed class PaginationPropertyTestsOnSqlite(SqliteServer server) : PaginationPropertyTests(server), IClassFixture<SqliteServer>;

public sealed class PaginationPropertyTestsOnPostgres(PostgresServer server) : PaginationPropertyTests(server), IClassFixture<PostgresServer>;
