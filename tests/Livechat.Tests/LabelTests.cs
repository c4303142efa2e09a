using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 18: an agent replaces a session's labels; every read of the session shows them; the tenant's labels with counts.</summary>
public abstract class LabelTests(LivechatServer server)
{
    private static string LabelsOf(string session) => $"/livechat/sessions/{session}/labels";

    private static string[]? Labels(JsonElement session) =>
        session.TryGetProperty("labels", out var labels) ? labels.EnumerateArray().Select(l => l.GetString()!).ToArray() : null;

    private static async Task<JsonElement> LabelsAsync(Caller agent) => (await agent.GetAsync("/livechat/labels")).AssertStatus(HttpStatusCode.OK).Data;

    [Fact]
    public async Task LabelsAreNormalisedMergedSortedAndShownOnEveryReadOfTheSession()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        await using var stream = await SseClient.OpenUserStreamAsync(server, agent);

        var labelled = (await agent.PutAsync(LabelsOf(session), new { labels = new[] { "vip", " Billing", "billing", "refund-2026", "a_b" } }))
            .AssertStatus(HttpStatusCode.OK).Data;
        string[] expected = ["a_b", "billing", "refund-2026", "vip"];
        Assert.Equal(expected, Labels(labelled));
        Assert.Equal(expected, Labels((await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data));
        Assert.Equal(expected, Labels((await customer.GetAsync("/livechat/sessions?limit=50")).Data.EnumerateArray().Single(s => s.Text("id") == session)));
        // The change is pushed as sessionUpdated with the session as it is now.
        var pushed = await stream.NextNamedAsync("sessionUpdated");
        Assert.Equal(labelled.ToString(), pushed.ToString());

        // Replace-all: fewer labels, then none (the field disappears).
        Assert.Equal(["vip"], Labels((await agent.PutAsync(LabelsOf(session), new { labels = new[] { "vip" } })).AssertStatus(HttpStatusCode.OK).Data)!);
        var cleared = (await agent.PutAsync(LabelsOf(session), new { labels = Array.Empty<string>() })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Null(Labels(cleared));
        Assert.Empty((await LabelsAsync(agent)).EnumerateArray());
    }

    [Fact]
    public async Task TheTenantsLabelsCountTheirSessionsInOrderAndNoOtherTenantsLabels()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 5 })).AssertStatus(HttpStatusCode.OK);
        var sessions = new List<string>();
        for (var i = 0; i < 3; i++) sessions.Add(await agent.StartSessionAsync());
        await agent.PutAsync(LabelsOf(sessions[0]), new { labels = new[] { "billing", "vip" } });
        await agent.PutAsync(LabelsOf(sessions[1]), new { labels = new[] { "billing" } });
        await agent.PutAsync(LabelsOf(sessions[2]), new { labels = new[] { "z-last", "a-first" } });
        var (foreignAgent, _, foreign) = await server.ConversationAsync();
        (await foreignAgent.PutAsync(LabelsOf(foreign), new { labels = new[] { "secret" } })).AssertStatus(HttpStatusCode.OK);

        var listed = (await LabelsAsync(agent)).EnumerateArray().Select(l => (l.Text("label"), l.GetProperty("session_count").GetInt64())).ToList();
        Assert.Equal([("a-first", 1L), ("billing", 2L), ("vip", 1L), ("z-last", 1L)], listed);
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"labels":null}""")]
    [InlineData("""{"labels":"billing"}""")]
    [InlineData("""{"labels":[7]}""")]
    [InlineData("""{"labels":[null]}""")]
    [InlineData("""{"labels":[""]}""")]
    [InlineData("""{"labels":["   "]}""")]
    [InlineData("""{"labels":["-billing"]}""")]
    [InlineData("""{"labels":["_billing"]}""")]
    [InlineData("""{"labels":["bill ing"]}""")]
    [InlineData("""{"labels":["bill.ing"]}""")]
    [InlineData("""{"labels":["café"]}""")]
    [InlineData("""{"labels":["abcdefghijklmnopqrstuvwxyz0123456"]}""")] // 33
    [InlineData("""{"labels":["a","b","c","d","e","f","g","h","i","j","k"]}""")] // 11
    [InlineData("""{"labels":["ok","no way"]}""")]
    public async Task EveryLabelRuleIs400AndChangesNothing(string json)
    {
        var (agent, _, session) = await server.ConversationAsync();
        (await agent.PutAsync(LabelsOf(session), new { labels = new[] { "keep" } })).AssertStatus(HttpStatusCode.OK);
        (await agent.PutAsync(LabelsOf(session), json)).AssertError(HttpStatusCode.BadRequest, "labels");
        Assert.Equal(["keep"], Labels((await agent.GetAsync($"/livechat/sessions/{session}")).Data)!);
        Assert.Equal(1, (await LabelsAsync(agent)).EnumerateArray().Single().GetProperty("session_count").GetInt64());
    }

    [Fact]
    public async Task TheLimitsThemselvesAreAcceptedAndDuplicatesCountOnce()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var longest = "a" + new string('9', 31);
        var ten = Enumerable.Range(0, 9).Select(i => $"l{i}").Append(longest).ToArray();
        var labelled = (await agent.PutAsync(LabelsOf(session), new { labels = ten.Concat(ten.Select(l => l.ToUpperInvariant())).ToArray() }))
            .AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(ten.Order(StringComparer.Ordinal), Labels(labelled));
    }

    [Fact]
    public async Task TenantUsersMayNotLabelNorListLabelsAndOtherTenantsSessionsAre404()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        (await customer.PutAsync(LabelsOf(session), new { labels = new[] { "mine" } })).AssertError(HttpStatusCode.Forbidden, "request");
        (await customer.GetAsync("/livechat/labels")).AssertError(HttpStatusCode.Forbidden, "request");
        var (stranger, _, _) = await server.ConversationAsync();
        (await stranger.PutAsync(LabelsOf(session), new { labels = new[] { "theirs" } })).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.PutAsync(LabelsOf(Guid.CreateVersion7().ToString()), new { labels = new[] { "x" } })).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.PutAsync(LabelsOf("nope"), new { labels = new[] { "x" } })).AssertError(HttpStatusCode.BadRequest, "id");
        Assert.Null(Labels((await agent.GetAsync($"/livechat/sessions/{session}")).Data));
        Assert.Empty((await LabelsAsync(agent)).EnumerateArray());
    }
}

public sealed class LabelTestsOnSqlite(SqliteServer server) : LabelTests(server), IClassFixture<SqliteServer>;

public sealed class LabelTestsOnPostgres(PostgresServer server) : LabelTests(server), IClassFixture<PostgresServer>;
