using System.Text.Json;
using System.Net;
using System.Reflection;
using Livechat.Realtime;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using HubException = Microsoft.AspNetCore.SignalR.HubException;

namespace Livechat.Tests.Security;

/// <summary>
/// OWASP API1:2023 Broken Object Level Authorization. For every operation of the OpenAPI document and every
/// hub method, an object of another tenant (session, message cursor, ticket, notification, event stream,
/// JoinSession) does not exist for the caller: a 404 (or, where the contract says so, the 400 an unknown
/// cursor gets), never a 403, never its data, never its id or text in the reply, and nothing changes for its
/// owner. Another user's notification in the same tenant is just as invisible. The inventory check makes a
/// new endpoint or hub method without a probe fail the suite.
/// </summary>
public abstract class Api1ObjectLevelAuthorizationTests(LivechatServer server)
{
    private delegate Task Attack(LivechatServer server, World world);

    /// <summary>One cross-tenant probe per operation of the OpenAPI document.</summary>
    private static readonly Dictionary<string, Attack> Probes = new(StringComparer.Ordinal)
    {
        ["POST /livechat/sessions"] = async (server, w) =>
        {
            // A body reference to another tenant's agent: the contract's answer for an unknown agent (400 agent_id),
            // word for word the one a never-seen user id gets, and no session or ticket appears anywhere.
            var never = LivechatServer.NewUserId();
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
            {
                var foreign = (await attacker.PostAsync("/livechat/sessions", new { agent_id = w.VictimAgent.UserId })).AssertError(HttpStatusCode.BadRequest, "agent_id");
                var unknown = (await attacker.PostAsync("/livechat/sessions", new { agent_id = never })).AssertError(HttpStatusCode.BadRequest, "agent_id");
                Assert.Equal(unknown.Body.GetProperty("message").GetString()!.Replace(Probe.Id(never), "N", StringComparison.Ordinal),
                    foreign.Body.GetProperty("message").GetString()!.Replace(Probe.Id(w.VictimAgent.UserId), "N", StringComparison.Ordinal));
                Assert.False(foreign.Meta.TryGetProperty("ticket_id", out _));
                Assert.False(foreign.Meta.TryGetProperty("session_id", out _));
                foreign.AssertLeaksNothing(w.Secrets, "start with a foreign agent");
            }
        },
        ["GET /livechat/sessions"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
            {
                (await attacker.GetAsync("/livechat/sessions?limit=100")).AssertStatus(HttpStatusCode.OK).AssertLeaksNothing(w.Secrets, "session list");
                // The victim's label, customer and agent, as filters: the attacker's tenant has none of them.
                foreach (var filter in new[] { $"label={w.Label}", $"customer_id={w.VictimUser.UserId}", $"agent_id={w.VictimAgent.UserId}" })
                {
                    var filtered = (await attacker.GetAsync($"/livechat/sessions?limit=100&{filter}")).AssertStatus(HttpStatusCode.OK);
                    filtered.AssertLeaksNothing(w.Secrets, filter);
                    Assert.Empty(filtered.Data.EnumerateArray());
                }
                await AssertForeignCursorIsUnknownAsync(attacker, "/livechat/sessions?limit=10", w.Session, w);
            }
        },
        ["GET /livechat/sessions/{id}"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
                (await attacker.GetAsync($"/livechat/sessions/{w.Session}")).AssertNotFound(w.Secrets, "get a foreign session");
        },
        ["PATCH /livechat/sessions/{id}"] = async (server, w) =>
        {
            (await w.AttackerAgent.PatchAsync($"/livechat/sessions/{w.Session}", new { status = "CLOSED" })).AssertNotFound(w.Secrets, "close a foreign session");
            (await w.AttackerAgent.PatchAsync($"/livechat/sessions/{w.Session}", new { status = "OPEN" })).AssertNotFound(w.Secrets, "reopen a foreign session");
        },
        ["GET /livechat/sessions/{id}/messages"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
            {
                (await attacker.GetAsync($"/livechat/sessions/{w.Session}/messages?limit=10")).AssertNotFound(w.Secrets, "read a foreign session");
                (await attacker.GetAsync($"/livechat/sessions/{w.Session}/messages?limit=10&direction=backward")).AssertNotFound(w.Secrets, "read a foreign session backward");
                (await attacker.GetAsync($"/livechat/sessions/{w.Session}/messages?limit=10&cursor={w.Message}")).AssertNotFound(w.Secrets, "read a foreign session from its cursor");
                // A foreign message as the cursor of one's own session: the contract's unknown-cursor 400.
                await AssertForeignCursorIsUnknownAsync(attacker, $"/livechat/sessions/{w.AttackerSession}/messages?limit=10", w.Message, w);
                await AssertForeignCursorIsUnknownAsync(attacker, $"/livechat/sessions/{w.AttackerSession}/messages?limit=10&direction=backward", w.Message, w);
            }
        },
        ["POST /livechat/sessions/{id}/messages"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
                (await attacker.PostAsync($"/livechat/sessions/{w.Session}/messages", new { message = "injected" })).AssertNotFound(w.Secrets, "write into a foreign session");
        },
        ["GET /livechat/sessions/{id}/events"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
            {
                (await attacker.GetAsync($"/livechat/sessions/{w.Session}/events")).AssertNotFound(w.Secrets, "stream a foreign session");
                // A foreign message as Last-Event-ID on one's own stream replays nothing: 400, as for any unknown id.
                var refused = (await attacker.SendAsync(HttpMethod.Get, $"/livechat/sessions/{w.AttackerSession}/events", null,
                    r => r.Headers.Add("Last-Event-ID", w.Message))).AssertError(HttpStatusCode.BadRequest, "last_event_id");
                refused.AssertLeaksNothing(w.Secrets, "resume from a foreign message");
            }
        },
        ["POST /livechat/sessions/{id}/read"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
            {
                (await attacker.PostAsync($"/livechat/sessions/{w.Session}/read", new { message_id = w.Message })).AssertNotFound(w.Secrets, "read a foreign session");
                // A foreign message on one's own session: the same 400 as a message that does not exist.
                var foreign = (await attacker.PostAsync($"/livechat/sessions/{w.AttackerSession}/read", new { message_id = w.Message }))
                    .AssertError(HttpStatusCode.BadRequest, "message_id");
                var unknown = (await attacker.PostAsync($"/livechat/sessions/{w.AttackerSession}/read", new { message_id = Guid.CreateVersion7() }))
                    .AssertError(HttpStatusCode.BadRequest, "message_id");
                Assert.Equal(unknown.Body.GetProperty("errors").ToString(), foreign.Body.GetProperty("errors").ToString());
                foreign.AssertLeaksNothing(w.Secrets, "mark a foreign message read");
            }
        },
        ["POST /livechat/sessions/{id}/typing"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
                (await attacker.PostAsync($"/livechat/sessions/{w.Session}/typing", new { is_typing = true })).AssertNotFound(w.Secrets, "type into a foreign session");
        },
        ["GET /livechat/stream"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
            {
                // The same user id as the victim's agent, in the attacker's tenant: it hears nothing of the victim's tenant.
                var twin = attacker == w.AttackerAgent ? server.Agent(attacker.TenantId, w.VictimAgent.UserId) : attacker;
                // A session of the twin's own, for the control, before the stream opens (a user's with a fresh agent of its tenant, online).
                long? with = null;
                if (twin == w.AttackerUser)
                {
                    var helper = server.Agent(attacker.TenantId);
                    await helper.GoOnlineAsync();
                    with = helper.UserId;
                }
                var own = await twin.StartSessionAsync(with);
                await using var stream = await SseClient.OpenUserStreamAsync(server, twin); // live once its headers came
                // Events that change none of the victim's state (the test compares it before and after).
                (await w.VictimAgent.PostAsync($"/livechat/sessions/{w.Session}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
                (await w.VictimAgent.PostAsync($"/livechat/sessions/{w.Session}/typing", new { is_typing = false })).AssertStatus(HttpStatusCode.Accepted);
                // The control: the twin's own message in its own session comes after anything those sent the stream.
                var control = await twin.SendMessageAsync(own, "control");
                var events = await stream.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("id") == control.Text("id"));
                Assert.All(events, e =>
                {
                    Assert.Equal(JsonValueKind.Object, e.Data.ValueKind);
                    Assert.DoesNotContain(w.Session, e.Data.ToString(), StringComparison.OrdinalIgnoreCase);
                    if (e.Data.TryGetProperty("tenant_id", out var tenant)) Assert.Equal(attacker.TenantId, tenant.GetInt64());
                });
            }
        },
        ["GET /livechat/agents"] = async (server, w) =>
        {
            var agents = (await w.AttackerAgent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
            Assert.DoesNotContain(agents.Data.EnumerateArray(), a => a.GetProperty("agent_id").GetInt64() == w.VictimAgent.UserId);
            Assert.All(agents.Data.EnumerateArray(), a => Assert.Equal(w.AttackerAgent.TenantId, a.GetProperty("tenant_id").GetInt64()));
        },
        ["PUT /livechat/agents/me/presence"] = async (server, w) =>
        {
            // The same user id, granted the attacker's tenant only: its presence there is not the one in the victim's tenant.
            var twin = server.Agent(w.AttackerAgent.TenantId, w.VictimAgent.UserId);
            var set = (await twin.PutAsync("/livechat/agents/me/presence", new { status = "OFFLINE" })).AssertStatus(HttpStatusCode.OK);
            Assert.Equal(w.AttackerAgent.TenantId, set.Data.GetProperty("tenant_id").GetInt64());
            var victimView = (await w.VictimAgent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal("ONLINE", victimView.Data.EnumerateArray().Single(a => a.GetProperty("agent_id").GetInt64() == w.VictimAgent.UserId).GetProperty("presence").GetString());
        },
        ["PATCH /livechat/agents/me"] = async (server, w) =>
        {
            // The same user id in the attacker's tenant: its capacity there is not the one in the victim's tenant.
            var twin = server.Agent(w.AttackerAgent.TenantId, w.VictimAgent.UserId);
            var set = (await twin.PatchAsync("/livechat/agents/me", new { max_sessions = 7 })).AssertStatus(HttpStatusCode.OK);
            Assert.Equal(w.AttackerAgent.TenantId, set.Data.GetProperty("tenant_id").GetInt64());
            var victimView = (await w.VictimAgent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal(1, victimView.Data.EnumerateArray().Single(a => a.GetProperty("agent_id").GetInt64() == w.VictimAgent.UserId).GetProperty("max_sessions").GetInt32());
        },
        ["POST /livechat/sessions/{id}/rating"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
                (await attacker.PostAsync($"/livechat/sessions/{w.Session}/rating", new { score = 1 })).AssertNotFound(w.Secrets, "rate a foreign session");
            Assert.False((await w.VictimAgent.GetAsync($"/livechat/sessions/{w.Session}")).Data.TryGetProperty("rating", out _));
        },
        ["GET /livechat/reports/summary"] = async (server, w) => await AssertReportIsTheTenantsOwnAsync("summary", w),
        ["GET /livechat/reports/agents"] = async (server, w) => await AssertReportIsTheTenantsOwnAsync("agents", w),
        ["GET /livechat/reports/daily"] = async (server, w) => await AssertReportIsTheTenantsOwnAsync("daily", w),
        ["GET /livechat/sessions/{id}/transcript"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
            {
                foreach (var format in new[] { "txt", "json", "html" })
                    (await attacker.GetAsync($"/livechat/sessions/{w.Session}/transcript?format={format}")).AssertNotFound(w.Secrets, $"download a foreign session's {format} transcript");
            }
        },
        ["GET /livechat/queue"] = async (server, w) =>
            (await w.AttackerAgent.GetAsync("/livechat/queue")).AssertStatus(HttpStatusCode.OK).AssertLeaksNothing(w.Secrets, "queue"),
        ["POST /livechat/sessions/{id}/transfer"] = async (server, w) =>
        {
            // Claiming, handing back or giving away another tenant's session: it does not exist for the attacker.
            (await w.AttackerAgent.PostAsync($"/livechat/sessions/{w.Session}/transfer", new { agent_id = w.AttackerAgent.UserId })).AssertNotFound(w.Secrets, "claim a foreign session");
            (await w.AttackerAgent.PostAsync($"/livechat/sessions/{w.Session}/transfer", new { agent_id = (long?)null })).AssertNotFound(w.Secrets, "hand back a foreign session");
            // Giving one's own session to the victim's agent: unknown in the attacker's tenant (409 agent_id), nothing moves.
            (await w.AttackerAgent.PostAsync($"/livechat/sessions/{w.AttackerSession}/transfer", new { agent_id = w.VictimAgent.UserId }))
                .AssertError(HttpStatusCode.Conflict, "agent_id").AssertLeaksNothing(w.Secrets, "transfer to a foreign agent");
            var victim = (await w.VictimAgent.GetAsync($"/livechat/sessions/{w.Session}")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal(w.VictimAgent.UserId, victim.Data.GetProperty("agent_id").GetInt64());
        },
        ["GET /tickets"] = async (server, w) =>
        {
            (await w.AttackerAgent.GetAsync("/tickets?limit=100")).AssertStatus(HttpStatusCode.OK).AssertLeaksNothing(w.Secrets, "ticket list");
            await AssertForeignCursorIsUnknownAsync(w.AttackerAgent, "/tickets?limit=10", w.Ticket, w);
        },
        ["GET /tickets/{id}"] = async (server, w) =>
            (await w.AttackerAgent.GetAsync($"/tickets/{w.Ticket}")).AssertNotFound(w.Secrets, "get a foreign ticket"),
        ["PATCH /tickets/{id}"] = async (server, w) =>
        {
            (await w.AttackerAgent.PatchAsync($"/tickets/{w.Ticket}", new { status = "closed" })).AssertNotFound(w.Secrets, "close a foreign ticket");
            (await w.AttackerAgent.PatchAsync($"/tickets/{w.Ticket}", new { agent_id = w.AttackerAgent.UserId })).AssertNotFound(w.Secrets, "take a foreign ticket");
        },
        ["GET /livechat/sessions/{id}/read"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
                (await attacker.GetAsync($"/livechat/sessions/{w.Session}/read")).AssertNotFound(w.Secrets, "read foreign read markers");
        },
        ["GET /livechat/users/{id}"] = async (server, w) =>
        {
            // The victim tenant's users were seen there only: for the attacker's tenant they are strangers.
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
            {
                var unknown = (await attacker.GetAsync($"/livechat/users/{LivechatServer.NewUserId()}")).AssertError(HttpStatusCode.NotFound, "request");
                foreach (var victim in new[] { w.VictimAgent, w.VictimUser })
                {
                    var foreign = await attacker.GetAsync($"/livechat/users/{victim.UserId}");
                    foreign.AssertNotFound(w.Secrets, "look up a foreign user");
                    Assert.Equal(unknown.Body.GetProperty("message").GetString(), foreign.Body.GetProperty("message").GetString());
                }
            }
        },
        ["GET /livechat/canned-responses"] = async (server, w) =>
        {
            (await w.AttackerAgent.GetAsync("/livechat/canned-responses?limit=100")).AssertStatus(HttpStatusCode.OK).AssertLeaksNothing(w.Secrets, "canned list");
            (await w.AttackerAgent.GetAsync("/livechat/canned-responses?q=victim")).AssertStatus(HttpStatusCode.OK).AssertLeaksNothing(w.Secrets, "canned search");
            await AssertForeignCursorIsUnknownAsync(w.AttackerAgent, "/livechat/canned-responses?limit=10", w.CannedResponse, w);
        },
        ["POST /livechat/canned-responses"] = async (server, w) =>
            // The victim's shortcut is free in the attacker's tenant: shortcuts are unique per tenant, and say nothing across.
            (await w.AttackerAgent.PostAsync("/livechat/canned-responses", new { shortcut = "victim-greeting", title = "Mine", body = "Mine" }))
                .AssertStatus(HttpStatusCode.Created).AssertLeaksNothing(w.Secrets, "create a canned response"),
        ["GET /livechat/canned-responses/{id}"] = async (server, w) =>
        {
            (await w.AttackerAgent.GetAsync($"/livechat/canned-responses/{w.CannedResponse}")).AssertNotFound(w.Secrets, "get a foreign canned response");
            // One's own canned response rendered for a foreign session: the session does not exist.
            var own = (await w.AttackerAgent.PostAsync("/livechat/canned-responses", new { shortcut = "probe", title = "Probe", body = "{{customer.name}} {{agent.name}}" }))
                .AssertStatus(HttpStatusCode.Created).Data.GetProperty("id").GetString();
            (await w.AttackerAgent.GetAsync($"/livechat/canned-responses/{own}?session_id={w.Session}")).AssertNotFound(w.Secrets, "render for a foreign session");
        },
        ["PATCH /livechat/canned-responses/{id}"] = async (server, w) =>
            (await w.AttackerAgent.PatchAsync($"/livechat/canned-responses/{w.CannedResponse}", new { body = "stolen" })).AssertNotFound(w.Secrets, "change a foreign canned response"),
        ["DELETE /livechat/canned-responses/{id}"] = async (server, w) =>
            (await w.AttackerAgent.SendAsync(HttpMethod.Delete, $"/livechat/canned-responses/{w.CannedResponse}", null)).AssertNotFound(w.Secrets, "delete a foreign canned response"),
        ["GET /livechat/search"] = async (server, w) =>
        {
            // Another tenant's agent and user, and the victim's own colleague (a tenant user who takes no part in the session).
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser, w.Colleague })
            {
                foreach (var q in new[] { w.MessageText, "victim", "hello" })
                {
                    var found = (await attacker.GetAsync($"/livechat/search?limit=100&q={q}")).AssertStatus(HttpStatusCode.OK);
                    found.AssertLeaksNothing(w.Secrets, $"search for {q}");
                    Assert.Empty(found.Data.EnumerateArray());
                }
            }
            (await w.VictimAgent.GetAsync($"/livechat/search?q={w.MessageText}")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray().Single(); // the positive control
            await AssertForeignCursorIsUnknownAsync(w.AttackerAgent, "/livechat/search?q=attacker", w.Message, w);
        },
        ["GET /livechat/labels"] = async (server, w) =>
            (await w.AttackerAgent.GetAsync("/livechat/labels")).AssertStatus(HttpStatusCode.OK).AssertLeaksNothing(w.Secrets, "label list"),
        ["PUT /livechat/sessions/{id}/labels"] = async (server, w) =>
            (await w.AttackerAgent.PutAsync($"/livechat/sessions/{w.Session}/labels", new { labels = new[] { "stolen" } })).AssertNotFound(w.Secrets, "label a foreign session"),
        ["GET /notifications"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser, w.Colleague })
            {
                (await attacker.GetAsync("/notifications?limit=100")).AssertStatus(HttpStatusCode.OK).AssertLeaksNothing([w.Notification], "notification list");
                await AssertForeignCursorIsUnknownAsync(attacker, "/notifications?limit=10", w.Notification, w);
            }
        },
        ["POST /notifications/{id}/read"] = async (server, w) =>
        {
            // Other tenants and the victim's own colleague alike.
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser, w.Colleague })
                (await attacker.PostAsync($"/notifications/{w.Notification}/read", null)).AssertNotFound(w.Secrets, "read someone else's notification");
        },
        ["POST /notifications/read-all"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser, w.Colleague })
            {
                var reply = (await attacker.PostAsync("/notifications/read-all", null)).AssertStatus(HttpStatusCode.OK);
                Assert.Equal(0, reply.Data.GetProperty("marked").GetInt32());
            }
        },
        // Webhooks (SUPPORT_ADMIN only): an admin of the attacker's tenant names the victim tenant's webhook and delivery.
        ["POST /webhooks"] = (server, w) => Webhooks.WebhookProbes.ProbeAsync(server, w.VictimAgent.TenantId, w.AttackerAgent.TenantId, async (a, id, d, secrets) =>
            (await a.PostAsync("/webhooks", new { url = "https://93.184.215.14/mine", events = new[] { "webhook.ping" } })).AssertStatus(HttpStatusCode.Created).AssertLeaksNothing(secrets, "create a webhook")),
        ["GET /webhooks"] = (server, w) => Webhooks.WebhookProbes.ProbeAsync(server, w.VictimAgent.TenantId, w.AttackerAgent.TenantId, async (a, id, d, secrets) =>
            (await a.GetAsync("/webhooks")).AssertStatus(HttpStatusCode.OK).AssertLeaksNothing(secrets, "webhook list")),
        ["GET /webhooks/{id}"] = (server, w) => Webhooks.WebhookProbes.ProbeAsync(server, w.VictimAgent.TenantId, w.AttackerAgent.TenantId, async (a, id, d, secrets) =>
            (await a.GetAsync($"/webhooks/{id}")).AssertNotFound(secrets, "get a foreign webhook")),
        ["PATCH /webhooks/{id}"] = (server, w) => Webhooks.WebhookProbes.ProbeAsync(server, w.VictimAgent.TenantId, w.AttackerAgent.TenantId, async (a, id, d, secrets) =>
            (await a.PatchAsync($"/webhooks/{id}", new { url = "https://93.184.215.14/stolen", enabled = true })).AssertNotFound(secrets, "redirect a foreign webhook")),
        ["DELETE /webhooks/{id}"] = (server, w) => Webhooks.WebhookProbes.ProbeAsync(server, w.VictimAgent.TenantId, w.AttackerAgent.TenantId, async (a, id, d, secrets) =>
            (await a.SendAsync(HttpMethod.Delete, $"/webhooks/{id}", null)).AssertNotFound(secrets, "delete a foreign webhook")),
        ["POST /webhooks/{id}/rotate-secret"] = (server, w) => Webhooks.WebhookProbes.ProbeAsync(server, w.VictimAgent.TenantId, w.AttackerAgent.TenantId, async (a, id, d, secrets) =>
            (await a.PostAsync($"/webhooks/{id}/rotate-secret", null)).AssertNotFound(secrets, "rotate a foreign webhook's secret")),
        ["POST /webhooks/{id}/ping"] = (server, w) => Webhooks.WebhookProbes.ProbeAsync(server, w.VictimAgent.TenantId, w.AttackerAgent.TenantId, async (a, id, d, secrets) =>
            (await a.PostAsync($"/webhooks/{id}/ping", null)).AssertNotFound(secrets, "ping a foreign webhook")),
        ["GET /webhooks/{id}/deliveries"] = (server, w) => Webhooks.WebhookProbes.ProbeAsync(server, w.VictimAgent.TenantId, w.AttackerAgent.TenantId, async (a, id, d, secrets) =>
            (await a.GetAsync($"/webhooks/{id}/deliveries?limit=10")).AssertNotFound(secrets, "read a foreign delivery log")),
        ["POST /webhooks/{id}/deliveries/{deliveryId}/redeliver"] = (server, w) => Webhooks.WebhookProbes.ProbeAsync(server, w.VictimAgent.TenantId, w.AttackerAgent.TenantId, async (a, id, d, secrets) =>
            (await a.PostAsync($"/webhooks/{id}/deliveries/{d}/redeliver", null)).AssertNotFound(secrets, "redeliver a foreign delivery")),
        ["POST /livechat/sessions/{id}/attachments"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
                (await Attachments.AttachmentKit.UploadAsync(attacker, w.Session, Attachments.AttachmentKit.Png)).AssertNotFound(w.Secrets, "upload into a foreign session");
        },
        ["GET /livechat/attachments/{id}"] = async (server, w) =>
        {
            var file = (await Attachments.AttachmentKit.UploadAsync(w.VictimUser, w.Session, Attachments.AttachmentKit.Png)).AssertStatus(HttpStatusCode.Created).Data;
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
                (await attacker.GetAsync($"/livechat/attachments/{file.GetProperty("id").GetString()}")).AssertNotFound([.. w.Secrets, file.GetProperty("sha256").GetString()!], "get a foreign attachment");
        },
        ["GET /livechat/settings"] = async (server, w) =>
        {
            (await AdminOf(server, w.VictimAgent).PatchAsync("/livechat/settings", new { retention_days = 11 })).AssertStatus(HttpStatusCode.OK);
            var seen = (await AdminOf(server, w.AttackerAgent).GetAsync("/livechat/settings")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal(System.Text.Json.JsonValueKind.Null, seen.Data.GetProperty("retention_days").ValueKind);
        },
        ["PATCH /livechat/settings"] = async (server, w) =>
        {
            (await AdminOf(server, w.AttackerAgent).PatchAsync("/livechat/settings", new { retention_days = 1 })).AssertStatus(HttpStatusCode.OK);
            Assert.NotEqual(1, (await AdminOf(server, w.VictimAgent).GetAsync("/livechat/settings")).Data.GetProperty("retention_days") is { ValueKind: System.Text.Json.JsonValueKind.Number } days ? days.GetInt32() : 0);
        },
        ["POST /livechat/users/{id}/erase"] = async (server, w) =>
        {
            // The victim's customer is no user of the attacker's tenant: nothing is erased.
            (await AdminOf(server, w.AttackerAgent).PostAsync($"/livechat/users/{w.VictimUser.UserId}/erase", null)).AssertNotFound(w.Secrets, "erase a foreign user");
            Assert.Contains(w.MessageText, (await w.VictimAgent.GetAsync($"/livechat/sessions/{w.Session}/messages?limit=100")).Text);
        },
        ["GET /livechat/erasures/{job_id}"] = async (server, w) =>
        {
            var leaving = server.TenantUser(w.VictimAgent.TenantId);
            (await leaving.GetAsync("/livechat/sessions?limit=1")).AssertStatus(HttpStatusCode.OK); // now a known tenant user
            var job = (await AdminOf(server, w.VictimAgent).PostAsync($"/livechat/users/{leaving.UserId}/erase", null)).AssertStatus(HttpStatusCode.Accepted).Data.GetProperty("job_id").GetString();
            (await AdminOf(server, w.AttackerAgent).GetAsync($"/livechat/erasures/{job}")).AssertNotFound(w.Secrets, "read a foreign erasure");
        },
        ["GET /livechat/audit"] = async (server, w) =>
        {
            var victimAdmin = AdminOf(server, w.VictimAgent);
            (await victimAdmin.PatchAsync("/livechat/settings", new { retention_days = 12 })).AssertStatus(HttpStatusCode.OK);
            var entry = (await victimAdmin.GetAsync("/livechat/audit?limit=1")).AssertStatus(HttpStatusCode.OK).Data[0].GetProperty("id").GetString()!;
            var attacker = AdminOf(server, w.AttackerAgent);
            var seen = (await attacker.GetAsync("/livechat/audit?limit=100")).AssertStatus(HttpStatusCode.OK);
            seen.AssertLeaksNothing(w.Secrets, "audit log");
            Assert.DoesNotContain(entry, seen.Text);
            await AssertForeignCursorIsUnknownAsync(attacker, "/livechat/audit?limit=10", entry, w);
        },
        ["DELETE /livechat/attachments/{id}"] = async (server, w) =>
        {
            var id = (await Attachments.AttachmentKit.UploadAsync(w.VictimUser, w.Session, Attachments.AttachmentKit.Png)).AssertStatus(HttpStatusCode.Created).Data.GetProperty("id").GetString();
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
                (await attacker.SendAsync(HttpMethod.Delete, $"/livechat/attachments/{id}", null)).AssertNotFound(w.Secrets, "delete a foreign attachment");
            (await w.VictimUser.GetAsync($"/livechat/attachments/{id}")).AssertStatus(HttpStatusCode.OK);
        },
    };

    /// <summary>Routes outside the OpenAPI document that anyone may call: they must show no tenant's data.</summary>
    private static readonly Dictionary<string, Attack> PublicProbes = new(StringComparer.Ordinal)
    {
        ["GET /health/live"] = async (server, w) =>
            (await server.SendAsync(HttpMethod.Get, "/health/live")).AssertStatus(HttpStatusCode.OK).AssertLeaksNothing(w.Secrets, "health"),
        ["GET /health/ready"] = async (server, w) =>
            (await server.SendAsync(HttpMethod.Get, "/health/ready")).AssertStatus(HttpStatusCode.OK).AssertLeaksNothing(w.Secrets, "readiness"),
        ["GET /livechat/attachments/{id}/content"] = async (server, w) =>
        {
            // The link is the credential (contract section 15: a bad signature is 403): the attacker's own signature on
            // the victim's attachment id is refused exactly as a signature for an attachment that does not exist.
            var victims = (await Attachments.AttachmentKit.UploadAsync(w.VictimUser, w.Session, Attachments.AttachmentKit.Png)).AssertStatus(HttpStatusCode.Created).Data.GetProperty("id").GetString()!;
            var own = (await Attachments.AttachmentKit.UploadAsync(w.AttackerAgent, w.AttackerSession, Attachments.AttachmentKit.Png)).AssertStatus(HttpStatusCode.Created).Data.GetProperty("url").GetString()!;
            var foreign = (await server.SendAsync(HttpMethod.Get, own.Replace(own.Split('/')[3], victims, StringComparison.Ordinal))).AssertError(HttpStatusCode.Forbidden, "request");
            var unknown = (await server.SendAsync(HttpMethod.Get, own.Replace(own.Split('/')[3], Guid.CreateVersion7().ToString(), StringComparison.Ordinal))).AssertError(HttpStatusCode.Forbidden, "request");
            Assert.Equal(unknown.Body.GetProperty("message").GetString(), foreign.Body.GetProperty("message").GetString());
            foreign.AssertLeaksNothing([.. w.Secrets, victims], "download a foreign attachment with one's own signature");
        },
    };

    /// <summary>One cross-tenant probe per public hub method.</summary>
    private static readonly Dictionary<string, Attack> HubProbes = new(StringComparer.Ordinal)
    {
        ["JoinSession"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
            {
                await using var client = await HubClient.ConnectAsync(server, attacker);
                var foreign = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("JoinSession", w.Session));
                var unknown = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("JoinSession", Guid.CreateVersion7().ToString()));
                Assert.Equal(unknown.Message, foreign.Message);
                Assert.DoesNotContain(w.Session, foreign.Message, StringComparison.OrdinalIgnoreCase);

                // Nothing of the victim's session arrives; the attacker's own message, pushed after it, proves the queue moved.
                await client.Connection.InvokeAsync("JoinSession", w.AttackerSession);
                await w.VictimAgent.SendMessageAsync(w.Session, "after the refused join");
                await w.AttackerAgent.SendMessageAsync(w.AttackerSession, "sentinel");
                var own = await client.NextAsync("messageCreated");
                Assert.Equal(w.AttackerSession, own.GetProperty("session_id").GetString());
                Assert.Empty(client.Drain("messageCreated"));
                Assert.All(client.Drain("notificationCreated"), n => Assert.Equal(attacker.TenantId, n.GetProperty("tenant_id").GetInt64()));
            }
        },
        ["Typing"] = async (server, w) =>
        {
            foreach (var attacker in new[] { w.AttackerAgent, w.AttackerUser })
            {
                await using var client = await HubClient.ConnectAsync(server, attacker);
                var foreign = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("Typing", w.Session, true));
                var unknown = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("Typing", Guid.CreateVersion7().ToString(), true));
                Assert.Equal(unknown.Message, foreign.Message);
                Assert.DoesNotContain(w.Session, foreign.Message, StringComparison.OrdinalIgnoreCase);
            }
        },
        ["LeaveSession"] = async (server, w) =>
        {
            // Leaving a foreign session is a no-op that says nothing either way.
            await using var client = await HubClient.ConnectAsync(server, w.AttackerAgent);
            await client.Connection.InvokeAsync("LeaveSession", w.Session);
            await client.Connection.InvokeAsync("LeaveSession", Guid.CreateVersion7().ToString());
        },
    };

    /// <summary>A report over today counts the attacker's tenant only: the victim's agent is in no row, and filtering on it finds nothing.</summary>
    private static async Task AssertReportIsTheTenantsOwnAsync(string report, World w)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var range = $"from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}";
        var own = (await w.AttackerAgent.GetAsync($"/livechat/reports/{report}?{range}")).AssertStatus(HttpStatusCode.OK);
        own.AssertLeaksNothing(w.Secrets, $"{report} report");
        if (report == "agents") Assert.DoesNotContain(own.Data.EnumerateArray(), row => row.GetProperty("agent_id").GetInt64() == w.VictimAgent.UserId);
        var filtered = (await w.AttackerAgent.GetAsync($"/livechat/reports/summary?{range}&agent_id={w.VictimAgent.UserId}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, filtered.Data.GetProperty("sessions_started").GetInt64());
        (await w.AttackerUser.GetAsync($"/livechat/reports/{report}?{range}")).AssertStatus(HttpStatusCode.Forbidden);
    }

    private static async Task AssertForeignCursorIsUnknownAsync(Caller attacker, string path, string foreignId, World w)
    {
        var foreign = (await attacker.GetAsync($"{path}&cursor={foreignId}")).AssertError(HttpStatusCode.BadRequest, "cursor");
        var unknown = (await attacker.GetAsync($"{path}&cursor={Guid.CreateVersion7()}")).AssertError(HttpStatusCode.BadRequest, "cursor");
        Assert.Equal(unknown.Body.GetProperty("errors").ToString(), foreign.Body.GetProperty("errors").ToString());
        foreign.AssertLeaksNothing(w.Secrets, $"foreign cursor on {path}");
    }

    /// <summary>A SUPPORT_ADMIN of <paramref name="colleague"/>'s tenant (contract section 21's endpoints are theirs).</summary>
    private static Caller AdminOf(LivechatServer server, Caller colleague) => new(server, LivechatServer.NewUserId(), colleague.TenantId, ["SUPPORT_ADMIN"]);

    public static TheoryData<string> Operations() => new(Probes.Keys.Concat(PublicProbes.Keys).Order(StringComparer.Ordinal));

    public static TheoryData<string> HubMethods() => new(HubProbes.Keys.Order(StringComparer.Ordinal));

    [Fact]
    public async Task EveryOperationOfTheOpenApiDocumentHasAnObjectLevelProbe()
    {
        var documented = await Probe.OpenApiOperationsAsync(server);
        Assert.Equal(documented, new SortedSet<string>(Probes.Keys, StringComparer.Ordinal));
    }

    [Fact]
    public void EveryPublicHubMethodHasAnObjectLevelProbe()
    {
        var methods = typeof(LivechatHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.Name is not ("OnConnectedAsync" or "OnDisconnectedAsync"))
            .Select(m => m.Name);
        Assert.Equal(new SortedSet<string>(methods, StringComparer.Ordinal), new SortedSet<string>(HubProbes.Keys, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task AnotherTenantsObjectsDoNotExistForTheCallerOfEveryOperation(string operation)
    {
        var world = await World.CreateAsync(server);
        var before = await world.VictimStateAsync();
        await (Probes.TryGetValue(operation, out var probe) ? probe : PublicProbes[operation])(server, world);
        Assert.Equal(before, await world.VictimStateAsync());
    }

    [Theory]
    [MemberData(nameof(HubMethods))]
    public async Task AnotherTenantsSessionsDoNotExistForEveryHubMethod(string method)
    {
        var world = await World.CreateAsync(server);
        await HubProbes[method](server, world);
    }

    [Fact]
    public async Task AnotherUsersNotificationInTheSameTenantIs404AndStaysUnread()
    {
        var w = await World.CreateAsync(server);
        (await w.Colleague.PostAsync($"/notifications/{w.Notification}/read", null)).AssertNotFound([w.Notification, w.MessageText], "colleague reads");
        (await w.Colleague.PostAsync("/notifications/read-all", null)).AssertStatus(HttpStatusCode.OK);
        var mine = (await w.VictimUser.GetAsync("/notifications?unread=true&limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Contains(w.Notification, mine.Ids());
        // The owner can: so the 404 above was about who asked, not about the id.
        (await w.VictimUser.PostAsync($"/notifications/{w.Notification}/read", null)).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AForeignObjectAnswersExactlyLikeAnIdThatNeverExisted()
    {
        var w = await World.CreateAsync(server);
        var never = Guid.CreateVersion7().ToString();
        foreach (var (foreign, path) in new[]
        {
            (w.Session, "/livechat/sessions/{id}"), (w.Session, "/livechat/sessions/{id}/messages?limit=5"), (w.Ticket, "/tickets/{id}"),
        })
        {
            var a = await w.AttackerAgent.GetAsync(path.Replace("{id}", foreign, StringComparison.Ordinal));
            var b = await w.AttackerAgent.GetAsync(path.Replace("{id}", never, StringComparison.Ordinal));
            Assert.Equal(b.Status, a.Status);
            Assert.Equal(b.Body.GetProperty("message").GetString(), a.Body.GetProperty("message").GetString());
            Assert.Equal(b.Body.GetProperty("errors").ToString(), a.Body.GetProperty("errors").ToString());
        }
    }
}

public sealed class Api1ObjectLevelAuthorizationTestsOnSqlite(SqliteServer server) : Api1ObjectLevelAuthorizationTests(server), IClassFixture<SqliteServer>;

public sealed class Api1ObjectLevelAuthorizationTestsOnPostgres(PostgresServer server) : Api1ObjectLevelAuthorizationTests(server), IClassFixture<PostgresServer>;
