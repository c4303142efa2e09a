using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Livechat.Tests.Security;

/// <summary>
/// OWASP API3:2023 Broken Object Property Level Authorization (mass assignment and excessive data exposure).
/// Server-owned fields sent in a body (id, tenant_id, sender_id, session_id, agent_id, created_at, updated_at,
/// status on start, read_at, ticket titles...) are ignored: the stored object is what the server decided and
/// no other object changes. Responses, hub events and SSE events carry exactly the contract's properties, so
/// internal columns (seq, last_seq, created_by, origin) never leave the service.
/// </summary>
public abstract class Api3PropertyLevelAuthorizationTests(LivechatServer server)
{
    private static readonly string[] Internal = ["seq", "last_seq", "created_by", "origin", "offline_after", "user_ids", "participants", "password", "token"];

    private static readonly Dictionary<string, string[]> Shapes = new(StringComparer.Ordinal)
    {
        // queue_position (section 10); unread_count and last_message: computed for the caller on the GETs (section 11); rating (section 20).
        ["session"] = ["id", "tenant_id", "agent_id", "status", "created_at", "updated_at", "queue_position", "unread_count", "last_message", "rating", "customer_id", "customer_name", "agent_name", "labels"],
        ["message"] = ["id", "session_id", "sender_id", "message", "created_at", "sender_name"],
        ["ticket"] = ["id", "tenant_id", "agent_id", "title", "category", "priority", "status", "description", "created_at", "updated_at"],
        ["notification"] = ["id", "tenant_id", "user_id", "type", "session_id", "message_id", "preview", "created_at", "read_at"],
        ["agent"] = ["agent_id", "tenant_id", "presence", "last_seen_at", "max_sessions", "open_sessions"],
        ["read-all"] = ["marked"],
    };

    private static void AssertShape(string shape, JsonElement item)
    {
        Assert.Equal(JsonValueKind.Object, item.ValueKind);
        var names = item.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        Assert.True(names.IsSubsetOf(Shapes[shape]), $"{shape} has properties beyond the contract: {item}");
        Assert.DoesNotContain(Probe.PropertyNames(item), n => Internal.Contains(n));
    }

    private static void AssertEach(string shape, JsonElement data)
    {
        if (data.ValueKind == JsonValueKind.Array) foreach (var item in data.EnumerateArray()) AssertShape(shape, item);
        else AssertShape(shape, data);
    }

    private static readonly string Forged = "00000000-0000-7000-8000-000000000001";
    private const string LongAgo = "2000-01-01T00:00:00Z";

