using System.Net;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 20: a session's customer rates it once, after it closed; every other case is refused and stores nothing.</summary>
public abstract class RatingTests(LivechatServer server)
{
    private async Task<(Caller Agent, Caller Customer, string Session)> ClosedConversationAsync()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        return (agent, customer, session);
    }

    /// <summary>The rating figures of the caller's tenant over the days around now (each test has a tenant of its own).</summary>
    private static async Task<System.Text.Json.JsonElement> ReportedRatingAsync(Caller agent)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        return (await agent.GetAsync($"/livechat/reports/summary?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}"))
            .AssertStatus(HttpStatusCode.OK).Data.GetProperty("rating");
    }

    [Fact]
    public async Task TheCustomerRatesAClosedSessionOnceAndEveryReadShowsIt()
    {
        var (agent, customer, session) = await ClosedConversationAsync();
        await using var stream = await SseClient.OpenUserStreamAsync(server, agent);

        var rating = (await customer.PostAsync($"/livechat/sessions/{session}/rating", new { score = 4, comment = "Quick and kind." }))
            .AssertStatus(HttpStatusCode.Created).Data;
        Assert.True(rating.EnumerateObject().Select(p => p.Name).ToHashSet().SetEquals(["session_id", "score", "comment", "created_at"]), rating.ToString());
        Assert.Equal(session, rating.Text("session_id"));
        Assert.Equal(4, rating.GetProperty("score").GetInt32());
        Assert.Equal("Quick and kind.", rating.Text("comment"));
        Assert.Matches(Formats.Timestamp, rating.Text("created_at"));

        // The session's own reads carry it, for the agent as for the customer, in the list too.
        Assert.Equal(rating.ToString(), (await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data.GetProperty("rating").ToString());
        var listed = (await customer.GetAsync("/livechat/sessions?limit=10")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().Single(s => s.Text("id") == session);
        Assert.Equal(rating.ToString(), listed.GetProperty("rating").ToString());
        // The agent hears it on its stream, with the rating as its data.
        Assert.Equal(rating.ToString(), (await stream.NextNamedAsync("sessionRated")).ToString());

        // Once: a second rating is refused, and the first one stays, in the session and in the reports.
        (await customer.PostAsync($"/livechat/sessions/{session}/rating", new { score = 1 })).AssertError(HttpStatusCode.Conflict, "request");
        Assert.Equal(rating.ToString(), (await agent.GetAsync($"/livechat/sessions/{session}")).Data.GetProperty("rating").ToString());
        var reported = await ReportedRatingAsync(agent);
        Assert.Equal(1, reported.GetProperty("count").GetInt64());
        Assert.Equal(4, reported.GetProperty("average").GetDouble());
    }

    [Fact]
    public async Task ASessionWithoutARatingHasNoRatingField()
    {
        var (agent, _, session) = await ClosedConversationAsync();
        Assert.False((await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data.TryGetProperty("rating", out _));
    }

    [Fact]
    public async Task ACommentIsOptionalAndUpToAThousandCharacters()
    {
        var (_, customer, session) = await ClosedConversationAsync();
        var rating = (await customer.PostAsync($"/livechat/sessions/{session}/rating", new { score = 5, comment = new string('é', 999) + "😀" }))
            .AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal(new string('é', 999) + "😀", rating.Text("comment"));

        var (_, other, second) = await ClosedConversationAsync();
        var bare = (await other.PostAsync($"/livechat/sessions/{second}/rating", new { score = 1 })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.False(bare.TryGetProperty("comment", out _));
    }

    [Fact]
    public async Task EachRuleRefusesWithItsStatusAndStoresNothing()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        var path = $"/livechat/sessions/{session}/rating";

        // Still open.
        (await customer.PostAsync(path, new { score = 5 })).AssertError(HttpStatusCode.Conflict, "status");
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);

        // Bad input, each on its key.
        foreach (var body in new object[] { new { }, new { score = 0 }, new { score = 6 }, new { score = 2.5 }, new { score = "5" }, new { score = (int?)null } })
            (await customer.PostAsync(path, body)).AssertError(HttpStatusCode.BadRequest, "score");
        foreach (var body in new object[] { new { score = 5, comment = new string('x', 1001) }, new { score = 5, comment = (object)12 }, new { score = 5, comment = "bell\u0007" } })
            (await customer.PostAsync(path, body)).AssertError(HttpStatusCode.BadRequest, "comment");
        (await customer.PostAsync("/livechat/sessions/not-a-uuid/rating", new { score = 5 })).AssertError(HttpStatusCode.BadRequest, "id");

        // Anyone but the customer: the agent, another user of the tenant.
        (await agent.PostAsync(path, new { score = 5 })).AssertStatus(HttpStatusCode.Forbidden);
        (await server.TenantUser(customer.TenantId).PostAsync(path, new { score = 5 })).AssertStatus(HttpStatusCode.Forbidden);

        // Another tenant's session, and no session at all, do not exist.
        var (_, stranger, _) = await server.ConversationAsync();
        (await stranger.PostAsync(path, new { score = 5 })).AssertStatus(HttpStatusCode.NotFound);
        (await customer.PostAsync($"/livechat/sessions/{Guid.CreateVersion7()}/rating", new { score = 5 })).AssertStatus(HttpStatusCode.NotFound);

        // Nothing was stored: no rating on the session, none in the reports' facts, and the customer may still rate it.
        Assert.False((await agent.GetAsync($"/livechat/sessions/{session}")).Data.TryGetProperty("rating", out _));
        Assert.Equal(0, (await ReportedRatingAsync(agent)).GetProperty("count").GetInt64());
        Assert.Equal(2, (await customer.PostAsync(path, new { score = 2 })).AssertStatus(HttpStatusCode.Created).Data.GetProperty("score").GetInt32());
        // The positive control: the same report, on the same tenant, counts the rating that was stored.
        Assert.Equal(1, (await ReportedRatingAsync(agent)).GetProperty("distribution").GetProperty("2").GetInt64());
    }

    [Fact]
    public async Task ConcurrentRatingsStoreExactlyOne()
    {
        var (agent, customer, session) = await ClosedConversationAsync();
        var replies = await Task.WhenAll(Enumerable.Range(1, 5).SelectMany(_ => Enumerable.Range(1, 5))
            .Select(score => customer.PostAsync($"/livechat/sessions/{session}/rating", new { score })));

        var won = Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.All(replies.Where(r => r != won), r => r.AssertError(HttpStatusCode.Conflict, "request"));
        Assert.Equal(won.Data.ToString(), (await agent.GetAsync($"/livechat/sessions/{session}")).Data.GetProperty("rating").ToString());
    }
}

public sealed class RatingTestsOnSqlite(SqliteServer server) : RatingTests(server), IClassFixture<SqliteServer>;

public sealed class RatingTestsOnPostgres(PostgresServer server) : RatingTests(server), IClassFixture<PostgresServer>;
