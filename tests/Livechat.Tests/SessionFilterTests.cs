using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>Contract section 18: the session list's filters, combined, on the keyset pages; and the customer and names on a session.</summary>
public abstract class SessionFilterTests(LivechatServer server)
{
    private static async Task<List<string>> IdsAsync(Caller caller, string query) =>
        (await caller.WalkAsync($"/livechat/sessions?limit=2&{query}")).Select(s => s.Text("id")).ToList();

    /// <summary>A tenant with two agents (one ONLINE with room for one chat) and sessions of each kind, newest last.</summary>
    private async Task<Desk> DeskAsync()
    {
        var tenant = await server.NewTenantAsync();
        var ana = server.Agent(tenant, name: "Ana");
        var ben = server.Agent(tenant);
        var alice = server.TenantUser(tenant, name: "Alice");
        var bob = server.TenantUser(tenant);
        await ana.GoOnlineAsync();
        (await ana.PatchAsync("/livechat/agents/me", new { max_sessions = 1 })).AssertStatus(HttpStatusCode.OK);
        var byAlice = (await alice.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data; // routed to Ana
        var queued = (await bob.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;    // Ana is full: queued
        var closed = (await ben.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;     // Ben's own, closed
        (await ben.PatchAsync($"/livechat/sessions/{closed.Text("id")}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var byBen = (await ben.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;     // and open
        (await ben.PutAsync($"/livechat/sessions/{byAlice.Text("id")}/labels", new { labels = new[] { "billing" } })).AssertStatus(HttpStatusCode.OK);
        (await ben.PutAsync($"/livechat/sessions/{closed.Text("id")}/labels", new { labels = new[] { "billing", "vip" } })).AssertStatus(HttpStatusCode.OK);
        return new Desk(ana, ben, alice, bob, byAlice, queued, byBen, closed);
    }

    private sealed record Desk(Caller Ana, Caller Ben, Caller Alice, Caller Bob, JsonElement ByAlice, JsonElement Queued, JsonElement ByBen, JsonElement Closed)
    {
        public string Id(JsonElement session) => session.Text("id");
    }

    [Fact]
    public async Task EachFilterAloneSelectsItsSessionsNewestFirst()
    {
        var d = await DeskAsync();
        Assert.Equal([d.Id(d.ByAlice)], await IdsAsync(d.Ben, $"agent_id={d.Ana.UserId}"));
        Assert.Equal([d.Id(d.ByAlice)], await IdsAsync(d.Ana, "agent_id=me"));
        Assert.Equal([d.Id(d.ByBen), d.Id(d.Closed)], await IdsAsync(d.Ben, "agent_id=me"));
        Assert.Equal([d.Id(d.Queued)], await IdsAsync(d.Ben, $"customer_id={d.Bob.UserId}"));
        Assert.Equal([d.Id(d.Closed), d.Id(d.ByAlice)], await IdsAsync(d.Ben, "label=billing"));
        Assert.Equal([d.Id(d.Closed), d.Id(d.ByAlice)], await IdsAsync(d.Ben, "label=BILLING"));
        Assert.Equal([d.Id(d.Closed)], await IdsAsync(d.Ben, "label=vip"));
        Assert.Empty(await IdsAsync(d.Ben, "label=nobody-has-it"));
        Assert.Equal([d.Id(d.Queued)], await IdsAsync(d.Ben, "queued=true"));
        Assert.Equal([d.Id(d.ByBen), d.Id(d.Closed), d.Id(d.ByAlice)], await IdsAsync(d.Ben, "queued=false"));
        var from = Uri.EscapeDataString(d.Queued.Text("created_at"));
        var to = Uri.EscapeDataString(d.ByBen.Text("created_at"));
        Assert.Equal([d.Id(d.ByBen), d.Id(d.Closed), d.Id(d.Queued)], await IdsAsync(d.Ben, $"from={from}"));
        Assert.Equal([d.Id(d.Queued), d.Id(d.ByAlice)], await IdsAsync(d.Ben, $"to={Uri.EscapeDataString(d.Closed.Text("created_at"))}"));
        Assert.Equal([d.Id(d.Closed), d.Id(d.Queued)], await IdsAsync(d.Ben, $"from={from}&to={to}"));
    }

    [Fact]
    public async Task FiltersCombineWithAndAndKeepTheirPagesInBothDirections()
    {
        var d = await DeskAsync();
        Assert.Equal([d.Id(d.Closed)], await IdsAsync(d.Ben, "label=billing&status=CLOSED"));
        Assert.Equal([d.Id(d.ByAlice)], await IdsAsync(d.Ben, $"label=billing&customer_id={d.Alice.UserId}&agent_id={d.Ana.UserId}&queued=false"));
        Assert.Empty(await IdsAsync(d.Ben, $"label=vip&agent_id={d.Ana.UserId}"));

        // Pages of one: forward to the oldest, then backward from it to the newest.
        var forward = (await d.Ben.WalkAsync("/livechat/sessions?limit=1&queued=false")).Select(s => s.Text("id")).ToList();
        Assert.Equal([d.Id(d.ByBen), d.Id(d.Closed), d.Id(d.ByAlice)], forward);
        var back = (await d.Ben.GetAsync($"/livechat/sessions?limit=5&queued=false&cursor={d.Id(d.ByAlice)}&direction=backward")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([d.Id(d.ByBen), d.Id(d.Closed)], back.Data.EnumerateArray().Select(s => s.Text("id")).ToList());
    }

    [Theory]
    [InlineData("agent_id=0", "agent_id")]
    [InlineData("agent_id=-1", "agent_id")]
    [InlineData("agent_id=you", "agent_id")]
    [InlineData("agent_id=1.5", "agent_id")]
    [InlineData("customer_id=me", "customer_id")]
    [InlineData("customer_id=0", "customer_id")]
    [InlineData("customer_id=99999999999999999999", "customer_id")]
    [InlineData("label=", "label")]
    [InlineData("label=bill%20ing", "label")]
    [InlineData("label=-x", "label")]
    [InlineData("label=caf%C3%A9", "label")]
    [InlineData("queued=yes", "queued")]
    [InlineData("queued=1", "queued")]
    [InlineData("from=2026-12-01", "from")]
    [InlineData("from=2026-12-01T08:00:00", "from")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01T08:00:00Z", "to")]
    [InlineData("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "to")]
    [InlineData("from=2026-12-01T00:00:00Z&to=2026-12-01T00:00:00Z", "to")]
    [InlineData("status=open", "status")]
    public async Task AnUnreadableFilterIs400OnItsKey(string query, string key)
    {
        var (agent, _, _) = await server.ConversationAsync();
        (await agent.GetAsync($"/livechat/sessions?{query}")).AssertError(HttpStatusCode.BadRequest, key);
    }

    [Fact]
    public async Task ASessionNamesItsCustomerAndAgentAndAnAgentsOwnSessionHasNoCustomer()
    {
        var d = await DeskAsync();
        var byAlice = (await d.Ben.GetAsync($"/livechat/sessions/{d.Id(d.ByAlice)}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(d.Alice.UserId, byAlice.GetProperty("customer_id").GetInt64());
        Assert.Equal("Alice", byAlice.Text("customer_name"));
        Assert.Equal("Ana", byAlice.Text("agent_name"));
        // The 201 of the start said so already.
        Assert.Equal("Alice", d.ByAlice.Text("customer_name"));
        Assert.Equal("Ana", d.ByAlice.Text("agent_name"));
        // Bob has no name: his id only; the queued session has no agent and so no agent_name.
        var queued = (await d.Ben.GetAsync($"/livechat/sessions/{d.Id(d.Queued)}")).Data;
        Assert.Equal(d.Bob.UserId, queued.GetProperty("customer_id").GetInt64());
        Assert.False(queued.TryGetProperty("customer_name", out _));
        Assert.False(queued.TryGetProperty("agent_name", out _));
        // Ben (no name) started his own: no customer at all.
        var byBen = (await d.Ben.GetAsync("/livechat/sessions?limit=50")).Data.EnumerateArray().Single(s => s.Text("id") == d.Id(d.ByBen));
        Assert.False(byBen.TryGetProperty("customer_id", out _));
        Assert.False(byBen.TryGetProperty("customer_name", out _));
        Assert.False(byBen.TryGetProperty("agent_name", out _));
    }

    [Fact]
    public async Task AMessageNamesItsSenderAsItWasNamedWhenItSentEverywhereTheMessageIsRead()
    {
        var d = await DeskAsync();
        var session = d.Id(d.ByAlice);
        await using var stream = await SseClient.OpenUserStreamAsync(server, d.Ana);
        var first = (await d.Alice.PostAsync($"/livechat/sessions/{session}/messages", new { message = "hello" })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal("Alice", first.Text("sender_name"));
        var pushed = await stream.NextNamedAsync("messageCreated");
        Assert.Equal("Alice", pushed.Text("sender_name"));
        var reply = (await d.Ana.PostAsync($"/livechat/sessions/{session}/messages", new { message = "hi Alice" })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal("Ana", reply.Text("sender_name"));
        // A sender without a name has none: no property, not an empty one.
        var unnamed = (await d.Ben.PostAsync($"/livechat/sessions/{session}/messages", new { message = "Ben here" })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.False(unnamed.TryGetProperty("sender_name", out _));

        // Alice's next token carries another name: her next message has it, the first keeps the name it was sent with.
        var renamed = server.TenantUser(d.Alice.TenantId, d.Alice.UserId, name: "Alice Liddell");
        var second = (await renamed.PostAsync($"/livechat/sessions/{session}/messages", new { message = "again" })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal("Alice Liddell", second.Text("sender_name"));

        var page = (await d.Ben.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal(["Alice", "Ana", null, "Alice Liddell"], page.Select(m => m.TryGetProperty("sender_name", out var n) ? n.GetString() : null));
        var listed = (await d.Ben.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("Alice Liddell", listed.GetProperty("last_message").Text("sender_name"));
        Assert.Equal("Alice Liddell", listed.Text("customer_name"));
    }
}

public sealed class SessionFilterTestsOnSqlite(SqliteServer server) : SessionFilterTests(server), IClassFixture<SqliteServer>;

public sealed class SessionFilterTestsOnPostgres(PostgresServer server) : SessionFilterTests(server), IClassFixture<PostgresServer>;
