using System.Net;
using System.Text.Json;
using Livechat.Data;
using Livechat.Tests.Attachments;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Livechat.Tests.Attachments.AttachmentKit;

namespace Livechat.Tests;

/// <summary>A server on a clock the test moves, with files, webhooks to loopback allowed, and small purge batches.</summary>
public class PrivacyServer : LivechatServer
{
    public PrivacyServer(DatabaseProvider provider) : base(provider)
    {
        AttachmentSettings.Apply(this, databaseStore: provider == DatabaseProvider.Postgres);
        Settings["Livechat:Webhooks:AllowPrivateNetworks"] = "true";
        Settings["Livechat:Retention:IntervalSeconds"] = "3600";
        Settings["Livechat:Retention:MessagesPerBatch"] = "3"; // every purge and erasure of a test runs in several batches
        Settings["Livechat:Retention:PauseMilliseconds"] = "0";
        ConfigureServices = services => services.AddSingleton<TimeProvider>(Clock);
    }

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    public Caller Admin(long tenantId) => new(this, NewUserId(), tenantId, ["SUPPORT_ADMIN"]);

    /// <summary>How many rows <paramref name="table"/> holds where <paramref name="where"/> (over <c>@tenant</c> and <c>@id</c>) holds.</summary>
    public Task<long> CountAsync(string table, string where, long tenant, object id) =>
        Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT COUNT(*) FROM {table} WHERE tenant_id = @tenant AND {where}").With("tenant", tenant);
            if (id is Guid guid) command.With("id", guid); else command.With("id", (long)id);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }, CancellationToken.None);
}

public sealed class PrivacySqliteServer() : PrivacyServer(DatabaseProvider.Sqlite);

public sealed class PrivacyPostgresServer() : PrivacyServer(DatabaseProvider.Postgres);

