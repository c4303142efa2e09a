using System.Net;
using System.Text.Json;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>Two instances on one PostgreSQL database and one clock the test moves: both run the retention job and the erasure worker.</summary>
public sealed class PrivacyTwoInstances : IAsyncLifetime
{
    public PrivacyServer A { get; } = new PrivacyPostgresServer();
    public LivechatServer B { get; private set; } = null!;

    /// <summary>
    /// The retention job's beat here (its longest), with a retention "day" of an hour: one move of the clock by the beat
    /// expires the sessions and fires each instance's timer exactly once. At an hourly beat a move of days fired it many
    /// times in a row, and an instance whose first purge ended while the other's batches still ran purged again, with an
    /// audit row of its own: a third row, which the test took for a purge counted twice.
    /// </summary>
    public static readonly TimeSpan RetentionBeat = TimeSpan.FromDays(1);

    public async Task InitializeAsync()
    {
        A.Settings["Livechat:Retention:IntervalSeconds"] = "86400";
        A.Settings["Livechat:Retention:SecondsPerDay"] = "3600";
        await A.InitializeAsync();
        B = LivechatServer.SecondInstanceOf(A);
        B.ConfigureServices = services => services.AddSingleton<TimeProvider>(A.Clock);
        await B.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}

/// <summary>Contract section 21 across instances: a purge runs once with both instances' jobs running; an erasure asked of one is seen through the other.</summary>
public sealed class PrivacyTwoInstanceTests(PrivacyTwoInstances instances) : IClassFixture<PrivacyTwoInstances>
{
    private PrivacyServer A => instances.A;
    private LivechatServer B => instances.B;

    private static (int Sessions, int Messages, int Attachments) Parse(string target)
    {
        var parts = target.Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        return (parts["sessions"], parts["messages"], parts["attachments"]);
    }

    [Fact]
    public async Task BothInstancesPurgingAtOnceDeleteEachSessionOnceAndTheirCountsAddUpOnce()
    {
        const int sessions = 30, messagesEach = 1; // with batches of 3 messages, three sessions per batch: many batches on each instance
        var tenant = await A.NewTenantAsync();
        var admin = A.Admin(tenant);
        (await admin.PatchAsync("/livechat/settings", new { retention_days = 1 })).AssertStatus(HttpStatusCode.OK);
        var agent = A.Agent(tenant);
        await agent.GoOnlineAsync();
        var ids = new List<string>();
        for (var i = 0; i < sessions; i++)
        {
            var session = await agent.StartSessionAsync();
            for (var m = 0; m < messagesEach; m++) await agent.SendMessageAsync(session, $"message {m} of {i}");
            (await agent.PatchAsync($"/livechat/sessions/{session}", new { status = "CLOSED" })).AssertStatus(HttpStatusCode.OK);
            ids.Add(session);
        }

        // One move of the shared clock by one beat: both instances' timers fire once, and both purge the same tenant at the same time.
        A.Clock.Advance(PrivacyTwoInstances.RetentionBeat);
        List<(int Sessions, int Messages, int Attachments)> purges = [];
        await Eventually.Async(async () =>
        {
            var audit = (await admin.GetAsync("/livechat/audit?limit=100")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray();
            purges = audit.Where(e => e.Text("action") == "retention.purged").Select(e => Parse(e.Text("target"))).ToList();
            Assert.Equal(sessions, purges.Sum(p => p.Sessions));
        }, seconds: 60);
        Assert.Equal(sessions * messagesEach, purges.Sum(p => p.Messages));
        Assert.True(purges.Count <= 2, $"{purges.Count} purge rows: one per instance at most.");
        foreach (var session in ids) (await B.Agent(tenant, agent.UserId).GetAsync($"/livechat/sessions/{session}")).AssertError(HttpStatusCode.NotFound, "request");
        Assert.Empty((await agent.GetAsync("/livechat/sessions?limit=10")).Data.EnumerateArray());
    }

    [Fact]
    public async Task AnErasureRequestedOnOneInstanceIsSeenThroughTheOther()
    {
        var tenant = await A.NewTenantAsync();
        var agent = A.Agent(tenant);
        await agent.GoOnlineAsync();
        var customer = A.TenantUser(tenant, name: "Grace Hopper");
        var session = await customer.StartSessionAsync(agent.UserId);
        for (var i = 0; i < 5; i++) await customer.SendMessageAsync(session, $"private {i}");
        var reply = await agent.SendMessageAsync(session, "understood");

        var job = (await A.Admin(tenant).PostAsync($"/livechat/users/{customer.UserId}/erase", null)).AssertStatus(HttpStatusCode.Accepted).Data.Text("job_id");
        var adminOnB = new Caller(B, LivechatServer.NewUserId(), tenant, ["SUPPORT_ADMIN"]);
        JsonElement status = default;
        await Eventually.Async(async () =>
        {
            status = (await adminOnB.GetAsync($"/livechat/erasures/{job}")).AssertStatus(HttpStatusCode.OK).Data;
            Assert.Equal("done", status.Text("status"));
        });
        Assert.Equal(5, status.GetProperty("counts").GetProperty("messages").GetInt32());
        var agentOnB = B.Agent(tenant, agent.UserId);
        var messages = (await agentOnB.GetAsync($"/livechat/sessions/{session}/messages?limit=10")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(6, messages.Data.GetArrayLength());
        Assert.DoesNotContain("private", messages.Text);
        Assert.Equal("understood", messages.Data[5].Text("message"));
        Assert.Equal(reply.Text("id"), messages.Data[5].Text("id"));
        Assert.DoesNotContain("Grace", (await agentOnB.GetAsync($"/livechat/sessions/{session}")).Text);
    }
}
