using System.Net;
using Livechat.Data;
using Livechat.Privacy;
using Livechat.Search;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>
/// SQLite's table of the search index's words (<c>message_search_words</c>, migration 0101), where a prefix is looked
/// up: written by the send and by the backfill, emptied of the words erasure and retention leave in no message.
/// </summary>
public sealed class SearchWordsTests(PrivacySqliteServer server) : IClassFixture<PrivacySqliteServer>
{
    private static string Search(string q, string extra = "") => $"/livechat/search?q={Uri.EscapeDataString(q)}{extra}";

    private static async Task<List<string>> FoundAsync(Caller caller, string q, string extra = "") =>
        [.. (await caller.GetAsync(Search(q, extra))).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().Select(h => h.GetProperty("message").Text("message"))];

    /// <summary>The table's entries that begin with <paramref name="prefix"/>, in order.</summary>
    private Task<List<string>> WordsAsync(string prefix, string table = "message_search_words") =>
        server.Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT word FROM {table} WHERE word >= @prefix AND word < @past ORDER BY word")
                .With("prefix", prefix).With("past", prefix + "{");
            await using var reader = await command.ExecuteReaderAsync();
            var words = new List<string>();
            while (await reader.ReadAsync()) words.Add(reader.GetString(0));
            return words;
        }, CancellationToken.None);

    private async Task<Caller> AgentAsync(long? tenant = null)
    {
        var agent = server.Agent(tenant ?? await server.NewTenantAsync());
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 20 })).AssertStatus(HttpStatusCode.OK);
        return agent;
    }

    [Fact]
    public async Task APrefixFindsTheWordsTheSendWroteAndThoseTheBackfillWrote()
    {
        var agent = await AgentAsync();
        var session = await agent.StartSessionAsync();
        await agent.SendMessageAsync(session, "Kwixotic Zümbürük naïveté, Straßenbahn x²");

        Assert.Equal(["kwixotic"], await WordsAsync("kwix"));
        Assert.Equal(["zumburuk"], await WordsAsync("zumbu"));
        Assert.Equal(["stra*"], await WordsAsync("stra")); // a word that goes on beyond ASCII: its beginning
        Assert.Equal(["Kwixotic Zümbürük naïveté, Straßenbahn x²"], await FoundAsync(agent, "kwixo"));
        Assert.Equal(["Kwixotic Zümbürük naïveté, Straßenbahn x²"], await FoundAsync(agent, "ZUMB"));
        Assert.Equal(["Kwixotic Zümbürük naïveté, Straßenbahn x²"], await FoundAsync(agent, "naivet"));
        Assert.Equal(["Kwixotic Zümbürük naïveté, Straßenbahn x²"], await FoundAsync(agent, "kwixotic stra")); // through the index's vocabulary
        Assert.Equal(["Kwixotic Zümbürük naïveté, Straßenbahn x²"], await FoundAsync(agent, "kwixotic x"));

        // A message from before search existed: no entry, no row, and its words not in the table.
        await agent.SendMessageAsync(session, "legacy flubbertigibbet report");
        await server.ExecuteSqlAsync("""
            DELETE FROM message_search WHERE rowid IN (SELECT search_row FROM chat_messages WHERE tenant_id = @tenant AND message LIKE 'legacy%')
            """, ("tenant", agent.TenantId));
        await server.ExecuteSqlAsync("UPDATE chat_messages SET search_row = NULL WHERE tenant_id = @tenant AND message LIKE 'legacy%'", ("tenant", agent.TenantId));
        await server.ExecuteSqlAsync("DELETE FROM message_search_words WHERE word IN ('legacy', 'flubbertigibbet')");
        Assert.Empty(await FoundAsync(agent, "flubber"));

        Assert.True(await server.Services.GetRequiredService<SearchBackfill>().RunAsync(CancellationToken.None) >= 1);
        Assert.Equal(["flubbertigibbet"], await WordsAsync("flubber"));
        Assert.Equal(["legacy flubbertigibbet report"], await FoundAsync(agent, "flubber"));
    }

    /// <summary>
    /// A prefix that begins more words than the old cap of 100 is still searched as its words (at most
    /// <see cref="SearchStore.MaxPrefixWords"/>), and another tenant's words only widen the OR: they find nothing here.
    /// </summary>
    [Fact]
    public async Task APrefixOfMoreThanAHundredWordsFindsThemAllAndNothingCrossesTenants()
    {
        var agent = await AgentAsync();
        var other = await AgentAsync();
        var theirs = await other.StartSessionAsync();
        await other.SendMessageAsync(theirs, "vqz999 belongs to another tenant");
        var session = await agent.StartSessionAsync();
        for (var i = 0; i < 150; i++) await agent.SendMessageAsync(session, $"ticket vqz{i} opened");

        Assert.InRange((await WordsAsync("vqz")).Count, 101, SearchStore.MaxPrefixWords); // 151: beyond the old cap, within the new
        Assert.Equal(100, (await FoundAsync(agent, "vqz", "&limit=100")).Count);
        Assert.Equal(150, (await agent.WalkAsync(Search("vqz", "&limit=60"))).Count);
        Assert.Equal(61, (await FoundAsync(agent, "ticket vqz1", "&limit=100")).Count); // vqz1, vqz10..19, vqz100..149
        Assert.Equal(["ticket vqz149 opened"], await FoundAsync(agent, "vqz149"));
        Assert.Empty(await FoundAsync(agent, "vqz999"));                                  // the other tenant's word
        Assert.Equal(["vqz999 belongs to another tenant"], await FoundAsync(other, "vqz", "&limit=100"));
    }

    [Fact]
    public async Task AnErasureTakesAWordOnlyItsUserWroteOutOfTheTableAndKeepsWordsOthersWrote()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 5 })).AssertStatus(HttpStatusCode.OK);
        var erased = server.TenantUser(tenant);
        var kept = server.TenantUser(tenant);
        var first = await erased.StartSessionAsync(agent.UserId);
        await erased.SendMessageAsync(first, "my name is Zorblaxia Quentworth, sharedword here");
        var second = await kept.StartSessionAsync(agent.UserId);
        await kept.SendMessageAsync(second, "sharedword from someone else");
        Assert.Equal(["zorblaxia"], await WordsAsync("zorblax"));
        Assert.Equal(["sharedword"], await WordsAsync("sharedwor"));

        var admin = server.Admin(tenant);
        var job = (await admin.PostAsync($"/livechat/users/{erased.UserId}/erase", null)).AssertStatus(HttpStatusCode.Accepted).Data.Text("job_id");
        await Eventually.Async(async () => Assert.Equal("done", (await admin.GetAsync($"/livechat/erasures/{job}")).AssertStatus(HttpStatusCode.OK).Data.Text("status")));
        Assert.Contains("zorblaxia", await WordsAsync("zorblax", "message_search_words_to_check")); // noted by the erasure's batch

        await server.Services.GetRequiredService<SearchUpkeep>().RunAsync(CancellationToken.None);
        Assert.Empty(await WordsAsync("zorblax"));
        Assert.Empty(await WordsAsync("quentworth"));
        Assert.Equal(["sharedword"], await WordsAsync("sharedwor"));
        Assert.Empty(await WordsAsync("", "message_search_words_to_check"));
        Assert.Empty(await FoundAsync(agent, "zorbl"));
        Assert.Equal(["sharedword from someone else"], await FoundAsync(agent, "sharedwo"));
    }

    [Fact]
    public async Task TheRetentionPurgeTakesTheWordsOfThePurgedSessionsOutOfTheTable()
    {
        var tenant = await server.NewTenantAsync();
        var admin = server.Admin(tenant);
        (await admin.PatchAsync("/livechat/settings", new { retention_days = 2 })).AssertStatus(HttpStatusCode.OK);
        var agent = await AgentAsync(tenant);
        var old = await agent.StartSessionAsync();
        await agent.SendMessageAsync(old, "purgeable wordthatgoes and wordthatstays");
        (await agent.PatchAsync($"/livechat/sessions/{old}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var young = await agent.StartSessionAsync();
        await agent.SendMessageAsync(young, "wordthatstays in an open session");

        server.Clock.Advance(TimeSpan.FromDays(3));
        await server.Services.GetRequiredService<RetentionJob>().PurgeAsync(CancellationToken.None);
        (await agent.GetAsync($"/livechat/sessions/{old}")).AssertError(HttpStatusCode.NotFound, "request");
        await server.Services.GetRequiredService<SearchUpkeep>().RunAsync(CancellationToken.None);

        Assert.Empty(await WordsAsync("wordthatgoe"));
        Assert.Empty(await WordsAsync("purgeabl"));
        Assert.Equal(["wordthatstays"], await WordsAsync("wordthatst"));
        Assert.Equal(["wordthatstays in an open session"], await FoundAsync(agent, "wordthat"));
    }

    /// <summary>
    /// Each send's transaction adds a small segment to the FTS5 index; the upkeep merges while a level holds two, so a
    /// query looks each word up in fewer b-trees, and every message is still found.
    /// </summary>
    [Fact]
    public async Task TheUpkeepMergesTheIndexsSegmentsAndEveryMessageIsStillFound()
    {
        var agent = await AgentAsync();
        var session = await agent.StartSessionAsync();
        for (var i = 0; i < 12; i++) await agent.SendMessageAsync(session, $"segmentword{i} hello");
        var before = await SegmentsAsync();
        Assert.True(before >= 2, $"{before} segment(s): nothing to merge");

        await server.Services.GetRequiredService<SearchUpkeep>().RunAsync(CancellationToken.None);
        Assert.InRange(await SegmentsAsync(), 1, before - 1);
        Assert.Equal(12, (await FoundAsync(agent, "segmentwo", "&limit=100")).Count);
        Assert.Equal(["segmentword11 hello"], await FoundAsync(agent, "segmentword11"));
    }

    private Task<long> SegmentsAsync() =>
        server.Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT COUNT(DISTINCT segid) FROM message_search_idx");
            return (long)(await command.ExecuteScalarAsync())!;
        }, CancellationToken.None);
}