/// <summary>Contract section 21: settings, the retention purge, erasure and the audit log, on one instance.</summary>
public abstract class PrivacyTests(PrivacyServer server)
{
    private static async Task<List<JsonElement>> AuditAsync(Caller admin) =>
        (await admin.GetAsync("/livechat/audit?limit=100")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();

    private static Action<HttpRequestMessage> RequestId(string id) => request => request.Headers.Add("X-Request-ID", id);

    /// <summary>The clock stands still unless moved: a millisecond between two audited actions orders them as they happened.</summary>
    private void Tick() => server.Clock.Advance(TimeSpan.FromMilliseconds(1));

    /// <summary>SQLite: the tenant's FTS5 entries holding <paramref name="word"/> (PostgreSQL keeps them on the rows: 0 here).</summary>
    private Task<long> SearchEntriesAsync(long tenant, string word) => server.Provider != DatabaseProvider.Sqlite ? Task.FromResult(0L)
        : server.Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT COUNT(*) FROM message_search WHERE message_search MATCH @match")
                .With("match", $"tenant : t{tenant} AND body : \"{word}\"");
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }, CancellationToken.None);

    [Fact]
    public async Task AnAdminReadsAndSetsRetentionAndEachChangeIsAudited()
    {
        var tenant = await server.NewTenantAsync();
        var admin = server.Admin(tenant);
        var settings = (await admin.GetAsync("/livechat/settings")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal("""{"retention_days":null}""", settings.GetRawText());

        Assert.Equal(30, (await admin.SendAsync(HttpMethod.Patch, "/livechat/settings", new { retention_days = 30 }, RequestId("set-30")))
            .AssertStatus(HttpStatusCode.OK).Data.GetProperty("retention_days").GetInt32());
        Assert.Equal(30, (await admin.GetAsync("/livechat/settings")).Data.GetProperty("retention_days").GetInt32());
        Tick();
        Assert.Equal(JsonValueKind.Null, (await admin.PatchAsync("/livechat/settings", new { retention_days = (int?)null }))
            .AssertStatus(HttpStatusCode.OK).Data.GetProperty("retention_days").ValueKind);
        Tick();
        (await admin.PatchAsync("/livechat/settings", new { retention_days = 3650 })).AssertStatus(HttpStatusCode.OK);

        var audit = await AuditAsync(admin);
        Assert.Equal(["retention_days=3650", "retention_days=null", "retention_days=30"], audit.Select(e => e.Text("target")));
        Assert.All(audit, e => Assert.Equal("settings.updated", e.Text("action")));
        Assert.All(audit, e => Assert.Equal(admin.UserId, e.GetProperty("actor_id").GetInt64()));
        Assert.Equal("set-30", audit[2].Text("request_id"));
        Assert.True(audit[0].EnumerateObject().Select(p => p.Name).ToHashSet().SetEquals(["id", "actor_id", "action", "target", "request_id", "created_at"]));
        // Another tenant's admin sees its own (empty) log and settings.
        var stranger = server.Admin(await server.NewTenantAsync());
        Assert.Empty(await AuditAsync(stranger));
        Assert.Equal(JsonValueKind.Null, (await stranger.GetAsync("/livechat/settings")).Data.GetProperty("retention_days").ValueKind);
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"retention_days":0}""")]
    [InlineData("""{"retention_days":-1}""")]
    [InlineData("""{"retention_days":3651}""")]
    [InlineData("""{"retention_days":1.5}""")]
    [InlineData("""{"retention_days":"30"}""")]
    [InlineData("""{"retention_days":true}""")]
    [InlineData("""{"retention_days":[30]}""")]
    [InlineData("""{"retention_days":99999999999}""")]
    public async Task EveryBadRetentionIs400AndChangesNothing(string json)
    {
        var admin = server.Admin(await server.NewTenantAsync());
        (await admin.PatchAsync("/livechat/settings", new { retention_days = 7 })).AssertStatus(HttpStatusCode.OK);
        (await admin.PatchAsync("/livechat/settings", json)).AssertError(HttpStatusCode.BadRequest, "retention_days");
        Assert.Equal(7, (await admin.GetAsync("/livechat/settings")).Data.GetProperty("retention_days").GetInt32());
        Assert.Single(await AuditAsync(admin)); // the refusal wrote no audit row
    }

    [Fact]
    public async Task OnlyASupportAdminMayUseSettingsErasuresAndTheAuditLog()
    {
        var (agent, customer, _) = await server.ConversationAsync();
        var admin = server.Admin(agent.TenantId);
        foreach (var caller in new[] { agent, customer })
        {
            (await caller.GetAsync("/livechat/settings")).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.PatchAsync("/livechat/settings", new { retention_days = 1 })).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.PostAsync($"/livechat/users/{customer.UserId}/erase", null)).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.GetAsync($"/livechat/erasures/{Guid.CreateVersion7()}")).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.GetAsync("/livechat/audit")).AssertError(HttpStatusCode.Forbidden, "request");
        }
        // The audit log is read-only through the API.
        (await admin.PostAsync("/livechat/audit", new { action = "forged" })).AssertError(HttpStatusCode.MethodNotAllowed, "request");
        (await admin.SendAsync(HttpMethod.Delete, "/livechat/audit", null)).AssertError(HttpStatusCode.MethodNotAllowed, "request");
        // Nothing was changed or stored by the refusals.
        Assert.Equal(JsonValueKind.Null, (await admin.GetAsync("/livechat/settings")).Data.GetProperty("retention_days").ValueKind);
        Assert.Empty(await AuditAsync(admin));
        Assert.Equal(0, await server.CountAsync("erasure_jobs", "user_id = @id", agent.TenantId, customer.UserId));
    }

    [Fact]
    public async Task AnErasureOfAnUnknownUserOrJobIsRefusedAndStoresNothing()
    {
        var (agent, customer, _) = await server.ConversationAsync();
        var admin = server.Admin(agent.TenantId);
        (await admin.PostAsync($"/livechat/users/{LivechatServer.NewUserId()}/erase", null)).AssertError(HttpStatusCode.NotFound, "request");
        (await admin.PostAsync($"/livechat/users/{agent.UserId}/erase", null)).AssertError(HttpStatusCode.NotFound, "request"); // an agent is no tenant user
        (await admin.PostAsync("/livechat/users/abc/erase", null)).AssertError(HttpStatusCode.BadRequest, "id");
        (await admin.PostAsync("/livechat/users/0/erase", null)).AssertError(HttpStatusCode.BadRequest, "id");
        (await admin.GetAsync($"/livechat/erasures/{Guid.CreateVersion7()}")).AssertError(HttpStatusCode.NotFound, "request");
        (await admin.GetAsync("/livechat/erasures/nope")).AssertError(HttpStatusCode.BadRequest, "job_id");
        // A customer of another tenant is unknown here, and its job is not this tenant's.
        var (otherAgent, otherCustomer, _) = await server.ConversationAsync();
        (await admin.PostAsync($"/livechat/users/{otherCustomer.UserId}/erase", null)).AssertError(HttpStatusCode.NotFound, "request");
        var foreignJob = (await server.Admin(otherAgent.TenantId).PostAsync($"/livechat/users/{otherCustomer.UserId}/erase", null))
            .AssertStatus(HttpStatusCode.Accepted).Data.Text("job_id");
        (await admin.GetAsync($"/livechat/erasures/{foreignJob}")).AssertError(HttpStatusCode.NotFound, "request");
        Assert.Empty(await AuditAsync(admin));
        Assert.Equal(0, await server.CountAsync("erasure_jobs", "user_id > @id", agent.TenantId, 0L));
        // Positive control: the same admin can erase this tenant's customer.
        (await admin.PostAsync($"/livechat/users/{customer.UserId}/erase", null)).AssertStatus(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task AnErasureLeavesPlaceholdersAndNothingReadableOfTheUserAndTouchesNoOtherTenant()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Agent Smith");
        await agent.GoOnlineAsync();
        var customer = server.TenantUser(tenant, name: "Ada Lovelace");
        var session = await customer.StartSessionAsync(agent.UserId);
        var upload = (await customer.UploadAsync(session, Png)).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        var first = (await customer.PostAsync($"/livechat/sessions/{session}/messages", new { message = "my secret address", attachment_ids = new[] { upload } }))
            .AssertStatus(HttpStatusCode.Created).Data;
        var reply = await agent.SendMessageAsync(session, "noted, thank you");
        var second = await customer.SendMessageAsync(session, "and my phone number");
        (await customer.PostAsync($"/livechat/sessions/{session}/read", new { message_id = reply.Text("id") })).AssertStatus(HttpStatusCode.OK);
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        (await customer.PostAsync($"/livechat/sessions/{session}/rating", new { score = 2, comment = "my private complaint" })).AssertStatus(HttpStatusCode.Created);
        Assert.NotEmpty((await customer.GetAsync("/notifications?limit=50")).Data.EnumerateArray());
        var before = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK).Ids();

        // The same user id in another tenant, which the erasure must not touch.
        var otherTenant = await server.NewTenantAsync();
        var otherAgent = server.Agent(otherTenant);
        await otherAgent.GoOnlineAsync();
        var sameUserElsewhere = server.TenantUser(otherTenant, customer.UserId, name: "Ada Lovelace");
        var otherSession = await sameUserElsewhere.StartSessionAsync(otherAgent.UserId);
        await sameUserElsewhere.SendMessageAsync(otherSession, "kept in the other tenant");

        var admin = server.Admin(tenant);
        var accepted = (await admin.SendAsync(HttpMethod.Post, $"/livechat/users/{customer.UserId}/erase", null, RequestId("erase-ada")))
            .AssertStatus(HttpStatusCode.Accepted).Data;
        var job = accepted.Text("job_id");
        JsonElement status = default;
        await Eventually.Async(async () =>
        {
            status = (await admin.GetAsync($"/livechat/erasures/{job}")).AssertStatus(HttpStatusCode.OK).Data;
            Assert.Equal("done", status.Text("status"));
        });
        var counts = status.GetProperty("counts");
        Assert.Equal(2, counts.GetProperty("messages").GetInt32());
        Assert.Equal(1, counts.GetProperty("attachments").GetInt32());
        Assert.Equal(1, counts.GetProperty("ratings").GetInt32());
        Assert.Equal(1, counts.GetProperty("names").GetInt32());
        Assert.True(counts.GetProperty("read_markers").GetInt32() >= 1);
        Assert.True(counts.GetProperty("notifications").GetInt32() >= 1);

        // Placeholders: same ids in the same order, the customer's text and files gone, the agent's reply as it was.
        var messages = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().ToList();
        Assert.Equal(before, messages.Select(m => m.Text("id")));
        foreach (var erased in messages.Where(m => m.GetProperty("sender_id").GetInt64() == customer.UserId))
        {
            Assert.Equal("", erased.Text("message"));
            Assert.True(erased.GetProperty("deleted").GetBoolean());
            Assert.False(erased.TryGetProperty("attachments", out _));
        }
        Assert.All(messages.Where(m => m.GetProperty("sender_id").GetInt64() == customer.UserId), erased => Assert.False(erased.TryGetProperty("sender_name", out _)));
        // Search finds nothing the user said (its index entries went with the text), the agent's reply still.
        Assert.Empty((await agent.GetAsync("/livechat/search?q=secret")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        Assert.Empty((await agent.GetAsync("/livechat/search?q=phone%20number")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        Assert.Single((await agent.GetAsync("/livechat/search?q=noted")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        Assert.Equal(0, await SearchEntriesAsync(tenant, "secret"));
        Assert.Equal(reply.ToString(), messages.Single(m => m.Text("id") == reply.Text("id")).ToString());
        Assert.DoesNotContain("secret", (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).Text);
        // A cursor at an erased message still works.
        (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=10&cursor={first.Text("id")}")).AssertStatus(HttpStatusCode.OK);

        // The session: no rating, no remembered name; its last message is the placeholder.
        var read = (await agent.GetAsync($"/livechat/sessions/{session}")).AssertStatus(HttpStatusCode.OK);
        Assert.False(read.Data.TryGetProperty("rating", out _));
        Assert.False(read.Data.TryGetProperty("customer_name", out _));
        Assert.Equal(second.Text("id"), read.Data.GetProperty("last_message").Text("id"));
        Assert.True(read.Data.GetProperty("last_message").GetProperty("deleted").GetBoolean());
        Assert.DoesNotContain("Ada", read.Text);
        Assert.DoesNotContain("complaint", read.Text);
        Assert.False((await agent.GetAsync($"/livechat/users/{customer.UserId}")).Data.TryGetProperty("name", out _));
        // Its file, its notifications, the notifications that quoted it, its rating in the reports.
        (await customer.GetAsync($"/livechat/attachments/{upload}")).AssertError(HttpStatusCode.NotFound, "request");
        await AssertNothingStoredAsync(server, tenant);
        Assert.Empty((await customer.GetAsync("/notifications?limit=50")).Data.EnumerateArray());
        Assert.DoesNotContain("secret", (await agent.GetAsync("/notifications?limit=50")).Text);
        Assert.Equal(0, await server.CountAsync("read_markers", "user_id = @id", tenant, customer.UserId));
        var today = DateOnly.FromDateTime(server.Clock.GetUtcNow().UtcDateTime);
        var report = (await agent.GetAsync($"/livechat/reports/summary?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, report.Data.GetProperty("rating").GetProperty("count").GetInt64());
        // The per-session stream's replay reads the same rows.
        await using (var stream = await SseClient.OpenAsync(server, agent, session, lastEventId: first.Text("id")))
        {
            var (_, replayed) = await stream.NextAsync();
            Assert.Equal(reply.Text("id"), replayed.Text("id"));
            var (_, placeholder) = await stream.NextAsync();
            Assert.Equal("", placeholder.Text("message"));
            Assert.True(placeholder.GetProperty("deleted").GetBoolean());
        }

        // The other tenant is untouched; the audit log names the request.
        var kept = (await otherAgent.GetAsync($"/livechat/sessions/{otherSession}/messages?limit=10")).Data.EnumerateArray().Single();
        Assert.Equal("kept in the other tenant", kept.Text("message"));
        Assert.Equal("Ada Lovelace", (await otherAgent.GetAsync($"/livechat/sessions/{otherSession}")).Data.Text("customer_name"));
        var audited = (await AuditAsync(admin)).Single();
        Assert.Equal(("user.erasure_requested", "erase-ada", admin.UserId), (audited.Text("action"), audited.Text("request_id"), audited.GetProperty("actor_id").GetInt64()));
        Assert.Contains(job, audited.Text("target"));
    }

    [Fact]
    public async Task AUserStreamReplayingOverAnErasureLeavesOutWhatTheUserSaid()
    {
        var (agent, customer, session) = await server.ConversationAsync();
        await using var live = await SseClient.OpenUserStreamAsync(server, agent);
        await agent.SendMessageAsync(session, "before");
        var before = (await live.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("message") == "before"))[^1];
        await customer.SendMessageAsync(session, "secret words");
        // The log holds it: the live stream heard it.
        await live.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("message") == "secret words");

        var admin = server.Admin(agent.TenantId);
        var job = (await admin.PostAsync($"/livechat/users/{customer.UserId}/erase", null)).AssertStatus(HttpStatusCode.Accepted).Data.Text("job_id");
        await Eventually.Async(async () => Assert.Equal("done", (await admin.GetAsync($"/livechat/erasures/{job}")).Data.Text("status")));
        await agent.SendMessageAsync(session, "after");

        // A stream resuming from before the secret: its replay (and what follows live) up to "after" never carries it.
        await using var resumed = await SseClient.OpenUserStreamAsync(server, agent, lastEventId: before.Id);
        var replayed = await resumed.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("message") == "after");
        Assert.DoesNotContain(replayed, e => e.Data.ToString().Contains("secret words", StringComparison.Ordinal));
        Assert.DoesNotContain(replayed, e => e.Name == "messagesErased");
    }

    [Fact]
    public async Task WebhookAndCannedResponseChangesAreAuditedNewestFirstAndRefusalsAreNot()
    {
        var tenant = await server.NewTenantAsync();
        var admin = server.Admin(tenant);
        var agent = server.Agent(tenant);
        var webhook = (await admin.SendAsync(HttpMethod.Post, "/webhooks", new { url = "http://127.0.0.1:9/hook", events = new[] { "webhook.ping" } }, RequestId("wh-create")))
            .AssertStatus(HttpStatusCode.Created).Data.Text("id");
        Tick();
        (await admin.PatchAsync($"/webhooks/{webhook}", new { description = "ops" })).AssertStatus(HttpStatusCode.OK);
        Tick();
        (await admin.PostAsync($"/webhooks/{webhook}/rotate-secret", null)).AssertStatus(HttpStatusCode.Created);
        Tick();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsync(HttpMethod.Delete, $"/webhooks/{webhook}", null)).Status);
        Tick();
        (await admin.SendAsync(HttpMethod.Delete, $"/webhooks/{webhook}", null)).AssertError(HttpStatusCode.NotFound, "request"); // nothing to audit
        var canned = (await agent.PostAsync("/livechat/canned-responses", new { shortcut = "hi", title = "Hello", body = "Hello!" }))
            .AssertStatus(HttpStatusCode.Created).Data.Text("id");
        Tick();
        (await agent.PatchAsync($"/livechat/canned-responses/{canned}", new { body = "Hello there!" })).AssertStatus(HttpStatusCode.OK);
        Tick();
        Assert.Equal(HttpStatusCode.NoContent, (await agent.SendAsync(HttpMethod.Delete, $"/livechat/canned-responses/{canned}", null)).Status);
        Tick();

        var audit = await AuditAsync(admin);
        Assert.Equal(["canned_response.deleted", "canned_response.updated", "canned_response.created",
            "webhook.deleted", "webhook.secret_rotated", "webhook.updated", "webhook.created"], audit.Select(e => e.Text("action")));
        Assert.All(audit.Take(3), e => Assert.Equal(($"canned_response:{canned}", agent.UserId), (e.Text("target"), e.GetProperty("actor_id").GetInt64())));
        Assert.All(audit.Skip(3), e => Assert.Equal(($"webhook:{webhook}", admin.UserId), (e.Text("target"), e.GetProperty("actor_id").GetInt64())));
        Assert.Equal("wh-create", audit[^1].Text("request_id"));
        // Pages of 3, newest first, each entry once.
        var walked = await admin.WalkAsync("/livechat/audit?limit=3");
        Assert.Equal(audit.Select(e => e.Text("id")), walked.Select(e => e.Text("id")));
        (await admin.GetAsync($"/livechat/audit?limit=3&cursor={Guid.CreateVersion7()}")).AssertError(HttpStatusCode.BadRequest, "cursor");
    }

    [Fact]
    public async Task SessionsClosedLongerThanTheRetentionAreDeletedWithEverythingThatHangsOffThem()
    {
        var tenant = await server.NewTenantAsync();
        var admin = server.Admin(tenant);
        (await admin.PatchAsync("/livechat/settings", new { retention_days = 2 })).AssertStatus(HttpStatusCode.OK);
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 5 })).AssertStatus(HttpStatusCode.OK);
        var customer = server.TenantUser(tenant);

        // The old session: files, messages over several batches, a read marker, notifications, labels, a rating.
        var old = await customer.StartSessionAsync(agent.UserId);
        var upload = (await customer.UploadAsync(old, Png)).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        (await customer.PostAsync($"/livechat/sessions/{old}/messages", new { message = "with a file", attachment_ids = new[] { upload } })).AssertStatus(HttpStatusCode.Created);
        for (var i = 0; i < 5; i++) await agent.SendMessageAsync(old, $"reply {i}");
        var last = await customer.SendMessageAsync(old, "bye");
        (await customer.PostAsync($"/livechat/sessions/{old}/read", new { message_id = last.Text("id") })).AssertStatus(HttpStatusCode.OK);
        (await agent.PutAsync($"/livechat/sessions/{old}/labels", new { labels = new[] { "billing" } })).AssertStatus(HttpStatusCode.OK);
        (await agent.PatchAsync($"/livechat/sessions/{old}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        (await customer.PostAsync($"/livechat/sessions/{old}/rating", new { score = 5 })).AssertStatus(HttpStatusCode.Created);

        // Three small ones closed at the same time: with batches of 3 messages, they go together in one batch.
        var small = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var session = await agent.StartSessionAsync();
            await agent.SendMessageAsync(session, $"small {i}");
            (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
            small.Add(session);
        }

        server.Clock.Advance(TimeSpan.FromDays(1));
        // Closed a day later, and one still open: both are kept.
        var young = await agent.StartSessionAsync();
        await agent.SendMessageAsync(young, "closed later");
        (await agent.PatchAsync($"/livechat/sessions/{young}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var open = await agent.StartSessionAsync();
        await agent.SendMessageAsync(open, "still open");
        // A tenant without retention keeps its old closed sessions.
        var (keeperAgent, _, keeperSession) = await server.ConversationAsync();
        (await keeperAgent.PatchAsync($"/livechat/sessions/{keeperSession}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);

        server.Clock.Advance(TimeSpan.FromDays(1.5)); // the old one closed 2.5 days ago, the young one 1.5
        List<JsonElement> purges = [];
        await Eventually.Async(async () =>
        {
            purges = (await AuditAsync(admin)).Where(e => e.Text("action") == "retention.purged").ToList();
            Assert.NotEmpty(purges);
        });
        var purge = Assert.Single(purges);
        Assert.Equal("sessions=4 messages=10 attachments=1", purge.Text("target"));
        foreach (var session in small) (await agent.GetAsync($"/livechat/sessions/{session}")).AssertError(HttpStatusCode.NotFound, "request");
        Assert.Equal(JsonValueKind.Null, purge.GetProperty("actor_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, purge.GetProperty("request_id").ValueKind);

        (await agent.GetAsync($"/livechat/sessions/{old}")).AssertError(HttpStatusCode.NotFound, "request");
        (await customer.GetAsync($"/livechat/attachments/{upload}")).AssertError(HttpStatusCode.NotFound, "request");
        await AssertNothingStoredAsync(server, tenant);
        var oldId = Guid.Parse(old);
        foreach (var table in new[] { "chat_messages", "read_markers", "notifications", "session_labels", "session_participants", "session_facts", "webhook_events" })
            Assert.True(await server.CountAsync(table, "session_id = @id", tenant, oldId) == 0, $"{table} still holds rows of the purged session.");
        var left = await customer.GetAsync("/notifications?limit=50");
        Assert.DoesNotContain(old, left.Text); // the kept sessions' replies notified the tenant side too
        Assert.Empty((await agent.GetAsync("/livechat/labels")).Data.EnumerateArray());
        // Their search entries went with them (the purged "reply 0".."small 2"); the kept ones are still found.
        Assert.Equal(0, await SearchEntriesAsync(tenant, "reply"));
        Assert.Equal(0, await SearchEntriesAsync(tenant, "small"));
        Assert.Single((await agent.GetAsync("/livechat/search?q=closed%20later")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        // Kept: the session closed later, the open one, and the other tenant's.
        Assert.Equal("closed later", (await agent.GetAsync($"/livechat/sessions/{young}/messages?limit=10")).AssertStatus(HttpStatusCode.OK).Data[0].Text("message"));
        (await agent.GetAsync($"/livechat/sessions/{open}")).AssertStatus(HttpStatusCode.OK);
        (await keeperAgent.GetAsync($"/livechat/sessions/{keeperSession}")).AssertStatus(HttpStatusCode.OK);
        Assert.Contains("livechat_retention_purged_total{kind=\"messages\"}", await server.Http.GetStringAsync("/metrics"));
    }
}

public sealed class PrivacyTestsOnSqlite(PrivacySqliteServer server) : PrivacyTests(server), IClassFixture<PrivacySqliteServer>;

public sealed class PrivacyTestsOnPostgres(PrivacyPostgresServer server) : PrivacyTests(server), IClassFixture<PrivacyPostgresServer>;
