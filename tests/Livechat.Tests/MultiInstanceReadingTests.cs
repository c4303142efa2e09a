using System.Net;
using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace Livechat.Tests;

/// <summary>Contract section 11 and 12 across two instances sharing one PostgreSQL and one Redis.</summary>
public sealed class MultiInstanceReadingTests(TwoInstances instances) : IClassFixture<TwoInstances>
{
    private LivechatServer A => instances.A;
    private LivechatServer B => instances.B;

    [Fact]
    public async Task MessagesReadOnAReachesHubClientsAndStreamsOnB()
    {
        var tenant = await A.NewTenantAsync();
        var agentOnA = A.Agent(tenant);
        await agentOnA.GoOnlineAsync();
        var userOnA = A.TenantUser(tenant);
        var session = await userOnA.StartSessionAsync(agentOnA.UserId);
        var message = await agentOnA.SendMessageAsync(session, "read me across instances");
        var agentOnB = B.Agent(tenant, agentOnA.UserId);
        await using var hub = await HubClient.ConnectAsync(B, agentOnB);
        await hub.Connection.InvokeAsync("JoinSession", session);
        await using var sessionStream = await SseClient.OpenAsync(B, agentOnB, session);
        await using var userStream = await SseClient.OpenUserStreamAsync(B, agentOnB); // all live: joined, and streams with their headers

        (await userOnA.PostAsync($"/livechat/sessions/{session}/read", new { message_id = message.Text("id") })).AssertStatus(HttpStatusCode.OK);
        var pushed = await hub.NextAsync("messagesRead");
        Assert.Equal(userOnA.UserId, pushed.GetProperty("user_id").GetInt64());
        Assert.Equal(pushed.ToString(), (await sessionStream.NextNamedAsync("messagesRead")).ToString());
        Assert.Equal(pushed.ToString(), (await userStream.NextNamedAsync("messagesRead")).ToString());
    }

    [Fact]
    public async Task ANotePostedOnAReachesAgentsOnBAndNeverTheCustomer()
    {
        var tenant = await A.NewTenantAsync();
        var agentOnA = A.Agent(tenant);
        await agentOnA.GoOnlineAsync();
        var userOnA = A.TenantUser(tenant);
        var session = await userOnA.StartSessionAsync(agentOnA.UserId);
        var colleagueOnB = B.Agent(tenant);
        var customerOnB = B.TenantUser(tenant, userOnA.UserId);
        await using var agentHub = await HubClient.ConnectAsync(B, colleagueOnB);
        await agentHub.Connection.InvokeAsync("JoinSession", session);
        await using var customerHub = await HubClient.ConnectAsync(B, customerOnB);
        await customerHub.Connection.InvokeAsync("JoinSession", session);
        await using var customerStream = await SseClient.OpenUserStreamAsync(B, customerOnB);
        await using var customerSessionStream = await SseClient.OpenAsync(B, customerOnB, session);

        var note = (await agentOnA.PostAsync($"/livechat/sessions/{session}/messages", new { message = "between us", @internal = true }))
            .AssertStatus(HttpStatusCode.Created).Data;
        var control = await agentOnA.SendMessageAsync(session, "for the customer");

        Assert.Equal(note.ToString(), (await agentHub.NextAsync("messageCreated")).ToString());
        Assert.Empty(await customerHub.BeforeAsync("messageCreated", "messageCreated", m => m.Text("id") == control.Text("id")));
        var streamed = await customerStream.NamedUntilAsync(e => e.Name == "messageCreated" && e.Data.Text("id") == control.Text("id"));
        Assert.DoesNotContain(streamed, e => e.Data.ToString().Contains(note.Text("id"), StringComparison.Ordinal));
        Assert.Equal(control.Text("id"), (await customerSessionStream.NextAsync()).Id);
    }

    [Fact]
    public async Task TypingOnAReachesTheOthersOnBAndItsEndFollowsAMessageSentThroughB()
    {
        var tenant = await A.NewTenantAsync();
        var agentOnA = A.Agent(tenant);
        await agentOnA.GoOnlineAsync();
        var userOnA = A.TenantUser(tenant);
        var session = await userOnA.StartSessionAsync(agentOnA.UserId);
        var agentOnB = B.Agent(tenant, agentOnA.UserId);
        var userOnB = B.TenantUser(tenant, userOnA.UserId);
        await using var agentHub = await HubClient.ConnectAsync(B, agentOnB);
        await agentHub.Connection.InvokeAsync("JoinSession", session);
        await using var agentStream = await SseClient.OpenUserStreamAsync(B, agentOnB);
        await using var typistHubOnB = await HubClient.ConnectAsync(B, userOnB);
        await typistHubOnB.Connection.InvokeAsync("JoinSession", session); // all live: joined, and the stream with its headers

        (await userOnA.PostAsync($"/livechat/sessions/{session}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
        Assert.True((await agentHub.NextAsync("typing")).GetProperty("is_typing").GetBoolean());
        Assert.True((await agentStream.NextNamedAsync("typing")).GetProperty("is_typing").GetBoolean());

        // The indicator lives on A; the message goes through B; A hears of it and ends the indicator.
        await userOnB.SendMessageAsync(session, "sent through B");
        Assert.False((await agentHub.NextAsync("typing")).GetProperty("is_typing").GetBoolean());
        // The control: the agent types on A; on the typist's connection that is the first typing: never its own, on any instance.
        (await agentOnA.PostAsync($"/livechat/sessions/{session}/typing", new { is_typing = true })).AssertStatus(HttpStatusCode.Accepted);
        Assert.Empty(await typistHubOnB.BeforeAsync("typing", "typing", t => t.GetProperty("user_id").GetInt64() == agentOnA.UserId));
    }
}
