using System.Net;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Livechat.Tests;

/// <summary>
/// Two service instances sharing one database and one Redis: what a deployment behind a load balancer is.
/// </summary>
public sealed class TwoInstances : IAsyncLifetime
{
    public LivechatServer A { get; } = new(DatabaseProvider.Postgres);
    public LivechatServer B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        A.Settings["Livechat:Redis:Configuration"] = RedisServer.Configuration;
        A.Settings["Livechat:Redis:ChannelPrefix"] = $"livechat-test-{Guid.NewGuid():N}";
        await A.InitializeAsync();
        B = LivechatServer.SecondInstanceOf(A);
        await B.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}

public sealed class MultiInstanceTests(TwoInstances instances) : IClassFixture<TwoInstances>
{
    private LivechatServer A => instances.A;
    private LivechatServer B => instances.B;

    [Fact]
    public async Task AMessagePostedToAReachesAHubClientOnB()
    {
        var tenant = await A.NewTenantAsync();
        var agentOnA = A.Agent(tenant);
        var session = await agentOnA.StartSessionAsync();
        var agentOnB = B.Agent(tenant, agentOnA.UserId);
        await using var client = await HubClient.ConnectAsync(B, agentOnB);
        await client.Connection.InvokeAsync("JoinSession", session);

        var sent = await agentOnA.SendMessageAsync(session, "from A to B");
        var pushed = await client.NextAsync("messageCreated");
        Assert.Equal(sent.ToString(), pushed.ToString());
    }

    [Fact]
    public async Task AMessagePostedToAReachesAnSseStreamOnB()
    {
        var tenant = await A.NewTenantAsync();
        var agentOnA = A.Agent(tenant);
        var session = await agentOnA.StartSessionAsync();
        await using var stream = await SseClient.OpenAsync(B, B.Agent(tenant, agentOnA.UserId), session);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);

        var sent = await agentOnA.SendMessageAsync(session, "streamed across instances");
        var (id, data) = await stream.NextAsync();
        Assert.Equal(sent.GetProperty("id").GetString(), id);
        Assert.Equal(sent.ToString(), data.ToString());
    }

    [Fact]
    public async Task ReadinessReportsTheDatabaseAndRedis()
    {
        var ready = (await B.SendAsync(HttpMethod.Get, "/health/ready")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Healthy", ready.Data.GetProperty("checks").GetProperty("database").GetString());
        Assert.Equal("Healthy", ready.Data.GetProperty("checks").GetProperty("redis").GetString());
    }
}
