using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 17: canned responses, their rules, search, pagination and rendering for a session.</summary>
public abstract class CannedResponseTests(LivechatServer server)
{
    private const string Path = "/livechat/canned-responses";

    private static async Task<JsonElement> CreateAsync(Caller agent, string shortcut, string title = "A title", string body = "A body") =>
        (await agent.PostAsync(Path, new { shortcut, title, body })).AssertStatus(HttpStatusCode.Created).Data;

    private static async Task<List<string>> ShortcutsAsync(Caller agent, string query = "") =>
        (await agent.WalkAsync($"{Path}?limit=100{query}")).Select(c => c.Text("shortcut")).ToList();

    private async Task<Caller> AgentOfNewTenantAsync() => server.Agent(await server.NewTenantAsync());

    [Fact]
    public async Task ACannedResponseHasTheContractsFields()
    {
        var agent = await AgentOfNewTenantAsync();
        var created = await CreateAsync(agent, "refund", "Refund policy", "Refunds take {{session.id}} days.");
        var names = created.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.True(names.SetEquals(["id", "shortcut", "title", "body", "created_by", "created_at", "updated_at"]), $"Members: {string.Join(",", names)}");
        Assert.Matches(Formats.UuidV7, created.Text("id"));
        Assert.Equal("refund", created.Text("shortcut"));
        Assert.Equal("Refund policy", created.Text("title"));
        Assert.Equal("Refunds take {{session.id}} days.", created.Text("body"));
        Assert.Equal(agent.UserId, created.GetProperty("created_by").GetInt64());
        Assert.Matches(Formats.Timestamp, created.Text("created_at"));
        Assert.Equal(created.Text("created_at"), created.Text("updated_at"));

        var read = (await agent.GetAsync($"{Path}/{created.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(created.GetRawText(), read.GetRawText());
        // Another agent of the tenant shares it.
        var colleague = server.Agent(agent.TenantId);
        Assert.Equal(["refund"], await ShortcutsAsync(colleague));
    }

    [Theory]
    [InlineData("""{"title":"t","body":"b"}""", "shortcut")]
    [InlineData("""{"shortcut":null,"title":"t","body":"b"}""", "shortcut")]
    [InlineData("""{"shortcut":7,"title":"t","body":"b"}""", "shortcut")]
    [InlineData("""{"shortcut":"","title":"t","body":"b"}""", "shortcut")]
    [InlineData("""{"shortcut":"Refund","title":"t","body":"b"}""", "shortcut")]
    [InlineData("""{"shortcut":"-refund","title":"t","body":"b"}""", "shortcut")]
    [InlineData("""{"shortcut":"_refund","title":"t","body":"b"}""", "shortcut")]
    [InlineData("""{"shortcut":"re fund","title":"t","body":"b"}""", "shortcut")]
    [InlineData("""{"shortcut":"refund\n","title":"t","body":"b"}""", "shortcut")]
    [InlineData("""{"shortcut":"réfund","title":"t","body":"b"}""", "shortcut")]
    [InlineData("""{"shortcut":"abcdefghijklmnopqrstuvwxyz0123456","title":"t","body":"b"}""", "shortcut")] // 33
    [InlineData("""{"shortcut":"s","body":"b"}""", "title")]
    [InlineData("""{"shortcut":"s","title":"","body":"b"}""", "title")]
    [InlineData("""{"shortcut":"s","title":"   ","body":"b"}""", "title")]
    [InlineData("""{"shortcut":"s","title":"\u200B","body":"b"}""", "title")]
    [InlineData("""{"shortcut":"s","title":"two\nlines","body":"b"}""", "title")]
    [InlineData("""{"shortcut":"s","title":["t"],"body":"b"}""", "title")]
    [InlineData("""{"shortcut":"s","title":"t"}""", "body")]
    [InlineData("""{"shortcut":"s","title":"t","body":""}""", "body")]
    [InlineData("""{"shortcut":"s","title":"t","body":" \n\t "}""", "body")]
    [InlineData("""{"shortcut":"s","title":"t","body":"bell\u0007"}""", "body")]
    [InlineData("""{"shortcut":"s","title":"t","body":"\uD800"}""", "body")]
    [InlineData("""{"shortcut":"s","title":"t","body":null}""", "body")]
    [InlineData("""[]""", "body")]
    [InlineData("""not json""", "body")]
    public async Task EveryFieldRuleIs400AndStoresNothing(string json, string field)
    {
        var agent = await AgentOfNewTenantAsync();
        (await agent.PostAsync(Path, json)).AssertError(HttpStatusCode.BadRequest, field);
        Assert.Empty(await ShortcutsAsync(agent));
    }

    [Fact]
    public async Task TheLimitsThemselvesAreAccepted()
    {
        var agent = await AgentOfNewTenantAsync();
        var longest = "a" + new string('z', 31);
        var created = await CreateAsync(agent, longest, new string('t', 199) + "😀", new string('b', 4999) + "😀");
        Assert.Equal(longest, created.Text("shortcut"));
        (await agent.PostAsync(Path, new { shortcut = "x", title = new string('t', 201), body = "b" })).AssertError(HttpStatusCode.BadRequest, "title");
        (await agent.PostAsync(Path, new { shortcut = "x", title = "t", body = new string('b', 5001) })).AssertError(HttpStatusCode.BadRequest, "body");
        Assert.Equal([longest], await ShortcutsAsync(agent));
    }

    [Fact]
    public async Task ATakenShortcutIs409AndStoresNothingButAnotherTenantMayUseIt()
    {
        var agent = await AgentOfNewTenantAsync();
        var first = await CreateAsync(agent, "hello", "Greeting", "Hello!");
        (await agent.PostAsync(Path, new { shortcut = "hello", title = "Other", body = "Hi" })).AssertError(HttpStatusCode.Conflict, "shortcut");
        var only = Assert.Single(await agent.WalkAsync($"{Path}?limit=10"));
        Assert.Equal(first.GetRawText(), only.GetRawText());

        // Renaming another one onto it is the same conflict, and changes nothing of it.
        var second = await CreateAsync(agent, "bye", "Farewell", "Bye!");
        (await agent.PatchAsync($"{Path}/{second.Text("id")}", new { shortcut = "hello", title = "New title" })).AssertError(HttpStatusCode.Conflict, "shortcut");
        Assert.Equal(second.GetRawText(), (await agent.GetAsync($"{Path}/{second.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data.GetRawText());
        // Keeping its own shortcut is no conflict.
        (await agent.PatchAsync($"{Path}/{first.Text("id")}", new { shortcut = "hello" })).AssertStatus(HttpStatusCode.OK);

        var elsewhere = await AgentOfNewTenantAsync();
        await CreateAsync(elsewhere, "hello");
    }

    [Fact]
    public async Task ConcurrentCreatesOfOneShortcutGiveOne201AndOnly409s()
    {
        var agent = await AgentOfNewTenantAsync();
        var agents = Enumerable.Range(0, 8).Select(_ => server.Agent(agent.TenantId)).ToList();
        var replies = await Task.WhenAll(agents.Select((a, i) => a.PostAsync(Path, new { shortcut = "race", title = $"Title {i}", body = $"Body {i}" })));
        var created = Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.All(replies.Where(r => r != created), r => r.AssertError(HttpStatusCode.Conflict, "shortcut"));
        var stored = Assert.Single(await agent.WalkAsync($"{Path}?limit=10"));
        Assert.Equal(created.Data.GetRawText(), stored.GetRawText());
    }

    [Fact]
    public async Task ListingIsInShortcutOrderWithCursorPagination()
    {
        var agent = await AgentOfNewTenantAsync();
        string[] shortcuts = ["delta", "alpha", "echo", "charlie", "bravo"];
        var ids = new Dictionary<string, string>();
        foreach (var shortcut in shortcuts) ids[shortcut] = (await CreateAsync(agent, shortcut)).Text("id");
        var ordered = shortcuts.Order(StringComparer.Ordinal).ToList();

        var first = (await agent.GetAsync($"{Path}?limit=2")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ordered[..2].Select(s => ids[s]), first.Ids());
        Assert.True(first.Pagination.GetProperty("has_next").GetBoolean());
        Assert.False(first.Pagination.GetProperty("has_prev").GetBoolean());
        Assert.Equal(2, first.Pagination.GetProperty("limit").GetInt32());

        var second = (await agent.GetAsync($"{Path}?limit=2&cursor={first.Cursor("next_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ordered[2..4].Select(s => ids[s]), second.Ids());
        Assert.True(second.Pagination.GetProperty("has_prev").GetBoolean());
        var back = (await agent.GetAsync($"{Path}?limit=2&direction=backward&cursor={second.Cursor("prev_cursor")}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ordered[..2].Select(s => ids[s]), back.Ids());

        Assert.Equal(ordered, await ShortcutsAsync(agent));
        Assert.Equal(ordered, (await agent.WalkAsync($"{Path}?limit=1")).Select(c => c.Text("shortcut")));
        // Without limit, a page of 20.
        Assert.Equal(20, (await agent.GetAsync(Path)).AssertStatus(HttpStatusCode.OK).Pagination.GetProperty("limit").GetInt32());
    }

    [Fact]
    public async Task ABadPageRequestIs400()
    {
        var agent = await AgentOfNewTenantAsync();
        await CreateAsync(agent, "mine");
        var other = await AgentOfNewTenantAsync();
        var foreign = (await CreateAsync(other, "theirs")).Text("id");
        (await agent.GetAsync($"{Path}?limit=0")).AssertError(HttpStatusCode.BadRequest, "limit");
        (await agent.GetAsync($"{Path}?limit=101")).AssertError(HttpStatusCode.BadRequest, "limit");
        (await agent.GetAsync($"{Path}?limit=5&cursor=nope")).AssertError(HttpStatusCode.BadRequest, "cursor");
        (await agent.GetAsync($"{Path}?limit=5&cursor={foreign}")).AssertError(HttpStatusCode.BadRequest, "cursor");
        (await agent.GetAsync($"{Path}?limit=5&cursor={Guid.CreateVersion7()}")).AssertError(HttpStatusCode.BadRequest, "cursor");
        (await agent.GetAsync($"{Path}?q={new string('q', 101)}")).AssertError(HttpStatusCode.BadRequest, "q");
    }

    [Fact]
    public async Task SearchMatchesTheStartOfTheShortcutOrOfAnyWordOfTheTitleIgnoringCase()
    {
        var agent = await AgentOfNewTenantAsync();
        await CreateAsync(agent, "refund", "Money back");
        await CreateAsync(agent, "ship-time", "Delivery times (Shipping)");
        await CreateAsync(agent, "greet", "Hello and welcome");
        await CreateAsync(agent, "pay", "Ödeme bilgileri");

        Assert.Equal(["refund"], await ShortcutsAsync(agent, "&q=ref"));
        Assert.Equal(["refund"], await ShortcutsAsync(agent, "&q=REF"));          // the shortcut, ignoring case
        Assert.Equal(["refund"], await ShortcutsAsync(agent, "&q=money"));        // the title's first word
        Assert.Equal(["refund"], await ShortcutsAsync(agent, "&q=BACK"));         // a later word
        Assert.Equal(["ship-time"], await ShortcutsAsync(agent, "&q=ship"));      // shortcut and title's "(Shipping)"
        Assert.Equal(["ship-time"], await ShortcutsAsync(agent, "&q=shipping"));  // after punctuation
        Assert.Equal(["ship-time"], await ShortcutsAsync(agent, "&q=ship-t"));    // the whole shortcut's start
        Assert.Equal(["greet"], await ShortcutsAsync(agent, "&q=and%20wel"));     // words in a row
        Assert.Equal(["pay"], await ShortcutsAsync(agent, "&q=%C3%B6DEME"));      // not only ASCII: "öDEME"
        Assert.Empty(await ShortcutsAsync(agent, "&q=und"));                      // inside a word of the title: no
        Assert.Empty(await ShortcutsAsync(agent, "&q=efund"));                    // inside the shortcut: no
        Assert.Equal(["greet", "pay", "refund", "ship-time"], await ShortcutsAsync(agent, "&q=%20"));  // blank: everything
        Assert.Equal(["refund"], await ShortcutsAsync(agent, "&q=%20money%20"));                    // trimmed

        // Search pages like the list.
        var page = (await agent.GetAsync($"{Path}?q=b&limit=1")).AssertStatus(HttpStatusCode.OK); // "back", "bilgileri"
        Assert.True(page.Pagination.GetProperty("has_next").GetBoolean());
        Assert.Equal(["pay", "refund"], (await agent.WalkAsync($"{Path}?q=b&limit=1")).Select(c => c.Text("shortcut")));
    }

    [Fact]
    public async Task PercentAndUnderscoreInTheQueryMatchOnlyThemselves()
    {
        var agent = await AgentOfNewTenantAsync();
        await CreateAsync(agent, "a_b", "Plain");
        await CreateAsync(agent, "axb", "Plain too");
        await CreateAsync(agent, "discount", "Get 10% off");
        await CreateAsync(agent, "back", @"Slash \ here");

        Assert.Equal(["a_b"], await ShortcutsAsync(agent, "&q=a_"));
        Assert.Empty(await ShortcutsAsync(agent, "&q=%25"));       // "%" matches no shortcut, and no word starts with it
        Assert.Empty(await ShortcutsAsync(agent, "&q=_"));
        Assert.Empty(await ShortcutsAsync(agent, "&q=a%25"));
        Assert.Empty(await ShortcutsAsync(agent, "&q=%5C"));       // "\": the escape character is literal too
        Assert.Equal(["discount"], await ShortcutsAsync(agent, "&q=10"));
    }

    [Fact]
    public async Task PatchChangesTheFieldsSentUnderTheSameRules()
    {
        var agent = await AgentOfNewTenantAsync();
        var created = await CreateAsync(agent, "hours", "Opening hours", "We open at 9.");
        var id = created.Text("id");
        var path = $"{Path}/{id}";

        var updated = (await agent.PatchAsync(path, new { title = "Business hours" })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("Business hours", updated.Text("title"));
        Assert.Equal("hours", updated.Text("shortcut"));
        Assert.Equal("We open at 9.", updated.Text("body"));
        Assert.Equal(created.Text("created_at"), updated.Text("created_at"));
        Assert.True(DateTimeOffset.Parse(updated.Text("updated_at"), System.Globalization.CultureInfo.InvariantCulture)
            >= DateTimeOffset.Parse(created.Text("updated_at"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["hours"], await ShortcutsAsync(agent, "&q=business")); // search follows the new title
        Assert.Empty(await ShortcutsAsync(agent, "&q=opening"));

        updated = (await agent.PatchAsync(path, new { shortcut = "open", body = "We open at 8." })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("open", updated.Text("shortcut"));
        Assert.Equal("We open at 8.", updated.Text("body"));

        foreach (var (json, field) in new[]
        {
            ("""{"shortcut":"Open"}""", "shortcut"), ("""{"shortcut":null}""", "shortcut"), ("""{"title":""}""", "title"),
            ("""{"title":null}""", "title"), ("""{"body":"   "}""", "body"), ($$"""{"body":"{{new string('b', 5001)}}"}""", "body"),
            ("""{"title":"ok","body":""}""", "body"), ("""{}""", "body"), ("""{"other":1}""", "body"),
        })
        {
            (await agent.PatchAsync(path, json)).AssertError(HttpStatusCode.BadRequest, field);
        }
        Assert.Equal(updated.GetRawText(), (await agent.GetAsync(path)).AssertStatus(HttpStatusCode.OK).Data.GetRawText());

        (await agent.PatchAsync($"{Path}/{Guid.CreateVersion7()}", new { title = "x" })).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.PatchAsync($"{Path}/nope", new { title = "x" })).AssertError(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task DeleteIs204AndTheResponseIsGone()
    {
        var agent = await AgentOfNewTenantAsync();
        var id = (await CreateAsync(agent, "gone")).Text("id");
        var kept = await CreateAsync(agent, "kept");
        var deleted = await agent.SendAsync(HttpMethod.Delete, $"{Path}/{id}", null);
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Empty(deleted.Text);
        (await agent.GetAsync($"{Path}/{id}")).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.SendAsync(HttpMethod.Delete, $"{Path}/{id}", null)).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.SendAsync(HttpMethod.Delete, $"{Path}/nope", null)).AssertError(HttpStatusCode.BadRequest, "id");
        Assert.Equal(["kept"], await ShortcutsAsync(agent));
        // Its shortcut is free again.
        await CreateAsync(agent, "gone");
        Assert.Equal(kept.Text("id"), (await agent.GetAsync($"{Path}/{kept.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data.Text("id"));
    }

    [Fact]
    public async Task AnotherTenantsCannedResponseIs404AndStaysAsItWas()
    {
        var owner = await AgentOfNewTenantAsync();
        var created = await CreateAsync(owner, "secret", "Internal", "Only ours.");
        var id = created.Text("id");
        // The same user id, an agent of another tenant too: the tenant decides, not the user.
        var otherTenant = await server.NewTenantAsync();
        var stranger = new Caller(server, owner.UserId, otherTenant, [Livechat.Auth.Roles.SupportAgent]);

        (await stranger.GetAsync($"{Path}/{id}")).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.PatchAsync($"{Path}/{id}", new { title = "Mine now" })).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.SendAsync(HttpMethod.Delete, $"{Path}/{id}", null)).AssertError(HttpStatusCode.NotFound, "request");
        Assert.Empty(await ShortcutsAsync(stranger));
        Assert.Empty(await ShortcutsAsync(stranger, "&q=secret"));
        Assert.Equal(created.GetRawText(), (await owner.GetAsync($"{Path}/{id}")).AssertStatus(HttpStatusCode.OK).Data.GetRawText());
    }

    [Fact]
    public async Task TenantUsersGet403OnEveryCannedEndpointAndStoreNothing()
    {
        var agent = await AgentOfNewTenantAsync();
        var created = await CreateAsync(agent, "agents-only", "Title", "Body");
        var id = created.Text("id");
        var user = server.TenantUser(agent.TenantId);
        (await user.GetAsync(Path)).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.GetAsync($"{Path}/{id}")).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.PostAsync(Path, new { shortcut = "mine", title = "t", body = "b" })).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.PatchAsync($"{Path}/{id}", new { title = "t" })).AssertError(HttpStatusCode.Forbidden, "request");
        (await user.SendAsync(HttpMethod.Delete, $"{Path}/{id}", null)).AssertError(HttpStatusCode.Forbidden, "request");
        var only = Assert.Single(await agent.WalkAsync($"{Path}?limit=10"));
        Assert.Equal(created.GetRawText(), only.GetRawText());
    }

    [Fact]
    public async Task AnIdempotencyKeyReplaysTheCreateAndStoresOne()
    {
        var agent = await AgentOfNewTenantAsync();
        Action<HttpRequestMessage> key = request => request.Headers.Add("Idempotency-Key", "canned-1");
        var body = new { shortcut = "once", title = "Once", body = "Only once" };
        var first = (await agent.SendAsync(HttpMethod.Post, Path, body, key)).AssertStatus(HttpStatusCode.Created);
        var again = (await agent.SendAsync(HttpMethod.Post, Path, body, key)).AssertStatus(HttpStatusCode.Created);
        Assert.Equal(first.Text, again.Text);
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(["once"], await ShortcutsAsync(agent));
        // Without the key, the same request is a second create: the shortcut is taken.
        (await agent.PostAsync(Path, body)).AssertError(HttpStatusCode.Conflict, "shortcut");
        // A key whose attempt found the shortcut taken keeps that answer (the attempt was recorded with it).
        Action<HttpRequestMessage> other = request => request.Headers.Add("Idempotency-Key", "canned-2");
        var refused = (await agent.SendAsync(HttpMethod.Post, Path, body, other)).AssertError(HttpStatusCode.Conflict, "shortcut");
        var replayed = (await agent.SendAsync(HttpMethod.Post, Path, body, other)).AssertError(HttpStatusCode.Conflict, "shortcut");
        Assert.Equal(refused.Text, replayed.Text);
        Assert.True(replayed.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task RenderingFillsInTheSessionsValues()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant, name: "Carl Customer");
        var session = await customer.StartSessionAsync(agent.UserId);
        var created = await CreateAsync(agent, "hi", "Greeting",
            "Hi {{customer.name}}, {{ agent.name }} here (chat {{session.id}}). {{customer.email}} {{Customer.name}} {{agent.name");

        var read = (await agent.GetAsync($"{Path}/{created.Text("id")}?session_id={session}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal($"Hi Carl Customer, Ann Agent here (chat {session}). {{{{customer.email}}}} {{{{Customer.name}}}} {{{{agent.name", read.Text("rendered"));
        Assert.Equal(created.Text("body"), read.Text("body"));
        // Without a session there is nothing to render.
        Assert.False((await agent.GetAsync($"{Path}/{created.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data.TryGetProperty("rendered", out _));
    }

    [Fact]
    public async Task AValueTheSessionDoesNotHaveRendersEmpty()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant); // no name claim
        var own = await agent.StartSessionAsync(); // an agent's own session has no customer
        var created = await CreateAsync(agent, "hi", "Greeting", "[{{customer.name}}][{{agent.name}}][{{session.id}}]");
        var read = (await agent.GetAsync($"{Path}/{created.Text("id")}?session_id={own}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal($"[][][{own}]", read.Text("rendered"));

        // A tenant user without a name who started a chat: no customer name either, and the named agent's shows.
        var named = server.Agent(tenant, name: "Bo");
        await named.GoOnlineAsync();
        var session = await server.TenantUser(tenant).StartSessionAsync(named.UserId);
        read = (await agent.GetAsync($"{Path}/{created.Text("id")}?session_id={session}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal($"[][Bo][{session}]", read.Text("rendered"));
    }

    [Fact]
    public async Task RenderingForASessionOfAnotherTenantIs404AndAMalformedOneIs400()
    {
        var agent = await AgentOfNewTenantAsync();
        var created = await CreateAsync(agent, "hi", "Greeting", "Hello {{customer.name}}");
        var (_, _, foreignSession) = await server.ConversationAsync();
        var path = $"{Path}/{created.Text("id")}";
        (await agent.GetAsync($"{path}?session_id={foreignSession}")).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.GetAsync($"{path}?session_id={Guid.CreateVersion7()}")).AssertError(HttpStatusCode.NotFound, "request");
        (await agent.GetAsync($"{path}?session_id=nope")).AssertError(HttpStatusCode.BadRequest, "session_id");
        (await agent.GetAsync($"{Path}/nope")).AssertError(HttpStatusCode.BadRequest, "id");
        (await agent.GetAsync($"{Path}/{Guid.CreateVersion7()}")).AssertError(HttpStatusCode.NotFound, "request");
    }
}

public sealed class CannedResponseTestsOnSqlite(SqliteServer server) : CannedResponseTests(server), IClassFixture<SqliteServer>;

public sealed class CannedResponseTestsOnPostgres(PostgresServer server) : CannedResponseTests(server), IClassFixture<PostgresServer>;
