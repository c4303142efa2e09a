using System.Net;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using HubException = Microsoft.AspNetCore.SignalR.HubException;

namespace Livechat.Tests;

/// <summary>A server with small buckets and caps, so the limits can be reached in a test.</summary>
public sealed class LimitedServer : LivechatServer
{
    public LimitedServer() : base(DatabaseProvider.Sqlite)
    {
        Settings["Livechat:RateLimits:UserPermitsPerSecond"] = "1";
        Settings["Livechat:RateLimits:UserBurst"] = "5";
        Settings["Livechat:RateLimits:TenantPermitsPerSecond"] = "1";
        Settings["Livechat:RateLimits:TenantBurst"] = "8";
    }
}

/// <summary>A server with small caps on long-lived connections and the usual generous rate limits.</summary>
public sealed class CappedServer : LivechatServer
{
    public CappedServer() : base(DatabaseProvider.Sqlite)
    {
        Settings["Livechat:Limits:MaxHubConnectionsPerUser"] = "2";
        Settings["Livechat:Limits:MaxSseStreamsPerUser"] = "2";
    }
}

/// <summary>Contract section 9 and issue 6: rate limits, connection caps and metrics.</summary>
public sealed class LimitsTests(LimitedServer server) : IClassFixture<LimitedServer>
{
    [Fact]
    public async Task AUserOverItsBucketGets429WithRetryAfterWhileOtherTenantsAreUnaffected()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var statuses = new List<HttpStatusCode>();
        Reply? refused = null;
        for (var i = 0; i < 8 && refused is null; i++)
        {
            var reply = await agent.GetAsync("/livechat/sessions");
            statuses.Add(reply.Status);
            if (reply.Status == HttpStatusCode.TooManyRequests) refused = reply;
        }
        Assert.NotNull(refused);
        refused.AssertError(HttpStatusCode.TooManyRequests, "request");
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 4, string.Join(",", statuses));

        var elsewhere = server.Agent(await server.NewTenantAsync());
        (await elsewhere.GetAsync("/livechat/sessions")).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ATenantOverItsBucketIsLimitedAcrossItsUsers()
    {
        var tenant = await server.NewTenantAsync();
        var refusedAfter = 0;
        for (var i = 0; i < 20; i++)
        {
            // A new user each time: only the tenant's bucket (8) can run out.
            var reply = await server.Agent(tenant).GetAsync("/livechat/sessions");
            if (reply.Status == HttpStatusCode.TooManyRequests)
            {
                reply.AssertError(HttpStatusCode.TooManyRequests, "request");
                refusedAfter = i;
                break;
            }
        }
        Assert.InRange(refusedAfter, 6, 12);
    }

    [Fact]
    public async Task HealthIsNeverLimited()
    {
        for (var i = 0; i < 30; i++) (await server.SendAsync(HttpMethod.Get, "/health/live")).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task HubInvocationsAreLimitedToo()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        await using var client = await HubClient.ConnectAsync(server, agent);
        HubException? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            try { await client.Connection.InvokeAsync("JoinSession", session); }
            catch (HubException e) { refused = e; }
        }
        Assert.NotNull(refused);
        Assert.Contains("Too many requests", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsArePrometheusTextWithRequestMessageAndRejectionCounters()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        await agent.SendMessageAsync(session, "counted");
        using var response = await server.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("livechat_messages_sent_total{sender=\"agent\"}", text, StringComparison.Ordinal);
        Assert.Contains("http_request_duration_seconds", text, StringComparison.Ordinal);
        Assert.Contains("livechat_hub_connections", text, StringComparison.Ordinal);
        Assert.Contains("livechat_rate_limit_rejections_total", text, StringComparison.Ordinal);
        Assert.Contains("livechat_database_errors_total", text, StringComparison.Ordinal);
        Assert.DoesNotContain(agent.Token, text, StringComparison.Ordinal);
    }
}

/// <summary>Issue 6: caps on hub connections and SSE streams per user.</summary>
public sealed class ConnectionCapTests(CappedServer server) : IClassFixture<CappedServer>
{
    [Fact]
    public async Task AUserMayHoldOnlySoManyEventStreams()
    {
        var tenant = await server.NewTenantAsync();
        var owner = server.Agent(tenant);
        var session = await owner.StartSessionAsync();
        var reader = server.TenantUser(tenant);
        await using var first = await SseClient.OpenAsync(server, reader, session);
        await using var second = await SseClient.OpenAsync(server, reader, session);
        Assert.Equal(HttpStatusCode.OK, first.Response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.Response.StatusCode);
        await using var third = await SseClient.OpenAsync(server, reader, session);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.Response.StatusCode);
    }

    [Fact]
    public async Task AUserMayHoldOnlySoManyHubConnections()
    {
        var user = server.TenantUser(await server.NewTenantAsync());
        await using var first = await HubClient.ConnectAsync(server, user);
        await using var second = await HubClient.ConnectAsync(server, user);
        var closed = new TaskCompletionSource();
        HubClient? third = null;
        try
        {
            third = await HubClient.ConnectAsync(server, user);
            third.Connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
            if (third.Connection.State == HubConnectionState.Disconnected) closed.TrySetResult();
            await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (HubException)
        {
            // Refused during the handshake: also a refusal.
        }
        finally
        {
            if (third is not null) await third.DisposeAsync();
        }
        Assert.Equal(HubConnectionState.Connected, first.Connection.State);
        Assert.Equal(HubConnectionState.Connected, second.Connection.State);
    }
}
