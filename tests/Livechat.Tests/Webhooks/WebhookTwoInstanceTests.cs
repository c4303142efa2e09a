using System.Net;
using Livechat.Auth;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests.Webhooks;

/// <summary>
/// Two instances on one PostgreSQL and one Redis, both delivering, with the default lease: a delivery claimed
/// and never attempted would wait it out, so a stall shows as seconds of silence rather than being hidden.
/// </summary>
public sealed class TwoDeliveringInstances : IAsyncLifetime
{
    public WebhookPostgresServer First { get; } = new();
    public LivechatServer Second { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        First.Settings["Livechat:Redis:Configuration"] = RedisServer.Configuration;
        First.Settings["Livechat:Redis:ChannelPrefix"] = $"livechat-test-{Guid.NewGuid():N}";
        foreach (var setting in new[] { "LeaseSeconds", "TimeoutSeconds", "PollMilliseconds", "FirstRetryMilliseconds" })
            First.Settings.Remove($"Livechat:Webhooks:{setting}");
        // Few slots, so that one tenant's webhooks (20 of them, 4 attempts each) could hold all of both instances'.
        First.Settings["Livechat:Webhooks:MaxConcurrency"] = "12";
        First.Settings["Livechat:Webhooks:MaxConcurrencyPerTenant"] = "4";
        await First.InitializeAsync();
        Second = LivechatServer.SecondInstanceOf(First);
        await Second.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Second.DisposeAsync();
        await First.DisposeAsync();
    }
}

public sealed class WebhookTwoInstanceTests(TwoDeliveringInstances instances) : IClassFixture<TwoDeliveringInstances>
{
    private WebhookPostgresServer First => instances.First;
    private LivechatServer Second => instances.Second;
    private WebhookReceiver Receiver => First.Receiver;