    private static void AssertRecent(JsonElement item, string property)
    {
        var at = DateTimeOffset.Parse(item.GetProperty(property).GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(at, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task StartingASessionIgnoresServerOwnedFields()
    {
        var tenant = await server.NewTenantAsync();
        var other = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var reply = (await agent.PostAsync("/livechat/sessions", new
        {
            id = Forged, tenant_id = other, status = "CLOSED", created_at = LongAgo, updated_at = LongAgo, last_seq = 1000, created_by = 1,
        })).AssertStatus(HttpStatusCode.Created);
        var session = reply.Data;
        Assert.NotEqual(Forged, session.Text("id"));
        Assert.Equal(tenant, session.GetProperty("tenant_id").GetInt64());
        Assert.Equal(agent.UserId, session.GetProperty("agent_id").GetInt64());
        Assert.Equal("OPEN", session.Text("status"));
        AssertRecent(session, "created_at");
        AssertRecent(session, "updated_at");

        var stored = (await agent.GetAsync($"/livechat/sessions/{session.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(session.ToString(), stored.WithoutCallerFields());
        (await agent.GetAsync($"/livechat/sessions/{Forged}")).AssertError(HttpStatusCode.NotFound, "request");
        Assert.Empty((await server.Agent(other).GetAsync("/livechat/sessions?limit=100")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());

        // Its first message still gets order key 1: the forged last_seq did nothing.
        var first = await agent.SendMessageAsync(session.Text("id"), "first");
        var page = (await agent.GetAsync($"/livechat/sessions/{session.Text("id")}/messages?limit=5")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([first.Text("id")], page.Ids());
        Assert.False(page.Pagination.GetProperty("has_prev").GetBoolean());
    }

    [Fact]
    public async Task SendingAMessageIgnoresServerOwnedFields()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var session = await agent.StartSessionAsync();
        var colleague = server.Agent(tenant);
        var otherSession = await colleague.StartSessionAsync();
        var reply = (await agent.PostAsync($"/livechat/sessions/{session}/messages", new
        {
            message = "mine",
            id = Forged, session_id = otherSession, sender_id = colleague.UserId, agent_id = colleague.UserId,
            tenant_id = tenant + 1, created_at = LongAgo, seq = 1,
        })).AssertStatus(HttpStatusCode.Created);
        var message = reply.Data;
        Assert.NotEqual(Forged, message.Text("id"));
        Assert.Equal(session, message.Text("session_id"));
        Assert.Equal(agent.UserId, message.GetProperty("sender_id").GetInt64());
        Assert.Equal("mine", message.Text("message"));
        AssertRecent(message, "created_at");
        Assert.Empty((await colleague.GetAsync($"/livechat/sessions/{otherSession}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        var listed = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(message.ToString(), listed[0].ToString());
    }

    [Fact]
    public async Task ClosingASessionChangesOnlyItsStatus()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var other = server.Agent(tenant);
        var session = await agent.StartSessionAsync();
        var before = (await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK).Data;
        var closed = (await agent.PatchAsync($"/livechat/sessions/{session}", new
        {
            status = "CLOSED", agent_id = other.UserId, tenant_id = tenant + 1, id = Forged, created_at = LongAgo,
        })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("CLOSED", closed.Text("status"));
        foreach (var property in new[] { "id", "tenant_id", "agent_id", "created_at" })
            Assert.Equal(before.GetProperty(property).ToString(), closed.GetProperty(property).ToString());
    }

    [Fact]
    public async Task SettingPresenceChangesOnlyTheCallersPresence()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var other = server.Agent(tenant);
        await other.GoOnlineAsync();
        var set = (await agent.PutAsync("/livechat/agents/me/presence", new
        {
            status = "AWAY", agent_id = other.UserId, tenant_id = tenant + 1, last_seen_at = LongAgo,
        })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(agent.UserId, set.GetProperty("agent_id").GetInt64());
        Assert.Equal(tenant, set.GetProperty("tenant_id").GetInt64());
        AssertRecent(set, "last_seen_at");
        var agents = (await agent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal("ONLINE", agents.Single(a => a.GetProperty("agent_id").GetInt64() == other.UserId).Text("presence"));
        Assert.Equal("AWAY", agents.Single(a => a.GetProperty("agent_id").GetInt64() == agent.UserId).Text("presence"));
    }

    [Fact]
    public async Task MarkingANotificationReadIgnoresABodyThatNamesTheTimeOrTheOwner()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var user = server.TenantUser(tenant);
        var session = await user.StartSessionAsync(agent.UserId);
        await agent.SendMessageAsync(session, "reply");
        var id = (await user.GetAsync("/notifications?limit=5")).AssertStatus(HttpStatusCode.OK).Ids()[0];
        var read = (await user.PostAsync($"/notifications/{id}/read", new { read_at = LongAgo, user_id = agent.UserId, preview = "forged" }))
            .AssertStatus(HttpStatusCode.OK).Data;
        AssertRecent(read, "read_at");
        Assert.Equal(user.UserId, read.GetProperty("user_id").GetInt64());
        Assert.Equal("reply", read.Text("preview"));
    }

    [Fact]
    public async Task UpdatingATicketChangesOnlyItsStatusAndAssignee()
    {
        var tenant = await server.NewTenantAsync();
        var offline = server.Agent(tenant);
        (await offline.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        var user = server.TenantUser(tenant);
        var ticketId = (await user.PostAsync("/livechat/sessions", new { agent_id = offline.UserId }))
            .AssertError(HttpStatusCode.BadRequest, "agent_id").Meta.GetProperty("ticket_id").GetString()!;
        var before = (await offline.GetAsync($"/tickets/{ticketId}")).AssertStatus(HttpStatusCode.OK).Data;
        var after = (await offline.PatchAsync($"/tickets/{ticketId}", new
        {
            status = "in_progress", id = Forged, tenant_id = tenant + 1, title = "pwned", description = "pwned", category = "x",
            priority = "urgent", created_at = LongAgo, origin = "manual",
        })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("in_progress", after.Text("status"));
        foreach (var property in new[] { "id", "tenant_id", "agent_id", "title", "description", "category", "priority", "created_at" })
            Assert.Equal(before.GetProperty(property).ToString(), after.GetProperty(property).ToString());
    }

    [Theory]
    [InlineData("\"7\"")]
    [InlineData("7.5")]
    [InlineData("-7")]
    [InlineData("true")]
    [InlineData("[7]")]
    [InlineData("{\"$gt\":0}")]
    [InlineData("1e3")]
    public async Task AgentIdMustBeAPlainPositiveInteger(string value)
    {
        var agent = server.Agent(await server.NewTenantAsync());
        (await agent.PostAsync("/livechat/sessions", $"{{\"agent_id\":{value}}}")).AssertError(HttpStatusCode.BadRequest, "agent_id");
    }

    [Fact]
    public async Task EveryResponseEventAndStreamCarriesOnlyContractProperties()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var user = server.TenantUser(tenant);
        await using var agentHub = await HubClient.ConnectAsync(server, agent);
        await using var userHub = await HubClient.ConnectAsync(server, user);
        var started = (await user.PostAsync("/livechat/sessions", new { agent_id = agent.UserId })).AssertStatus(HttpStatusCode.Created);
        var session = started.Data.Text("id");
        await agentHub.Connection.InvokeAsync("JoinSession", session);
        await using var sse = await SseClient.OpenAsync(server, user, session);

        var sent = (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "hello" })).AssertStatus(HttpStatusCode.Created);
        var offline = server.Agent(tenant);
        (await offline.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        var refused = (await user.PostAsync("/livechat/sessions", new { agent_id = offline.UserId })).AssertError(HttpStatusCode.BadRequest, "agent_id");
        var notificationId = (await user.GetAsync("/notifications?limit=5")).AssertStatus(HttpStatusCode.OK).Ids()[0];

        var replies = new List<(string Shape, Reply Reply)>
        {
            ("session", started),
            ("session", (await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK)),
            ("session", (await agent.GetAsync("/livechat/sessions?limit=10")).AssertStatus(HttpStatusCode.OK)),
            ("message", sent),
            ("message", (await user.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK)),
            ("ticket", (await offline.GetAsync("/tickets?limit=10")).AssertStatus(HttpStatusCode.OK)),
            ("ticket", (await offline.GetAsync($"/tickets/{refused.Meta.GetProperty("ticket_id").GetString()}")).AssertStatus(HttpStatusCode.OK)),
            ("ticket", (await offline.PatchAsync($"/tickets/{refused.Meta.GetProperty("ticket_id").GetString()}", new { status = "in_progress" })).AssertStatus(HttpStatusCode.OK)),
            ("notification", (await user.GetAsync("/notifications?limit=10")).AssertStatus(HttpStatusCode.OK)),
            ("notification", (await user.PostAsync($"/notifications/{notificationId}/read", null)).AssertStatus(HttpStatusCode.OK)),
            ("read-all", (await user.PostAsync("/notifications/read-all", null)).AssertStatus(HttpStatusCode.OK)),
            ("agent", (await agent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK)),
            ("agent", (await agent.PutAsync("/livechat/agents/me/presence", new { status = "ONLINE" })).AssertStatus(HttpStatusCode.OK)),
            ("session", (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK)),
        };
        foreach (var (shape, reply) in replies)
        {
            AssertEach(shape, reply.Data);
            var meta = reply.Meta.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            Assert.True(meta.IsSubsetOf(["request_id", "timestamp", "pagination", "ticket_id", "session_id"]), reply.Text);
            Assert.DoesNotContain(Probe.PropertyNames(reply.Body), n => Internal.Contains(n));
        }
        var refusedMeta = refused.Meta.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        Assert.True(refusedMeta.IsSubsetOf(["request_id", "timestamp", "ticket_id"]), refused.Text);

        AssertShape("message", await agentHub.NextAsync("messageCreated"));
        AssertShape("notification", await userHub.NextAsync("notificationCreated"));
        AssertShape("session", await agentHub.NextAsync("sessionUpdated"));
        AssertShape("agent", await agentHub.NextAsync("presenceUpdated"));
        var (id, data) = await sse.NextAsync();
        AssertShape("message", data);
        Assert.Equal(sent.Data.Text("id"), id);
    }
}

public sealed class Api3PropertyLevelAuthorizationTestsOnSqlite(SqliteServer server) : Api3PropertyLevelAuthorizationTests(server), IClassFixture<SqliteServer>;

public sealed class Api3PropertyLevelAuthorizationTestsOnPostgres(PostgresServer server) : Api3PropertyLevelAuthorizationTests(server), IClassFixture<PostgresServer>;
