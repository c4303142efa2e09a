using System.Net;
using System.Text.Json;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests.Webhooks;

/// <summary>Contract section 13 against real receivers on loopback.</summary>
public abstract class WebhookTests(WebhookServer server)
{
    private WebhookReceiver Receiver => server.Receiver;

    internal static async Task<(string Id, string Secret)> CreateAsync(Caller admin, string url, params string[] events)
    {
        var reply = (await admin.PostAsync("/webhooks", new { url, events = events.Length == 0 ? ["*"] : events })).AssertStatus(HttpStatusCode.Created);
        return (reply.Data.Text("id"), reply.Data.Text("secret"));
    }

    internal static async Task<List<JsonElement>> DeliveriesAsync(Caller admin, string webhook) =>
        await admin.WalkAsync($"/webhooks/{webhook}/deliveries?limit=100");

    /// <summary>Polls the delivery log until it satisfies <paramref name="done"/>.</summary>
    internal static async Task<List<JsonElement>> WaitDeliveriesAsync(Caller admin, string webhook, Func<List<JsonElement>, bool> done, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var log = await DeliveriesAsync(admin, webhook);
            if (done(log)) return log;
            if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"Delivery log: {string.Join(", ", log.Select(d => d.ToString()))}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task CreatingAWebhookShowsItsSecretOnceAndNeverAgain()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var url = Receiver.NewEndpoint();
        var reply = (await admin.PostAsync("/webhooks", new { url, events = new[] { "message.created", "session.created" }, description = "CRM" }))
            .AssertStatus(HttpStatusCode.Created);
        var created = reply.Data;
        Assert.Matches(Formats.UuidV7, created.Text("id"));
        Assert.Equal(url, created.Text("url"));
        Assert.Equal(["session.created", "message.created"], created.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("CRM", created.Text("description"));
        Assert.True(created.GetProperty("enabled").GetBoolean());
        Assert.Matches(Formats.Timestamp, created.Text("created_at"));
        var secret = created.Text("secret");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(secret[6..]).Length);

        var fetched = (await admin.GetAsync($"/webhooks/{created.Text("id")}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.False(fetched.TryGetProperty("secret", out _));
        var listed = (await admin.GetAsync("/webhooks")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([created.Text("id")], listed.Ids());
        Assert.DoesNotContain("whsec_", listed.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[6..], listed.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidWebhooksAre400NamingTheFieldAndNothingIsCreated()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var url = Receiver.NewEndpoint();
        (await admin.PostAsync("/webhooks", new { events = new[] { "*" } })).AssertError(HttpStatusCode.BadRequest, "url");
        (await admin.PostAsync("/webhooks", new { url = "ftp://example.com/hook", events = new[] { "*" } })).AssertError(HttpStatusCode.BadRequest, "url");
        (await admin.PostAsync("/webhooks", new { url = "/relative", events = new[] { "*" } })).AssertError(HttpStatusCode.BadRequest, "url");
        (await admin.PostAsync("/webhooks", new { url })).AssertError(HttpStatusCode.BadRequest, "events");
        (await admin.PostAsync("/webhooks", new { url, events = Array.Empty<string>() })).AssertError(HttpStatusCode.BadRequest, "events");
        (await admin.PostAsync("/webhooks", new { url, events = new[] { "message.deleted" } })).AssertError(HttpStatusCode.BadRequest, "events");
        (await admin.PostAsync("/webhooks", new { url, events = new[] { "*", "message.created" } })).AssertError(HttpStatusCode.BadRequest, "events");
        (await admin.PostAsync("/webhooks", new { url, events = "*" })).AssertError(HttpStatusCode.BadRequest, "events");
        (await admin.PostAsync("/webhooks", new { url, events = new[] { "*" }, description = new string('x', 501) })).AssertError(HttpStatusCode.BadRequest, "description");
        (await admin.PostAsync("/webhooks", "[1]")).AssertError(HttpStatusCode.BadRequest, "body");
        Assert.Empty((await admin.GetAsync("/webhooks")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());

        var (id, _) = await CreateAsync(admin, url);
        (await admin.PatchAsync($"/webhooks/{id}", new { })).AssertError(HttpStatusCode.BadRequest, "body");
        (await admin.PatchAsync($"/webhooks/{id}", new { enabled = "no" })).AssertError(HttpStatusCode.BadRequest, "enabled");
        (await admin.PatchAsync($"/webhooks/{id}", new { events = new[] { "nope" } })).AssertError(HttpStatusCode.BadRequest, "events");
        (await admin.PatchAsync($"/webhooks/{id}", new { url = "mailto:a@b.c" })).AssertError(HttpStatusCode.BadRequest, "url");
        (await admin.GetAsync("/webhooks/not-a-uuid")).AssertError(HttpStatusCode.BadRequest, "id");
        Assert.Equal(url, (await admin.GetAsync($"/webhooks/{id}")).Data.Text("url"));
    }

    /// <summary>
    /// Contract 13 "Fair": a tenant has at most MaxPerTenant (20) webhooks. Eight creates race for the last two
    /// places: two win, the others are 409 errors.url and store nothing; another tenant still creates (positive control).
    /// </summary>
    [Fact]
    public async Task ConcurrentCreatesNeverTakeATenantPastItsWebhookLimit()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        for (var i = 0; i < 18; i++) await CreateAsync(admin, Receiver.NewEndpoint(), "webhook.ping");

        var racing = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            admin.PostAsync("/webhooks", new { url = Receiver.NewEndpoint(), events = new[] { "webhook.ping" } })));
        Assert.Equal(2, racing.Count(r => r.Status == HttpStatusCode.Created));
        foreach (var refused in racing.Where(r => r.Status != HttpStatusCode.Created))
            Assert.Contains("20", refused.AssertError(HttpStatusCode.Conflict, "url").Errors.GetProperty("url")[0].GetString()!, StringComparison.Ordinal);
        var listed = (await admin.GetAsync("/webhooks")).AssertStatus(HttpStatusCode.OK).Ids();
        Assert.Equal(20, listed.Count);
        Assert.Subset(listed.ToHashSet(), racing.Where(r => r.Status == HttpStatusCode.Created).Select(r => r.Data.Text("id")).ToHashSet());
        (await admin.PostAsync("/webhooks", new { url = Receiver.NewEndpoint(), events = new[] { "*" } })).AssertError(HttpStatusCode.Conflict, "url");
        Assert.Equal(20, (await admin.GetAsync("/webhooks")).Ids().Count);

        await CreateAsync(server.Admin(await server.NewTenantAsync()), Receiver.NewEndpoint(), "webhook.ping");
    }

    [Fact]
    public async Task EveryoneButASupportAdminGets403OnEveryEndpoint()
    {
        var tenant = await server.NewTenantAsync();
        var admin = server.Admin(tenant);
        var (id, _) = await CreateAsync(admin, Receiver.NewEndpoint());
        var delivery = Guid.NewGuid();
        foreach (var caller in new[] { server.Agent(tenant), server.TenantUser(tenant) })
        {
            (await caller.PostAsync("/webhooks", new { url = Receiver.NewEndpoint(), events = new[] { "*" } })).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.GetAsync("/webhooks")).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.GetAsync($"/webhooks/{id}")).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.PatchAsync($"/webhooks/{id}", new { enabled = false })).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.SendAsync(HttpMethod.Delete, $"/webhooks/{id}", null)).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.PostAsync($"/webhooks/{id}/rotate-secret", null)).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.PostAsync($"/webhooks/{id}/ping", null)).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.GetAsync($"/webhooks/{id}/deliveries")).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.PostAsync($"/webhooks/{id}/deliveries/{delivery}/redeliver", null)).AssertError(HttpStatusCode.Forbidden, "request");
            // The role is checked before the body is read: malformed JSON is still a 403, not a 400.
            (await caller.PatchAsync($"/webhooks/{id}", "{\"enabled\":")).AssertError(HttpStatusCode.Forbidden, "request");
            (await caller.PostAsync("/webhooks", "[1,2]")).AssertError(HttpStatusCode.Forbidden, "request");
        }
        // An admin of another tenant is an admin, but not of this tenant: its token does not grant it.
        var stranger = new Caller(server, LivechatServer.NewUserId(), await server.NewTenantAsync(), ["SUPPORT_ADMIN"]);
        (await server.SendAsync(HttpMethod.Get, "/webhooks", stranger.Token, tenant.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .AssertError(HttpStatusCode.Forbidden, "request");
        var after = (await admin.GetAsync($"/webhooks/{id}")).AssertStatus(HttpStatusCode.OK).Data;
        Assert.True(after.GetProperty("enabled").GetBoolean());
        Assert.Single((await admin.GetAsync("/webhooks")).Data.EnumerateArray());
    }

    [Fact]
    public async Task AnotherTenantsWebhookIs404AndNeverListed()
    {
        var owner = server.Admin(await server.NewTenantAsync());
        var url = Receiver.NewEndpoint(); // 200
        var (id, _) = await CreateAsync(owner, url);
        (await owner.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var delivery = (await WaitDeliveriesAsync(owner, id, log => log.Any(d => d.Text("status") == "succeeded")))[0].Text("id");

        var stranger = server.Admin(await server.NewTenantAsync());
        Assert.Empty((await stranger.GetAsync("/webhooks")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray());
        (await stranger.GetAsync($"/webhooks/{id}")).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.PatchAsync($"/webhooks/{id}", new { enabled = false })).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.SendAsync(HttpMethod.Delete, $"/webhooks/{id}", null)).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.PostAsync($"/webhooks/{id}/rotate-secret", null)).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.PostAsync($"/webhooks/{id}/ping", null)).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.GetAsync($"/webhooks/{id}/deliveries")).AssertError(HttpStatusCode.NotFound, "request");
        (await stranger.PostAsync($"/webhooks/{id}/deliveries/{delivery}/redeliver", null)).AssertError(HttpStatusCode.NotFound, "request");

        Assert.True((await owner.GetAsync($"/webhooks/{id}")).Data.GetProperty("enabled").GetBoolean());
        Assert.Single(await DeliveriesAsync(owner, id));
        Assert.Single(Receiver.At(url));
    }

    [Fact]
    public async Task PatchChangesOnlyTheFieldsSentAndDeleteIs204()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var (id, _) = await CreateAsync(admin, Receiver.NewEndpoint(), "message.created");
        var other = Receiver.NewEndpoint();
        var patched = (await admin.PatchAsync($"/webhooks/{id}", new { url = other, description = "analytics" })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(other, patched.Text("url"));
        Assert.Equal("analytics", patched.Text("description"));
        Assert.Equal(["message.created"], patched.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        patched = (await admin.PatchAsync($"/webhooks/{id}", new { events = new[] { "*" }, description = (string?)null, enabled = false })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.Equal(["*"], patched.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.False(patched.TryGetProperty("description", out _));
        Assert.False(patched.GetProperty("enabled").GetBoolean());
        Assert.Equal(patched.ToString(), (await admin.GetAsync($"/webhooks/{id}")).Data.ToString());

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, $"/webhooks/{id}"))
        {
            delete.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin.Token);
            delete.Headers.Add("X-Tenant-ID", admin.TenantId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var deleted = await server.Http.SendAsync(delete);
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            Assert.Empty(await deleted.Content.ReadAsByteArrayAsync());
        }
        (await admin.GetAsync($"/webhooks/{id}")).AssertError(HttpStatusCode.NotFound, "request");
        (await admin.SendAsync(HttpMethod.Delete, $"/webhooks/{id}", null)).AssertError(HttpStatusCode.NotFound, "request");
    }

    /// <summary>
    /// Once the service has seen a tenant without an enabled webhook, its plain messages send no outbox rows. A
    /// webhook enabled behind its back (by another instance, or in the database) must still get the next one.
    /// </summary>
    [Fact]
    public async Task AWebhookEnabledBehindTheServicesBackGetsTheNextMessage()
    {
        var tenant = await server.NewTenantAsync();
        var admin = server.Admin(tenant);
        var url = Receiver.NewEndpoint();
        var (id, _) = await CreateAsync(admin, url, "message.created");
        (await admin.PatchAsync($"/webhooks/{id}", new { enabled = false })).AssertStatus(HttpStatusCode.OK);
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var user = server.TenantUser(tenant);
        var session = await user.StartSessionAsync(agent.UserId);
        for (var i = 0; i < 3; i++) await user.SendMessageAsync(session, $"while it is disabled {i}");

        Assert.Equal(1, await server.ExecuteSqlAsync("UPDATE webhooks SET enabled = TRUE WHERE tenant_id = @tenant AND id = @id",
            ("tenant", tenant), ("id", Guid.Parse(id))));
        var sent = await user.SendMessageAsync(session, "after it was enabled");
        var answer = await agent.SendMessageAsync(session, "and the answer");

        var got = await Receiver.WaitAsync(url, r => r.Count >= 2);
        // Deliveries may overtake each other; each message is there once, and nothing sent while it was disabled.
        Assert.Equal(new[] { sent.Text("id"), answer.Text("id") }.Order(), got.Select(r => r.Json.GetProperty("data").Text("id")).Order());
        await Task.Delay(300);
        Assert.Equal(2, (await DeliveriesAsync(admin, id)).Count);
    }

    /// <summary>Contract section 20: a customer's rating goes out as <c>session.rated</c> with the rating as its data.</summary>
    [Fact]
    public async Task ARatingIsDeliveredAsSessionRated()
    {
        var tenant = await server.NewTenantAsync();
        var url = Receiver.NewEndpoint();
        await CreateAsync(server.Admin(tenant), url, "session.rated");
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var user = server.TenantUser(tenant);
        var session = await user.StartSessionAsync(agent.UserId);
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var rating = (await user.PostAsync($"/livechat/sessions/{session}/rating", new { score = 5, comment = "Thanks!" })).AssertStatus(HttpStatusCode.Created).Data;

        var got = Assert.Single(await Receiver.WaitAsync(url, r => r.Count >= 1));
        Assert.Equal("session.rated", got.Type);
        Assert.Equal(rating.ToString(), got.Json.GetProperty("data").ToString());
    }

    [Fact]
    public async Task TheCatalogueIsDeliveredWithRestShapes()
    {
        var tenant = await server.NewTenantAsync();
        var url = Receiver.NewEndpoint();
        await CreateAsync(server.Admin(tenant), url);
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var user = server.TenantUser(tenant);

        var started = (await user.PostAsync("/livechat/sessions", new { agent_id = agent.UserId })).AssertStatus(HttpStatusCode.Created).Data;
        var sent = await user.SendMessageAsync(started.Text("id"), "hello, webhook");
        (await agent.PostAsync($"/livechat/sessions/{started.Text("id")}/read", new { message_id = sent.Text("id") })).AssertStatus(HttpStatusCode.OK);
        var closed = (await agent.PatchAsync($"/livechat/sessions/{started.Text("id")}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK).Data;
        var offline = server.Agent(tenant);
        (await offline.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
        var refused = (await user.PostAsync("/livechat/sessions", new { agent_id = offline.UserId })).AssertError(HttpStatusCode.BadRequest, "agent_id");
        var ticket = (await agent.GetAsync($"/tickets/{refused.Meta.Text("ticket_id")}")).AssertStatus(HttpStatusCode.OK).Data;

        // Deliveries run concurrently: the order of arrival is not the order of events (docs/webhooks.md says so).
        var got = await Receiver.WaitAsync(url, r => r.Count >= 5);
        var byType = got.ToDictionary(r => r.Type);
        Assert.Equal(["message.created", "messages.read", "session.created", "session.updated", "ticket.created"], byType.Keys.Order());
        var read = byType["messages.read"].Json.GetProperty("data");
        Assert.True(read.EnumerateObject().Select(p => p.Name).ToHashSet().SetEquals(["session_id", "user_id", "last_read_message_id", "read_at"]), read.ToString());
        Assert.Equal(started.Text("id"), read.Text("session_id"));
        Assert.Equal(agent.UserId, read.GetProperty("user_id").GetInt64());
        Assert.Equal(sent.Text("id"), read.Text("last_read_message_id"));
        Assert.Matches(Formats.Timestamp, read.Text("read_at"));
        Assert.Equal(started.ToString(), byType["session.created"].Json.GetProperty("data").ToString());
        Assert.Equal(sent.ToString(), byType["message.created"].Json.GetProperty("data").ToString());
        Assert.Equal(closed.ToString(), byType["session.updated"].Json.GetProperty("data").ToString());
        Assert.Equal(ticket.ToString(), byType["ticket.created"].Json.GetProperty("data").ToString());
        foreach (var request in got)
        {
            var body = request.Json;
            Assert.True(body.EnumerateObject().Select(p => p.Name).ToHashSet().SetEquals(["id", "type", "tenant_id", "created_at", "data"]), request.Body);
            Assert.Matches(Formats.UuidV7, body.Text("id"));
            Assert.Equal(body.Text("id"), request.Id);
            Assert.Equal(tenant, body.GetProperty("tenant_id").GetInt64());
            Assert.Matches(Formats.Timestamp, body.Text("created_at"));
        }
        Assert.Equal(got.Count, got.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task EveryEventOfOneChangeIsDeliveredWithItsOwnData()
    {
        // One close frees the agent's only slot and hands it the queued chat: two session.updated in one change.
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var first = (await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        var queued = (await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data;
        Assert.Equal(1, queued.GetProperty("queue_position").GetInt32());
        var url = Receiver.NewEndpoint();
        await CreateAsync(server.Admin(tenant), url, "session.updated");

        (await agent.PatchAsync($"/livechat/sessions/{first}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);

        // A positive control: a later change's event. Once it arrived, so had everything the close recorded before it.
        var control = (await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        (await agent.PatchAsync($"/livechat/sessions/{control}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var got = await Receiver.WaitAsync(url, r => r.Count >= 3 && r.Any(w => w.Json.GetProperty("data").Text("id") == control));
        var closeEvents = Receiver.At(url).Where(r => r.Json.GetProperty("data").Text("id") != control).ToList();
        var sessions = closeEvents.Select(r => r.Json.GetProperty("data")).ToDictionary(d => d.Text("id"));
        Assert.Equal(new[] { first, queued.Text("id") }.Order(StringComparer.Ordinal), sessions.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("CLOSED", sessions[first].Text("status"));
        Assert.Equal("OPEN", sessions[queued.Text("id")].Text("status"));
        Assert.Equal(agent.UserId, sessions[queued.Text("id")].GetProperty("agent_id").GetInt64());
        Assert.Equal(2, closeEvents.Select(r => r.Id).Distinct().Count());
        Assert.NotEmpty(got);
    }

    [Fact]
    public async Task ANoteIsNoteCreatedAndNeverMessageCreated()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var url = Receiver.NewEndpoint();
        await CreateAsync(server.Admin(agent.TenantId), url, "message.created", "note.created");

        var note = (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "internal", @internal = true })).AssertStatus(HttpStatusCode.Created).Data;
        var control = await agent.SendMessageAsync(session, "public");

        var got = await Receiver.WaitAsync(url, r => r.Count >= 2);
        var byType = got.ToDictionary(r => r.Json.GetProperty("type").GetString()!, r => r.Json.GetProperty("data"));
        Assert.Equal(["message.created", "note.created"], byType.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(note.ToString(), byType["note.created"].ToString());
        Assert.Equal(control.ToString(), byType["message.created"].ToString());
    }

    [Fact]
    public async Task ALabelChangeIsSessionUpdatedWithTheLabelsAndTheSameLabelsAgainRecordNothing()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var url = Receiver.NewEndpoint();
        await CreateAsync(server.Admin(agent.TenantId), url, "session.updated");
        async Task<List<string>> RecordedAsync() => await server.Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT payload FROM webhook_events WHERE tenant_id = @tenant AND type = 'session.updated' ORDER BY id")
                .With("tenant", agent.TenantId);
            var labels = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                labels.Add(string.Join(',', System.Text.Json.JsonDocument.Parse(reader.GetString(0)).RootElement.GetProperty("data").GetProperty("labels")
                    .EnumerateArray().Select(l => l.GetString())));
            return labels;
        }, CancellationToken.None);

        (await agent.PutAsync($"/livechat/sessions/{session}/labels", new { labels = new[] { "billing" } })).AssertStatus(HttpStatusCode.OK);
        (await agent.PutAsync($"/livechat/sessions/{session}/labels", new { labels = new[] { "BILLING", "billing" } })).AssertStatus(HttpStatusCode.OK);
        (await agent.PutAsync($"/livechat/sessions/{session}/labels", new { labels = new[] { "vip", "billing" } })).AssertStatus(HttpStatusCode.OK);

        // Recorded in each change's own transaction: the same labels again recorded nothing between the two changes.
        Assert.Equal(["billing", "billing,vip"], await RecordedAsync());
        var delivered = await Receiver.WaitAsync(url, r => r.Count >= 2);
        Assert.Equal(["billing", "billing,vip"], delivered.Select(r => string.Join(',', r.Json.GetProperty("data").GetProperty("labels").EnumerateArray().Select(l => l.GetString())))
            .Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ASessionThatOnlyMovesUpInTheQueueSendsNoWebhookWhileItsCustomerHearsItsNewPlace()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        await agent.GoOnlineAsync();
        var first = (await server.TenantUser(tenant).PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data.Text("id");
        var queued = new List<string>();
        var last = server.TenantUser(tenant);
        foreach (var customer in new[] { server.TenantUser(tenant), server.TenantUser(tenant), last })
            queued.Add((await customer.PostAsync("/livechat/sessions", new { })).AssertStatus(HttpStatusCode.Created).Data.Text("id"));
        var url = Receiver.NewEndpoint();
        await CreateAsync(server.Admin(tenant), url, "session.updated");
        await using var stream = await SseClient.OpenUserStreamAsync(server, last);

        // The close frees the agent, who takes the first queued chat; the two behind it move up one place.
        (await agent.PatchAsync($"/livechat/sessions/{first}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);

        var moved = await stream.NextNamedAsync("sessionUpdated");
        Assert.Equal(queued[2], moved.Text("id"));
        Assert.Equal(2, moved.GetProperty("queue_position").GetInt32());
        // The outbox, written in the close's transaction: the closed session and the assigned one, nothing for the two that moved.
        var recorded = await server.Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT payload FROM webhook_events WHERE tenant_id = @tenant AND type = 'session.updated'").With("tenant", tenant);
            var ids = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) ids.Add(System.Text.Json.JsonDocument.Parse(reader.GetString(0)).RootElement.GetProperty("data").Text("id"));
            return ids;
        }, CancellationToken.None);
        Assert.Equal(new[] { first, queued[0] }.Order(StringComparer.Ordinal), recorded.Order(StringComparer.Ordinal));
        await Receiver.WaitAsync(url, r => r.Count >= 2);
    }

    [Fact]
    public async Task OnlySubscribedEventsOfEnabledWebhooksOfTheTenantAreDelivered()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var admin = server.Admin(agent.TenantId);
        var messagesOnly = Receiver.NewEndpoint();
        var disabled = Receiver.NewEndpoint();
        await CreateAsync(admin, messagesOnly, "message.created");
        var (disabledId, _) = await CreateAsync(admin, disabled);
        (await admin.PatchAsync($"/webhooks/{disabledId}", new { enabled = false })).AssertStatus(HttpStatusCode.OK);
        // Another tenant's webhook hears nothing of this tenant.
        var elsewhere = Receiver.NewEndpoint();
        await CreateAsync(server.Admin(await server.NewTenantAsync()), elsewhere);

        await user.SendMessageAsync(session, "one");
        (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
        var pinged = Receiver.NewEndpoint();
        var (pingedId, _) = await CreateAsync(admin, pinged, "message.created");
        (await admin.PostAsync($"/webhooks/{pingedId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        await Receiver.WaitAsync(pinged, r => r.Count == 1);

        var got = await Receiver.WaitAsync(messagesOnly, r => r.Count >= 1);
        await Task.Delay(300); // anything else would have arrived by now
        Assert.Equal(["message.created"], Receiver.At(messagesOnly).Select(r => r.Type));
        Assert.Equal("one", got[0].Json.GetProperty("data").Text("message"));
        Assert.Empty(Receiver.At(disabled));
        Assert.Empty(Receiver.At(elsewhere));
        Assert.Equal(["webhook.ping"], Receiver.At(pinged).Select(r => r.Type));
        Assert.Equal(pingedId, Receiver.At(pinged)[0].Json.GetProperty("data").Text("webhook_id"));
        (await admin.PostAsync($"/webhooks/{disabledId}/ping", null)).AssertError(HttpStatusCode.Conflict, "enabled");
    }

    [Fact]
    public async Task EveryDeliveryVerifiesWithTheSecretAndATamperedOneDoesNot()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var url = Receiver.NewEndpoint();
        var (_, secret) = await CreateAsync(server.Admin(agent.TenantId), url, "message.created");
        await agent.SendMessageAsync(session, "signed");
        var request = (await Receiver.WaitForAsync(url, "message.created"))[0];

        Assert.Matches("^v1,[A-Za-z0-9+/]+=*$", request.Signature);
        Assert.InRange(long.Parse(request.Timestamp, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 30, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.True(WebhookVerifier.Verify(secret, request.Id, request.Timestamp, request.Signature, request.Body));
        Assert.False(WebhookVerifier.Verify(secret, request.Id, request.Timestamp, request.Signature, request.Body.Replace("signed", "forged", StringComparison.Ordinal)));
        Assert.False(WebhookVerifier.Verify(secret, Guid.NewGuid().ToString(), request.Timestamp, request.Signature, request.Body));
        Assert.False(WebhookVerifier.Verify("whsec_" + Convert.ToBase64String(new byte[32]), request.Id, request.Timestamp, request.Signature, request.Body));
        Assert.False(WebhookVerifier.Verify(secret, request.Id, request.Timestamp, request.Signature, request.Body, TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task ARotatedSecretSignsBesideTheNewOneAndTheNewOneIsShownOnce()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var url = Receiver.NewEndpoint();
        var (id, oldSecret) = await CreateAsync(admin, url);
        var rotated = (await admin.PostAsync($"/webhooks/{id}/rotate-secret", null)).AssertStatus(HttpStatusCode.Created).Data;
        var newSecret = rotated.Text("secret");
        Assert.NotEqual(oldSecret, newSecret);
        Assert.False((await admin.GetAsync($"/webhooks/{id}")).Data.TryGetProperty("secret", out _));

        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var request = (await Receiver.WaitForAsync(url, "webhook.ping"))[0];
        var signatures = request.Signature.Split(' ');
        Assert.Equal(2, signatures.Length);
        Assert.True(WebhookVerifier.Verify(newSecret, request.Id, request.Timestamp, signatures[0], request.Body));
        Assert.True(WebhookVerifier.Verify(oldSecret, request.Id, request.Timestamp, signatures[1], request.Body));
        Assert.True(WebhookVerifier.Verify(oldSecret, request.Id, request.Timestamp, request.Signature, request.Body));

        // 24 h later the old secret no longer signs.
        await server.ExecuteSqlAsync("UPDATE webhooks SET previous_secret_until = @past WHERE id = @id",
            ("past", DateTimeOffset.UtcNow.AddSeconds(-1)), ("id", Guid.Parse(id)));
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var later = (await Receiver.WaitForAsync(url, "webhook.ping", 2))[1];
        Assert.Single(later.Signature.Split(' '));
        Assert.True(WebhookVerifier.Verify(newSecret, later.Id, later.Timestamp, later.Signature, later.Body));
        Assert.False(WebhookVerifier.Verify(oldSecret, later.Id, later.Timestamp, later.Signature, later.Body));
    }

    [Fact]
    public async Task A500IsRetriedWithTheSameEventIdUntilA200()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var url = Receiver.NewEndpoint((_, attempt) => new ScriptedAnswer(attempt <= 2 ? 500 : 200));
        var (id, _) = await CreateAsync(admin, url);
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);

        var log = await WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].Text("status") == "succeeded");
        Assert.Equal(3, log[0].GetProperty("attempts").GetInt32());
        Assert.Equal(200, log[0].GetProperty("last_status_code").GetInt32());
        Assert.False(log[0].TryGetProperty("next_attempt_at", out _));
        var requests = Receiver.At(url);
        Assert.Equal(3, requests.Count);
        Assert.Single(requests.Select(r => r.Id).Distinct());
        Assert.Single(requests.Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task A408And429AreRetriedAndRetryAfterIsHonoured()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var url = Receiver.NewEndpoint((_, attempt) => attempt switch
        {
            1 => new ScriptedAnswer(429, RetryAfter: "1"),
            2 => new ScriptedAnswer(408),
            _ => new ScriptedAnswer(204),
        });
        var (id, _) = await CreateAsync(admin, url);
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        await WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].Text("status") == "succeeded");
        var requests = Receiver.At(url);
        Assert.Equal(3, requests.Count);
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromMilliseconds(950), $"Retried after {(requests[1].At - requests[0].At).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A400FailsAtOnceWithoutRetry()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var url = Receiver.NewEndpoint((_, _) => new ScriptedAnswer(400));
        var (id, _) = await CreateAsync(admin, url);
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var log = await WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].Text("status") == "failed");
        Assert.Equal(1, log[0].GetProperty("attempts").GetInt32());
        Assert.Equal(400, log[0].GetProperty("last_status_code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(log[0].Text("last_error")));
        await Task.Delay(300);
        Assert.Single(Receiver.At(url));
        Assert.True((await admin.GetAsync($"/webhooks/{id}")).Data.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task A410FailsTheDeliveryAndDisablesTheWebhook()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var admin = server.Admin(agent.TenantId);
        var url = Receiver.NewEndpoint((_, _) => new ScriptedAnswer(410));
        var (id, _) = await CreateAsync(admin, url, "message.created");
        await agent.SendMessageAsync(session, "gone?");
        await WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].Text("status") == "failed");
        var webhook = (await admin.GetAsync($"/webhooks/{id}")).Data;
        Assert.False(webhook.GetProperty("enabled").GetBoolean());
        Assert.Contains("410", webhook.Text("disabled_reason"), StringComparison.Ordinal);

        await agent.SendMessageAsync(session, "nobody hears this");
        await Task.Delay(300);
        Assert.Single(Receiver.At(url));
        Assert.Single(await DeliveriesAsync(admin, id));

        // Enabling it again clears the reason.
        var enabled = (await admin.PatchAsync($"/webhooks/{id}", new { enabled = true })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.False(enabled.TryGetProperty("disabled_reason", out _));
    }

    [Fact]
    public async Task ARefusedConnectionIsRetriedOnTheWholeScheduleThenFailsAndDisablesTheWebhook()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var (id, _) = await CreateAsync(admin, $"http://127.0.0.1:{Ports.Free()}/nobody-listens");
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var log = await WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].Text("status") == "failed", seconds: 60);
        Assert.Equal(Livechat.Webhooks.RetrySchedule.MaxAttempts, log[0].GetProperty("attempts").GetInt32());
        Assert.Equal(18, Livechat.Webhooks.RetrySchedule.MaxAttempts);
        Assert.False(log[0].TryGetProperty("last_status_code", out _));
        var webhook = (await admin.GetAsync($"/webhooks/{id}")).Data;
        Assert.False(webhook.GetProperty("enabled").GetBoolean());
        Assert.False(string.IsNullOrWhiteSpace(webhook.Text("disabled_reason")));
    }

    [Fact]
    public async Task ASlowReceiverTimesOutAndIsRetriedWithoutHoldingUpOthersOrTheApi()
    {
        var (agent, _, session) = await server.ConversationAsync();
        var admin = server.Admin(agent.TenantId);
        var slow = Receiver.NewEndpoint((_, attempt) => new ScriptedAnswer(200, attempt == 1 ? TimeSpan.FromSeconds(30) : TimeSpan.Zero));
        var fast = Receiver.NewEndpoint();
        var (slowId, _) = await CreateAsync(admin, slow, "message.created");
        await CreateAsync(admin, fast, "message.created");

        var started = DateTime.UtcNow;
        for (var i = 0; i < 5; i++) await agent.SendMessageAsync(session, $"m{i}");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), "The API waited for a receiver.");
        await Receiver.WaitAsync(fast, r => r.Count == 5, seconds: 5);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), "The fast receiver waited for the slow one.");

        var log = await WaitDeliveriesAsync(admin, slowId, l => l.Count == 5 && l.All(d => d.Text("status") == "succeeded"));
        Assert.Contains(log, d => d.GetProperty("attempts").GetInt32() == 2);
    }

    [Fact]
    public async Task RedeliverySendsTheSameEventAgainAsANewDelivery()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var broken = true;
        var url = Receiver.NewEndpoint((_, _) => new ScriptedAnswer(Volatile.Read(ref broken) ? 400 : 200));
        var (id, _) = await CreateAsync(admin, url);
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var failed = (await WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].Text("status") == "failed"))[0];

        Volatile.Write(ref broken, false);
        var queued = (await admin.PostAsync($"/webhooks/{id}/deliveries/{failed.Text("id")}/redeliver", null)).AssertStatus(HttpStatusCode.Accepted).Data;
        Assert.Equal(failed.Text("event_id"), queued.Text("event_id"));
        Assert.Equal("pending", queued.Text("status"));
        var log = await WaitDeliveriesAsync(admin, id, l => l.Count == 2 && l[0].Text("status") == "succeeded");
        Assert.Equal(queued.Text("id"), log[0].Text("id"));
        Assert.Equal("failed", log[1].Text("status"));
        var requests = Receiver.At(url);
        Assert.Equal(2, requests.Count);
        Assert.Equal(requests[0].Id, requests[1].Id);
        Assert.Equal(requests[0].Body, requests[1].Body);

        (await admin.PostAsync($"/webhooks/{id}/deliveries/{Guid.NewGuid()}/redeliver", null)).AssertError(HttpStatusCode.NotFound, "request");
        (await admin.PostAsync($"/webhooks/{id}/deliveries/nope/redeliver", null)).AssertError(HttpStatusCode.BadRequest, "delivery_id");
    }

    [Fact]
    public async Task APendingDeliveryCannotBeRedelivered()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var url = Receiver.NewEndpoint((_, _) => new ScriptedAnswer(503, RetryAfter: "60"));
        var (id, _) = await CreateAsync(admin, url);
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var pending = (await WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].GetProperty("attempts").GetInt32() == 1))[0];
        Assert.Equal("pending", pending.Text("status"));
        Assert.Equal(503, pending.GetProperty("last_status_code").GetInt32());
        Assert.Matches(Formats.Timestamp, pending.Text("next_attempt_at"));
        (await admin.PostAsync($"/webhooks/{id}/deliveries/{pending.Text("id")}/redeliver", null)).AssertError(HttpStatusCode.Conflict, "status");
    }

    [Fact]
    public async Task TheDeliveryLogIsNewestFirstWithCursorPagination()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var url = Receiver.NewEndpoint();
        var (id, _) = await CreateAsync(admin, url);
        var events = new List<string>();
        for (var i = 0; i < 5; i++)
            events.Add((await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted).Data.Text("event_id"));
        events.Reverse();

        var first = (await admin.GetAsync($"/webhooks/{id}/deliveries?limit=2")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(events[..2], first.Data.EnumerateArray().Select(d => d.Text("event_id")));
        Assert.True(first.Pagination.GetProperty("has_next").GetBoolean());
        Assert.Equal(events, (await admin.WalkAsync($"/webhooks/{id}/deliveries?limit=2")).Select(d => d.Text("event_id")));
        var delivery = first.Data[0];
        Assert.True(delivery.EnumerateObject().Select(p => p.Name).ToHashSet().IsSubsetOf(
            ["id", "event_id", "event_type", "status", "attempts", "last_status_code", "last_error", "next_attempt_at", "created_at", "updated_at"]));
        Assert.Equal("webhook.ping", delivery.Text("event_type"));

        (await admin.GetAsync($"/webhooks/{id}/deliveries?limit=0")).AssertError(HttpStatusCode.BadRequest, "limit");
        (await admin.GetAsync($"/webhooks/{id}/deliveries?limit=2&cursor={Guid.NewGuid()}")).AssertError(HttpStatusCode.BadRequest, "cursor");
    }

    [Fact]
    public async Task ARolledBackChangeSendsNothing()
    {
        var (agent, user, session) = await server.ConversationAsync();
        var url = Receiver.NewEndpoint();
        await CreateAsync(server.Admin(agent.TenantId), url, "message.created");
        await user.SendMessageAsync(session, "so the agent's reply notifies someone");
        // A fault planted after the message and its event are written: the agent's notification insert fails.
        await PlantNotificationFaultAsync(server);

        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = "boom" })).AssertError(HttpStatusCode.InternalServerError, "request");
        await agent.SendMessageAsync(session, "after the failure");

        var got = await Receiver.WaitAsync(url, r => r.Count >= 2);
        await Task.Delay(300);
        Assert.Equal(["after the failure", "so the agent's reply notifies someone"],
            Receiver.At(url).Select(r => r.Json.GetProperty("data").Text("message")).Order(StringComparer.Ordinal));
    }

    internal static Task PlantNotificationFaultAsync(LivechatServer server) =>
        server.Services.GetRequiredService<Database>().WriteAsync(async (connection, transaction) =>
        {
            var sql = server.Provider == DatabaseProvider.Sqlite
                ? """
                  CREATE TRIGGER IF NOT EXISTS test_boom BEFORE INSERT ON notifications
                  WHEN NEW.preview = 'boom' BEGIN SELECT RAISE(ABORT, 'planted'); END
                  """
                : """
                  CREATE OR REPLACE FUNCTION test_boom() RETURNS trigger AS $$
                  BEGIN IF NEW.preview = 'boom' THEN RAISE EXCEPTION 'planted'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
                  DROP TRIGGER IF EXISTS test_boom ON notifications;
                  CREATE TRIGGER test_boom BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION test_boom();
                  """;
            await using var command = connection.Sql(sql, transaction);
            return await command.ExecuteNonQueryAsync();
        }, CancellationToken.None);

    [Fact]
    public async Task ADeliveryClaimedByAnInstanceThatDiedIsAttemptedOnceItsLeaseRunsOut()
    {
        var tenant = await server.NewTenantAsync();
        var url = Receiver.NewEndpoint();
        var (id, _) = await CreateAsync(server.Admin(tenant), url);
        var webhook = Guid.Parse(id);
        var leaseUntil = DateTimeOffset.UtcNow.AddSeconds(2);
        // The event is written and claimed in one transaction by an "instance" that then never records anything.
        await server.Services.GetRequiredService<Livechat.Changes.WritePath>().RunAsync(async scope =>
        {
            Guid? eventId = null;
            Livechat.Webhooks.WebhookOutbox.Defer(scope, tenant, "webhook.ping", Livechat.Webhooks.WebhookOutbox.PingData(webhook), onlyWebhook: webhook,
                written: id => eventId = id);
            await scope.RunDeferredAsync(CancellationToken.None);
            await using var claim = scope.Sql("UPDATE webhook_deliveries SET locked_by = @dead, locked_until = @until WHERE tenant_id = @tenant AND event_id = @event")
                .With("dead", Guid.NewGuid()).With("until", leaseUntil).With("tenant", tenant).With("event", eventId!.Value);
            return Livechat.Changes.Change.Of(await claim.ExecuteNonQueryAsync());
        }, CancellationToken.None);

        var got = await Receiver.WaitAsync(url, r => r.Count == 1);
        Assert.True(got[0].At >= leaseUntil.AddMilliseconds(-50), $"Attempted {(leaseUntil - got[0].At).TotalMilliseconds} ms before the lease ran out.");
    }

    /// <summary>
    /// Claims of rows whose attempt never ends must not wait out a lease: an instance that stops (a deploy)
    /// while attempting deliveries gives them back, and they are made at once after the restart.
    /// </summary>
    [Fact]
    public async Task AnInstanceThatStopsMidAttemptGivesItsClaimsBackAndTheyAreMadeAtOnceAfterTheRestart()
    {
        await using var instance = new LivechatServer(server.Provider);
        foreach (var (key, value) in server.Settings.Where(s => s.Key.StartsWith("Livechat:Webhooks:", StringComparison.Ordinal))) instance.Settings[key] = value;
        // A lease far longer than the wait below: a claim not given back would hold its delivery past the end of the test.
        instance.Settings["Livechat:Webhooks:LeaseSeconds"] = "600";
        instance.Settings["Livechat:Webhooks:TimeoutSeconds"] = "10"; // so the attempts are still running when it stops
        await instance.StartAsync();
        var admin = new Caller(instance, LivechatServer.NewUserId(), await instance.NewTenantAsync(), ["SUPPORT_ADMIN"]);
        var slow = 1;
        var url = Receiver.NewEndpoint((_, _) => new ScriptedAnswer(200, Volatile.Read(ref slow) == 1 ? TimeSpan.FromSeconds(8) : TimeSpan.Zero));
        var (id, _) = await CreateAsync(admin, url, "webhook.ping");
        for (var i = 0; i < 6; i++) (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        await Receiver.WaitAsync(url, r => r.Count >= 4); // four attempts in flight, the per-webhook limit
        Volatile.Write(ref slow, 0);
        await instance.StopAsync();

        await instance.StartAsync();
        var log = await WaitDeliveriesAsync(admin, id, l => l.Count == 6 && l.All(d => d.Text("status") == "succeeded"), seconds: 90);
        Assert.All(log, d => Assert.Equal(1, d.GetProperty("attempts").GetInt32()));
    }

    [Fact]
    public async Task TheRetryScheduleScalesWithTheFirstRetrySetting()
    {
        await using var scaled = new LivechatServer(server.Provider);
        foreach (var (key, value) in server.Settings.Where(s => s.Key.StartsWith("Livechat:Webhooks:", StringComparison.Ordinal))) scaled.Settings[key] = value;
        scaled.Settings["Livechat:Webhooks:FirstRetryMilliseconds"] = "1000"; // 5 s → 1 s, 30 s → 6 s
        await scaled.StartAsync();
        var admin = new Caller(scaled, LivechatServer.NewUserId(), await scaled.NewTenantAsync(), ["SUPPORT_ADMIN"]);
        var url = Receiver.NewEndpoint((_, attempt) => new ScriptedAnswer(attempt == 1 ? 500 : 200));
        var (id, _) = await CreateAsync(admin, url);
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var pending = (await WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].GetProperty("attempts").GetInt32() == 1))[0];
        var retryIn = DateTimeOffset.Parse(pending.Text("next_attempt_at"), System.Globalization.CultureInfo.InvariantCulture) - DateTimeOffset.Parse(pending.Text("updated_at"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryIn.TotalMilliseconds, 790, 1210); // 1 s ± 20 % jitter
        var got = await Receiver.WaitAsync(url, r => r.Count == 2);
        Assert.InRange((got[1].At - got[0].At).TotalMilliseconds, 750, 3000);
    }

    [Fact]
    public async Task FinishedDeliveriesAndTheirEventsAreDeletedAfterTheRetentionPeriod()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var (id, _) = await CreateAsync(admin, Receiver.NewEndpoint());
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        await WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].Text("status") == "succeeded");
        var store = server.Services.GetRequiredService<Livechat.Webhooks.WebhookStore>();
        // What the worker's hourly clean-up does once the retention period has passed.
        await store.CleanUpAsync(DateTimeOffset.UtcNow.AddSeconds(1), CancellationToken.None);
        Assert.Empty(await DeliveriesAsync(admin, id));
        var events = await server.Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT COUNT(*) FROM webhook_events WHERE tenant_id = @tenant").With("tenant", admin.TenantId);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }, CancellationToken.None);
        Assert.Equal(0, events);
    }

    [Fact]
    public async Task AnIdempotencyKeyMakesARetriedCreateRotateOrPingReturnTheFirstAnswer()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var url = Receiver.NewEndpoint();
        Task<Reply> PostWithKey(string path, object? body, string key) =>
            admin.SendAsync(HttpMethod.Post, path, body, r => r.Headers.Add("Idempotency-Key", key));

        var created = (await PostWithKey("/webhooks", new { url, events = new[] { "*" } }, "create-1")).AssertStatus(HttpStatusCode.Created);
        var again = (await PostWithKey("/webhooks", new { url, events = new[] { "*" } }, "create-1")).AssertStatus(HttpStatusCode.Created);
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(created.Text, again.Text);
        var id = created.Data.Text("id");
        Assert.Equal([id], (await admin.GetAsync("/webhooks")).Ids());

        // A retried rotation must not rotate again: the secret the client got the first time keeps signing.
        var rotated = (await PostWithKey($"/webhooks/{id}/rotate-secret", null, "rotate-1")).AssertStatus(HttpStatusCode.Created);
        var rotatedAgain = (await PostWithKey($"/webhooks/{id}/rotate-secret", null, "rotate-1")).AssertStatus(HttpStatusCode.Created);
        Assert.Equal(rotated.Data.Text("secret"), rotatedAgain.Data.Text("secret"));

        var pinged = (await PostWithKey($"/webhooks/{id}/ping", null, "ping-1")).AssertStatus(HttpStatusCode.Accepted);
        var pingedAgain = (await PostWithKey($"/webhooks/{id}/ping", null, "ping-1")).AssertStatus(HttpStatusCode.Accepted);
        Assert.Equal(pinged.Data.Text("event_id"), pingedAgain.Data.Text("event_id"));
        var request = (await Receiver.WaitAsync(url, r => r.Count >= 1))[0];
        await Task.Delay(300);
        Assert.Single(Receiver.At(url));
        Assert.Equal(2, request.Signature.Split(' ').Length);
        Assert.True(WebhookVerifier.Verify(rotated.Data.Text("secret"), request.Id, request.Timestamp, request.Signature.Split(' ')[0], request.Body));
    }

    [Fact]
    public async Task MetricsCountDeliveriesByOutcomeAndTheOldestPendingAge()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var (id, _) = await CreateAsync(admin, Receiver.NewEndpoint());
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        await WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].Text("status") == "succeeded");
        var metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Matches("livechat_webhook_deliveries_total\\{outcome=\"succeeded\"\\} [1-9]", metrics);
        Assert.Contains("livechat_webhook_oldest_pending_seconds ", metrics, StringComparison.Ordinal);
    }
}

public sealed class WebhookTestsOnSqlite(WebhookSqliteServer server) : WebhookTests(server), IClassFixture<WebhookSqliteServer>;

public sealed class WebhookTestsOnPostgres(WebhookPostgresServer server) : WebhookTests(server), IClassFixture<WebhookPostgresServer>;