    /// <summary>
    /// Contract 13 "Fair": tenant A's 20 webhooks answer after 12 s (beyond the 10 s timeout) with a backlog of
    /// 100 deliveries, enough to fill every slot of both instances; tenant B's deliveries still arrive within
    /// seconds, because a tenant's attempts in flight are capped and the tenants take turns in the claim.
    /// </summary>
    [Fact]
    public async Task ATenantsSlowReceiversDoNotHoldUpAnotherTenantsDeliveriesOnTwoInstances()
    {
        var slowTenant = First.Admin(await First.NewTenantAsync());
        var slowOnSecond = new Caller(Second, LivechatServer.NewUserId(), slowTenant.TenantId, ["SUPPORT_ADMIN"]);
        var slowUrls = Enumerable.Range(0, 20).Select(_ => Receiver.NewEndpoint((_, _) => new ScriptedAnswer(200, TimeSpan.FromSeconds(12)))).ToList();
        var slowIds = new List<string>();
        foreach (var url in slowUrls) slowIds.Add((await WebhookTests.CreateAsync(slowTenant, url, "webhook.ping")).Id);
        var pings = new List<Task<Reply>>();
        for (var round = 0; round < 5; round++)
        {
            foreach (var id in slowIds) pings.Add((round % 2 == 0 ? slowTenant : slowOnSecond).PostAsync($"/webhooks/{id}/ping", null));
        }
        foreach (var ping in await Task.WhenAll(pings)) ping.AssertStatus(HttpStatusCode.Accepted);
        // The slow tenant's attempts are under way (positive control: its deliveries are being claimed).
        for (var waited = 0; slowUrls.Sum(url => Receiver.At(url).Count) < 4; waited++)
        {
            Assert.True(waited < 200, "The slow tenant's deliveries were never attempted.");
            await Task.Delay(50);
        }

        try
        {
            var fastTenant = First.Admin(await First.NewTenantAsync());
            var fastOnSecond = new Caller(Second, LivechatServer.NewUserId(), fastTenant.TenantId, ["SUPPORT_ADMIN"]);
            var fast = Receiver.NewEndpoint();
            var (fastId, _) = await WebhookTests.CreateAsync(fastTenant, fast, "webhook.ping");
            var waits = new List<double>();
            for (var i = 0; i < 4; i++)
            {
                var asked = DateTimeOffset.UtcNow;
                (await (i % 2 == 0 ? fastTenant : fastOnSecond).PostAsync($"/webhooks/{fastId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
                var got = await Receiver.WaitAsync(fast, r => r.Count == i + 1, seconds: 60);
                waits.Add((got[i].At - asked).TotalSeconds);
            }
            Assert.True(waits.Max() < 3, $"The other tenant's pings waited {string.Join(", ", waits.Select(w => w.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))} s.");
        }
        finally
        {
            foreach (var id in slowIds) await slowTenant.PatchAsync($"/webhooks/{id}", new { enabled = false });
        }
    }

    /// <summary>Creates racing on both instances for a tenant's last places never take it past MaxPerTenant (20).</summary>
    [Fact]
    public async Task CreatesRacingOnTwoInstancesNeverTakeATenantPastItsWebhookLimit()
    {
        var tenant = await First.NewTenantAsync();
        var admin = First.Admin(tenant);
        var adminOnSecond = new Caller(Second, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]);
        for (var i = 0; i < 17; i++) await WebhookTests.CreateAsync(admin, Receiver.NewEndpoint(), "webhook.ping");

        var racing = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            (i % 2 == 0 ? admin : adminOnSecond).PostAsync("/webhooks", new { url = Receiver.NewEndpoint(), events = new[] { "webhook.ping" } })));
        Assert.Equal(3, racing.Count(r => r.Status == HttpStatusCode.Created));
        foreach (var refused in racing.Where(r => r.Status != HttpStatusCode.Created)) refused.AssertError(HttpStatusCode.Conflict, "url");
        Assert.Equal(20, (await adminOnSecond.GetAsync("/webhooks")).AssertStatus(HttpStatusCode.OK).Ids().Count);
    }

    /// <summary>
    /// Issue 12: instances that went through retries, a 410, a rotation and a redelivery still deliver a new
    /// webhook's burst of events, posted alternately to both, within seconds.
    /// </summary>
    [Fact]
    public async Task InstancesThatWentThroughRetriesA410ARotationAndARedeliveryDeliverANewWebhooksEventsWithinSeconds()
    {
        var tenant = await First.NewTenantAsync();
        var admin = First.Admin(tenant);
        var adminOnSecond = new Caller(Second, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]);
        var agent = First.Agent(tenant);
        await agent.GoOnlineAsync();
        var agentOnSecond = new Caller(Second, agent.UserId, tenant, [Roles.SupportAgent]);
        var session = await First.TenantUser(tenant).StartSessionAsync(agent.UserId);

        // Busy webhooks first: both instances deliver 240 pings side by side.
        var warm = Enumerable.Range(0, 6).Select(_ => Receiver.NewEndpoint((_, _) => new ScriptedAnswer(200, TimeSpan.FromMilliseconds(30)))).ToList();
        var warmIds = new List<string>();
        foreach (var u in warm) warmIds.Add((await WebhookTests.CreateAsync(admin, u, "webhook.ping")).Id);
        var warmPings = new List<Task<Reply>>();
        for (var i = 0; i < 40; i++) foreach (var w in warmIds) warmPings.Add((i % 2 == 0 ? admin : adminOnSecond).PostAsync($"/webhooks/{w}/ping", null));
        await Task.WhenAll(warmPings);
        foreach (var u in warm) await Receiver.WaitAsync(u, r => r.Count >= 40, seconds: 60);
        // Retries: two 500s, then 200.
        var flaky = Receiver.NewEndpoint((_, attempt) => new ScriptedAnswer(attempt <= 2 ? 500 : 200));
        var (flakyId, _) = await WebhookTests.CreateAsync(admin, flaky, "webhook.ping");
        for (var i = 0; i < 6; i++) (await (i % 2 == 0 ? admin : adminOnSecond).PostAsync($"/webhooks/{flakyId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        // A 410 disables its webhook.
        var gone = Receiver.NewEndpoint((_, _) => new ScriptedAnswer(410));
        var (goneId, _) = await WebhookTests.CreateAsync(admin, gone, "message.created");
        await agent.SendMessageAsync(session, "to the one that is gone");
        // A rotation, then a ping signed with both secrets.
        (await adminOnSecond.PostAsync($"/webhooks/{flakyId}/rotate-secret", null)).AssertStatus(HttpStatusCode.Created);
        (await admin.PostAsync($"/webhooks/{flakyId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        // A redelivery of a delivery that failed with a 400.
        var broken = true;
        var picky = Receiver.NewEndpoint((_, _) => new ScriptedAnswer(Volatile.Read(ref broken) ? 400 : 200));
        var (pickyId, _) = await WebhookTests.CreateAsync(admin, picky, "webhook.ping");
        (await admin.PostAsync($"/webhooks/{pickyId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var failed = (await WebhookTests.WaitDeliveriesAsync(admin, pickyId, l => l.Count == 1 && l[0].Text("status") == "failed"))[0];
        Volatile.Write(ref broken, false);
        (await adminOnSecond.PostAsync($"/webhooks/{pickyId}/deliveries/{failed.Text("id")}/redeliver", null)).AssertStatus(HttpStatusCode.Accepted);

        await WebhookTests.WaitDeliveriesAsync(admin, flakyId, l => l.Count == 7 && l.All(d => d.Text("status") == "succeeded"), seconds: 90);
        await WebhookTests.WaitDeliveriesAsync(admin, goneId, l => l.Count == 1 && l[0].Text("status") == "failed");
        await WebhookTests.WaitDeliveriesAsync(admin, pickyId, l => l.Count == 2 && l[0].Text("status") == "succeeded");

        // Then a new webhook, and 40 messages posted alternately through both instances.
        var url = Receiver.NewEndpoint();
        var (id, _) = await WebhookTests.CreateAsync(admin, url, "message.created");
        var sent = new List<string>();
        for (var i = 0; i < 40; i++) sent.Add((await (i % 2 == 0 ? agent : agentOnSecond).SendMessageAsync(session, $"burst {i}")).Text("id"));
        var lastSent = DateTimeOffset.UtcNow;

        var got = await Receiver.WaitAsync(url, r => r.Select(x => x.Json.GetProperty("data").GetProperty("id").GetString()).Distinct().Count() == 40, seconds: 30);
        var tookMs = (got.Max(r => r.At) - lastSent).TotalMilliseconds;
        Assert.True(tookMs < 3000, $"The last of the 40 arrived {tookMs:F0} ms after the last message was sent.");
        Assert.Equal(sent.Order(), got.Select(r => r.Json.GetProperty("data").GetProperty("id").GetString()!).Distinct().Order());
        var log = await WebhookTests.WaitDeliveriesAsync(admin, id, l => l.Count == 40 && l.All(d => d.Text("status") == "succeeded"));
        Assert.All(log, d => Assert.Equal(1, d.GetProperty("attempts").GetInt32()));
    }

    /// <summary>
    /// Issue 12 (hardening): an attempt that fails inside the service, before any answer (here a secret that does
    /// not decode, planted in the database), is recorded as a failed attempt and retried on the schedule. It used
    /// to be left to its lease: each such claim held one of its webhook's and its tenant's slots for the whole
    /// lease (15 s) and was claimed, and failed, again after each lease, so four of them held every slot of a
    /// tenant allowed four, and its other webhook's ping waited about a lease.
    /// </summary>
    [Fact]
    public async Task AnAttemptThatFailsInsideTheServiceIsRecordedAndHoldsNoSlotOfItsTenant()
    {
        var tenant = await First.NewTenantAsync();
        var admin = First.Admin(tenant);
        var adminOnSecond = new Caller(Second, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]);
        var broken = Receiver.NewEndpoint();
        var (brokenId, _) = await WebhookTests.CreateAsync(admin, broken, "webhook.ping");
        Assert.Equal(1, await First.ExecuteSqlAsync("UPDATE webhooks SET secret = 'whsec_not*base64' WHERE tenant_id = @tenant AND id = @id",
            ("tenant", tenant), ("id", Guid.Parse(brokenId))));
        try
        {
            for (var i = 0; i < 4; i++) (await (i % 2 == 0 ? admin : adminOnSecond).PostAsync($"/webhooks/{brokenId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
            // All four were taken up by the workers: attempted, or (before the fix) claimed and left to their leases.
            for (var waited = 0; await TakenUpAsync(tenant, brokenId) < 4; waited++)
            {
                Assert.True(waited < 200, "The broken webhook's deliveries were never claimed.");
                await Task.Delay(50);
            }

            var fine = Receiver.NewEndpoint();
            var (fineId, _) = await WebhookTests.CreateAsync(admin, fine, "webhook.ping");
            var asked = DateTimeOffset.UtcNow;
            (await adminOnSecond.PostAsync($"/webhooks/{fineId}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
            var waitedFor = (await Receiver.WaitAsync(fine, r => r.Count == 1, seconds: 60))[0].At - asked;
            Assert.True(waitedFor < TimeSpan.FromSeconds(3), $"The tenant's other webhook's ping waited {waitedFor.TotalSeconds:F1} s.");

            // The broken deliveries are in the log as attempts that failed and wait for their retry; none reached the receiver.
            var log = await WebhookTests.WaitDeliveriesAsync(admin, brokenId, l => l.Count == 4 && l.All(d => d.GetProperty("attempts").GetInt32() >= 1));
            Assert.All(log, d => Assert.Equal("pending", d.Text("status")));
            Assert.All(log, d => Assert.Contains("could not be made", d.Text("last_error"), StringComparison.Ordinal));
            Assert.Empty(Receiver.At(broken));
        }
        finally
        {
            await admin.PatchAsync($"/webhooks/{brokenId}", new { enabled = false });
        }
    }

    /// <summary>
    /// Issue 12 (hardening): an outcome the database refuses once (a planted trigger fails the first recording,
    /// as a restart or a dropped connection would) is recorded on a second try. It used to be left to its lease:
    /// the delivery kept its claim, and a slot of its webhook and tenant, for 15 s, and was then sent again.
    /// </summary>
    [Fact]
    public async Task AnOutcomeTheDatabaseRefusesOnceIsRecordedOnASecondTryInsteadOfWaitingForTheLease()
    {
        var tenant = await First.NewTenantAsync();
        var admin = First.Admin(tenant);
        var url = Receiver.NewEndpoint();
        var (id, _) = await WebhookTests.CreateAsync(admin, url, "webhook.ping");
        var fault = $"refuse_record_{Guid.NewGuid():N}";
        await First.ExecuteSqlAsync($"CREATE SEQUENCE {fault}");
        // A sequence is not rolled back with the failing statement: only the first recording is refused.
        await First.ExecuteSqlAsync($$"""
            CREATE FUNCTION {{fault}}() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                IF NEW.webhook_id = '{{id}}' AND NEW.attempts > OLD.attempts AND nextval('{{fault}}') = 1 THEN
                    RAISE EXCEPTION 'planted: the outcome cannot be recorded';
                END IF;
                RETURN NEW;
            END
            $body$
            """);
        await First.ExecuteSqlAsync($"CREATE TRIGGER {fault} BEFORE UPDATE ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION {fault}()");
        try
        {
            (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
            var log = await WebhookTests.WaitDeliveriesAsync(admin, id, l => l.Count == 1 && l[0].Text("status") == "succeeded", seconds: 5);
            Assert.Equal(1, log[0].GetProperty("attempts").GetInt32());
            Assert.Single(Receiver.At(url));
            // Positive control: the first recording was refused (the trigger counted it and one more).
            Assert.Equal(2, await First.Services.GetRequiredService<Database>().ReadAsync(async connection =>
            {
                await using var command = connection.Sql($"SELECT last_value FROM {fault}");
                return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
            }, CancellationToken.None));
        }
        finally
        {
            await First.ExecuteSqlAsync($"DROP TRIGGER {fault} ON webhook_deliveries");
            await First.ExecuteSqlAsync($"DROP FUNCTION {fault}()");
            await First.ExecuteSqlAsync($"DROP SEQUENCE {fault}");
        }
    }

    /// <summary>The webhook's deliveries attempted at least once, or claimed (leased) now.</summary>
    private Task<long> TakenUpAsync(long tenant, string webhookId) =>
        First.Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql("""
                SELECT count(*) FROM webhook_deliveries
                WHERE tenant_id = @tenant AND webhook_id = @webhook AND (attempts > 0 OR locked_until > @now)
                """).With("tenant", tenant).With("webhook", Guid.Parse(webhookId)).With("now", DateTimeOffset.UtcNow);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }, CancellationToken.None);
}
