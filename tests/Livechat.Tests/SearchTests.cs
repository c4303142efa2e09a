using System.Net;
using System.Text.Json;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;
using Livechat.Search;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>Contract section 19: search of messages, on each database, through the HTTP pipeline.</summary>
public abstract class SearchTests(LivechatServer server)
{
    private static string Search(string q, string extra = "") => $"/livechat/search?q={Uri.EscapeDataString(q)}{extra}";

    private static async Task<List<JsonElement>> HitsAsync(Caller caller, string q, string extra = "") =>
        [.. (await caller.GetAsync(Search(q, extra))).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray()];

    private static async Task<List<string>> FoundAsync(Caller caller, string q, string extra = "") =>
        [.. (await HitsAsync(caller, q, extra)).Select(h => h.GetProperty("message").Text("message"))];

    /// <summary>An agent's own session with these messages, sent in order.</summary>
    private static async Task<string> SessionWithAsync(Caller agent, params string[] texts)
    {
        var session = await agent.StartSessionAsync();
        foreach (var text in texts) await agent.SendMessageAsync(session, text);
        return session;
    }

    private async Task<Caller> AgentAsync()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 20 })).AssertStatus(HttpStatusCode.OK);
        return agent;
    }

    [Fact]
    public async Task WordsAreWholeTheLastAlsoAPrefixAllRequiredAndCaseAndDiacriticsDoNotMatter()
    {
        var agent = await AgentAsync();
        await SessionWithAsync(agent, "Kasir tidak bisa login", "kasirnya tidak bisa login", "Café au lait, s'il vous plaît", "the refund was approved", "Refunds take a week");

        Assert.Equal(["Kasir tidak bisa login"], await FoundAsync(agent, "kasir login"));      // kasir whole: not kasirnya
        Assert.Equal(["kasirnya tidak bisa login", "Kasir tidak bisa login"], await FoundAsync(agent, "KASIR")); // the last word is a prefix
        Assert.Equal(["Café au lait, s'il vous plaît"], await FoundAsync(agent, "cafe"));
        Assert.Equal(["Café au lait, s'il vous plaît"], await FoundAsync(agent, "CAFÉ PLAIT"));
        // The highlight folds as the engines do: "cafe" marks "Café", "plait" marks "plaît".
        Assert.Equal("<mark>Café</mark> au lait, s'il vous <mark>plaît</mark>", (await HitsAsync(agent, "cafe plait")).Single().Text("highlight"));
        Assert.Equal(["the refund was approved"], await FoundAsync(agent, "refund approved"));
        Assert.Empty(await FoundAsync(agent, "refund banana"));                               // AND
        Assert.Equal(["Refunds take a week", "the refund was approved"], await FoundAsync(agent, "refund"));
        Assert.Empty(await FoundAsync(agent, "refund week"));                                 // refund is whole unless last
    }

    /// <summary>
    /// SQLite searches a prefix as the words it begins (an OR FTS5 walks a page at a time; at most
    /// SearchStore.MaxPrefixWords, else as a prefix): the same messages either way. Another tenant's words widen the OR only.
    /// </summary>
    [Fact]
    public async Task APrefixFindsEveryWordItBeginsWhetherFewOrMany()
    {
        var agent = await AgentAsync();
        var other = server.Agent(await server.NewTenantAsync());
        await SessionWithAsync(other, "zqx105 belongs to another tenant");
        var texts = Enumerable.Range(0, 105).Select(i => $"ticket zqx{i} opened").ToArray();
        await SessionWithAsync(agent, texts);
        await SessionWithAsync(agent, "Zqxé accented", "nothing here");

        Assert.Equal(100, (await FoundAsync(agent, "zqx", "&limit=100")).Count); // 106 of the tenant's words and one other begin zqx
        Assert.Equal(106, (await agent.WalkAsync(Search("zqx", "&limit=40"))).Count); // and its pages go on to the last
        Assert.Equal(16, (await FoundAsync(agent, "ticket zqx1", "&limit=100")).Count); // zqx1, zqx10..19, zqx100..104: as words
        Assert.Equal(["ticket zqx10 opened"], await FoundAsync(agent, "ticket zqx10 opened"));
        Assert.Equal(["Zqxé accented"], await FoundAsync(agent, "ZQXÉ"));            // folded as FTS5 folds it: zqxe
        Assert.Empty(await FoundAsync(agent, "zqx105"));                            // the other tenant's word matches nothing here
    }

    [Fact]
    public async Task APhraseMatchesInOrder()
    {
        var agent = await AgentAsync();
        await SessionWithAsync(agent, "the refund was approved yesterday", "approved: was the refund?");
        Assert.Equal(["the refund was approved yesterday"], await FoundAsync(agent, "\"refund was approved\""));
        Assert.Equal(["the refund was approved yesterday"], await FoundAsync(agent, "\"refund was\" yest"));
        Assert.Equal(["approved: was the refund?"], await FoundAsync(agent, "\"approved was\""));
        Assert.Empty(await FoundAsync(agent, "\"was refund\""));
    }

    [Fact]
    public async Task TheHighlightMarksTheMatchesAndEscapesEverythingElse()
    {
        var agent = await AgentAsync();
        await SessionWithAsync(agent, "<b>Price</b> & tax: the price is <script>alert(1)</script>");
        var hit = (await HitsAsync(agent, "price")).Single();
        Assert.Equal("&lt;b&gt;<mark>Price</mark>&lt;/b&gt; &amp; tax: the <mark>price</mark> is &lt;script&gt;alert(1)&lt;/script&gt;", hit.Text("highlight"));

        var phrase = (await HitsAsync(agent, "\"the price is\"")).Single();
        Assert.Equal("&lt;b&gt;Price&lt;/b&gt; &amp; tax: <mark>the price is</mark> &lt;script&gt;alert(1)&lt;/script&gt;", phrase.Text("highlight"));

        // A long text: a window of at most 300 characters around the first match.
        var filler = string.Join(' ', Enumerable.Repeat("lorem ipsum", 80));
        await SessionWithAsync(agent, $"{filler} needle {filler}");
        var window = (await HitsAsync(agent, "needle")).Single().Text("highlight");
        Assert.Contains("<mark>needle</mark>", window);
        Assert.True(window.Replace("<mark>", "").Replace("</mark>", "").Length <= 300, window);
    }

    [Fact]
    public async Task HitsComeNewestFirstWithTheirSessionAndPageByCursorBothWays()
    {
        var agent = await AgentAsync();
        var first = await SessionWithAsync(agent, "invoice one");
        var second = await SessionWithAsync(agent, "invoice two", "nothing here", "invoice three");

        var page = (await agent.GetAsync(Search("invoice", "&limit=2"))).AssertStatus(HttpStatusCode.OK);
        var hits = page.Data.EnumerateArray().ToList();
        Assert.Equal(["invoice three", "invoice two"], hits.Select(h => h.GetProperty("message").Text("message")));
        Assert.Equal(second, hits[0].GetProperty("session").Text("id"));
        Assert.Equal(second, hits[0].GetProperty("message").Text("session_id"));
        Assert.True(page.Pagination.GetProperty("has_next").GetBoolean());
        Assert.False(page.Pagination.GetProperty("has_prev").GetBoolean());

        var next = (await agent.GetAsync(Search("invoice", $"&limit=2&cursor={page.Pagination.Text("next_cursor")}"))).AssertStatus(HttpStatusCode.OK);
        var older = next.Data.EnumerateArray().Single();
        Assert.Equal("invoice one", older.GetProperty("message").Text("message"));
        Assert.Equal(first, older.GetProperty("session").Text("id"));
        Assert.False(next.Pagination.GetProperty("has_next").GetBoolean());
        Assert.True(next.Pagination.GetProperty("has_prev").GetBoolean());

        var back = (await agent.GetAsync(Search("invoice", $"&limit=2&direction=backward&cursor={next.Pagination.Text("prev_cursor")}"))).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(["invoice three", "invoice two"], back.Data.EnumerateArray().Select(h => h.GetProperty("message").Text("message")));
    }

    [Fact]
    public async Task NotesOnlyForAgentsTenantUsersOnlyTheirSessionsAndNoOtherTenant()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        await customer.SendMessageAsync(session, "my voucher code failed");
        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "voucher abuse suspected", @internal = true })).AssertStatus(HttpStatusCode.Created);
        var bystander = server.TenantUser(agent.TenantId);

        Assert.Equal(["voucher abuse suspected", "my voucher code failed"], await FoundAsync(agent, "voucher"));
        Assert.Equal(["my voucher code failed"], await FoundAsync(customer, "voucher"));
        Assert.Empty(await FoundAsync(customer, "abuse"));
        Assert.Empty(await FoundAsync(bystander, "voucher")); // a tenant user who takes no part in the session
        var (stranger, _, strangerSession) = await server.ConversationAsync();
        await stranger.SendMessageAsync(strangerSession, "positive control: voucher");
        Assert.Equal(["positive control: voucher"], await FoundAsync(stranger, "voucher"));
        // A note is no cursor for a tenant user.
        var note = (await HitsAsync(agent, "abuse")).Single().GetProperty("message").Text("id");
        (await customer.GetAsync(Search("voucher", $"&cursor={note}"))).AssertError(HttpStatusCode.BadRequest, "cursor");
    }

    [Fact]
    public async Task TheListsFiltersSessionAndTimeNarrowTheSearch()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var other = server.Agent(tenant);
        await other.GoOnlineAsync();
        var customer = server.TenantUser(tenant);
        var mine = await SessionWithAsync(agent, "router broken");
        var theirs = await customer.StartSessionAsync(other.UserId);
        await customer.SendMessageAsync(theirs, "router still broken");
        (await agent.PutAsync($"/livechat/sessions/{mine}/labels", new { labels = new[] { "hardware" } })).AssertStatus(HttpStatusCode.OK);

        Assert.Equal(["router still broken", "router broken"], await FoundAsync(agent, "router"));
        Assert.Equal(["router broken"], await FoundAsync(agent, "router", "&agent_id=me"));
        Assert.Equal(["router still broken"], await FoundAsync(agent, "router", $"&agent_id={other.UserId}"));
        Assert.Equal(["router still broken"], await FoundAsync(agent, "router", $"&customer_id={customer.UserId}"));
        Assert.Equal(["router broken"], await FoundAsync(agent, "router", "&label=hardware"));
        Assert.Equal(["router broken"], await FoundAsync(agent, "router", $"&session_id={mine}"));
        var past = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"));
        var future = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"));
        Assert.Equal(2, (await FoundAsync(agent, "router", $"&from={past}&to={future}")).Count);
        Assert.Empty(await FoundAsync(agent, "router", $"&from={future}"));
        Assert.Empty(await FoundAsync(agent, "router", $"&to={past}"));
    }

    [Theory]
    [InlineData("agent_id=x", "agent_id")]
    [InlineData("customer_id=-1", "customer_id")]
    [InlineData("label=Not%20a%20label", "label")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("session_id=nope", "session_id")]
    [InlineData("limit=0", "limit")]
    [InlineData("cursor=nope", "cursor")]
    public async Task ABadFilterIs400OnItsKey(string filter, string key)
    {
        var agent = await AgentAsync();
        await SessionWithAsync(agent, "filtered search");
        (await agent.GetAsync(Search("filtered", $"&{filter}"))).AssertError(HttpStatusCode.BadRequest, key);
        Assert.Equal(["filtered search"], await FoundAsync(agent, "filtered"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("!!! ... ???")]
    [InlineData("*")]
    [InlineData("\"\"")]
    [InlineData("\"kasir")]
    [InlineData("kasir \"tidak bisa")]
    [InlineData("a\"b\"c\"")]
    public async Task AMissingEmptyWordlessOrUnbalancedQueryIs400OnQ(string? q)
    {
        var agent = await AgentAsync();
        await SessionWithAsync(agent, "kasir tidak bisa login");
        (await agent.GetAsync(q is null ? "/livechat/search" : Search(q))).AssertError(HttpStatusCode.BadRequest, "q");
        Assert.Equal(["kasir tidak bisa login"], await FoundAsync(agent, "kasir"));
    }

    [Fact]
    public async Task AQueryOver200CharactersIs400AndOneOf200IsSearched()
    {
        var agent = await AgentAsync();
        await SessionWithAsync(agent, "kasir tidak bisa login");
        (await agent.GetAsync(Search("kasir " + new string('é', 195)))).AssertError(HttpStatusCode.BadRequest, "q");
        Assert.Empty(await FoundAsync(agent, "kasir " + new string('é', 194)));
        Assert.Equal(["kasir tidak bisa login"], await FoundAsync(agent, "kasir" + new string(' ', 195)));
    }

    /// <summary>The engines' own syntax is words and separators here: never an engine error, never a 500.</summary>
    [Theory]
    [InlineData("kasir OR login", new[] { "kasir OR login" })]
    [InlineData("kasir OR", new[] { "kasir OR login" })]
    [InlineData("kas*", new[] { "kasir OR login" })]
    [InlineData("body:kasir", new string[0])]
    [InlineData("tenant:t1 kasir", new string[0])]
    [InlineData("NEAR(kasir login)", new string[0])]
    [InlineData("(kasir) AND (login)", new string[0])]
    [InlineData("kasir & !login | x <-> y", new string[0])]
    [InlineData("kasir' login", new[] { "kasir OR login" })]
    [InlineData("kasir\\ login:*", new[] { "kasir OR login" })]
    [InlineData("\"kasir OR\" login", new[] { "kasir OR login" })]
    [InlineData("{body}: kasir ^login", new string[0])]
    public async Task EngineOperatorsAreWordsOrSeparators(string q, string[] expected)
    {
        var agent = await AgentAsync();
        await SessionWithAsync(agent, "kasir OR login");
        Assert.Equal(expected, await FoundAsync(agent, q));
        Assert.Equal(["kasir OR login"], await FoundAsync(agent, "kasir"));
    }

    [Fact]
    public async Task TenantUsersMaySearchTooAndTheSearchNeedsATenant()
    {
        var (_, customer, session) = await server.ConversationAsync();
        await customer.SendMessageAsync(session, "hello from the customer");
        Assert.Equal(["hello from the customer"], await FoundAsync(customer, "hello"));
        (await server.SendAsync(HttpMethod.Get, Search("hello"))).AssertStatus(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ATenantWhoseIdBeginsAnothersNeverFindsItsWords()
    {
        // Tenant 500001's prefix `ka` must not reach into tenant 5000011's `kasir`, nor the other way round (PostgreSQL: the
        // tenant is a key of the GIN index; SQLite: the tenant's own token, `t500001`, in the FTS5 table).
        var tenants = server.Services.GetRequiredService<Livechat.Tenants.TenantStore>();
        var first = 1_000_000_000L * (await server.NewTenantAsync() % 1000 + 1);
        var second = first * 10 + 1;
        foreach (var id in new[] { first, second }) Assert.True(await tenants.AddAsync(id, $"Tenant {id}", null, CancellationToken.None));
        var (a, b) = (server.Agent(first), server.Agent(second));
        await SessionWithAsync(b, "kasir error");
        await SessionWithAsync(a, "kartu error");

        Assert.Equal(["kartu error"], await FoundAsync(a, "ka"));
        Assert.Equal(["kasir error"], await FoundAsync(b, "ka"));
        Assert.Empty(await FoundAsync(a, "kasir"));
        Assert.Empty(await FoundAsync(b, "kartu"));
        Assert.Equal(["kartu error"], await FoundAsync(a, "error"));
    }

    [Fact]
    public async Task AMessageWhoseTextIsErasedIsNotFoundAndItsEntryIsGone()
    {
        var agent = await AgentAsync();
        var session = await SessionWithAsync(agent, "secret passport number", "keep this passport too");
        Assert.Single(await HitsAsync(agent, "secret"));

        // What an erasure (contract section 21) does, through its one mechanism: the sender's oldest message here (the
        // first) becomes a placeholder, and its index entry goes in the same transaction.
        await server.Services.GetRequiredService<WritePath>().RunAsync(async scope => Change.Of(await Livechat.Privacy.Forgetting.ForgetMessagesAsync(
            scope, agent.TenantId, new Livechat.Privacy.ForgottenMessages.SentBy(Guid.Parse(session), agent.UserId), take: 1, CancellationToken.None)),
            CancellationToken.None);

        Assert.Empty(await FoundAsync(agent, "secret"));
        Assert.Equal(["keep this passport too"], await FoundAsync(agent, "passport"));
        Assert.Equal(["keep this passport too"], await FoundAsync(agent, "passport", $"&session_id={session}"));
        // The erased message is indexed (as empty), not waiting for the backfill, which would index it again.
        Assert.Equal(0, await server.Services.GetRequiredService<SearchBackfill>().RunAsync(CancellationToken.None));
    }

    [Fact]
    public async Task TheBackfillIndexesMessagesStoredBeforeSearchExisted()
    {
        var agent = await AgentAsync();
        await SessionWithAsync(agent, "legacy ticket about printers", "legacy ticket about scanners");
        await SessionWithAsync(agent, "indexed all along: printers");
        // Forget the first two messages' entries, as a database migrated to 0090 has none for its old messages.
        if (server.Provider == DatabaseProvider.Postgres)
        {
            await server.ExecuteSqlAsync("UPDATE chat_messages SET search_vector = NULL WHERE tenant_id = @tenant AND message LIKE 'legacy%'", ("tenant", agent.TenantId));
        }
        else
        {
            await server.ExecuteSqlAsync("""
                DELETE FROM message_search WHERE rowid IN (SELECT search_row FROM chat_messages WHERE tenant_id = @tenant AND message LIKE 'legacy%')
                """, ("tenant", agent.TenantId));
            await server.ExecuteSqlAsync("UPDATE chat_messages SET search_row = NULL WHERE tenant_id = @tenant AND message LIKE 'legacy%'", ("tenant", agent.TenantId));
        }
        Assert.Equal(["indexed all along: printers"], await FoundAsync(agent, "printers"));

        Assert.True(await server.Services.GetRequiredService<SearchBackfill>().RunAsync(CancellationToken.None) >= 2);
        Assert.Equal(["indexed all along: printers", "legacy ticket about printers"], await FoundAsync(agent, "printers"));
        Assert.Equal(["legacy ticket about scanners"], await FoundAsync(agent, "scanners"));
        Assert.Equal(0, await server.Services.GetRequiredService<SearchBackfill>().RunAsync(CancellationToken.None));
    }
}

public sealed class SearchTestsOnSqlite(SqliteServer server) : SearchTests(server), IClassFixture<SqliteServer>;

public sealed class SearchTestsOnPostgres(PostgresServer server) : SearchTests(server), IClassFixture<PostgresServer>;
