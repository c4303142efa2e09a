using System.Net;
using Livechat.Changes;
using Livechat.Messages;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>
/// The write path (Changes/WritePath.cs): a change commits with what its handlers write, or not at all; and a
/// request that fails after its change committed does not leave its Idempotency-Key "in flight". The faults
/// are planted as a real handler and a real sink of the running service.
/// </summary>
public abstract class WritePathTests(LivechatServer server)
{
    public const string RollBack = "a handler refuses this";
    public const string FailAfterCommit = "a sink fails after this";

    [Fact]
    public async Task AHandlerThatFailsRollsBackTheWholeChange()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant);
        var user = server.TenantUser(tenant);
        var session = await agent.StartSessionAsync();
        await user.SendMessageAsync(session, "hello"); // the user takes part: an agent reply would notify it

        (await agent.PostAsync($"/livechat/sessions/{session}/messages", new { message = RollBack }))
            .AssertError(HttpStatusCode.InternalServerError, "request");

        var messages = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(["hello"], messages.Data.EnumerateArray().Select(m => m.GetProperty("message").GetString()));
        var notifications = (await user.GetAsync("/notifications")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(0, notifications.Data.GetArrayLength());
        // The session's order key was rolled back with it: the next message is stored right after the first.
        await agent.SendMessageAsync(session, "after the refusal");
        Assert.Equal(2, (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).Data.GetArrayLength());
    }

    [Fact]
    public async Task ARequestThatFailsAfterItsWriteCommittedAnswersItsRetryWithTheSameFailureNotInFlight()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        void Key(HttpRequestMessage request) => request.Headers.Add("Idempotency-Key", "after-commit-1");

        var first = await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = FailAfterCommit }, Key);
        first.AssertError(HttpStatusCode.InternalServerError, "request");

        var retry = await agent.SendAsync(HttpMethod.Post, $"/livechat/sessions/{session}/messages", new { message = FailAfterCommit }, Key);
        retry.AssertError(HttpStatusCode.InternalServerError, "request");
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Text, retry.Text);

        // The write itself committed once: the message is there, exactly once.
        var messages = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal([FailAfterCommit], messages.Data.EnumerateArray().Select(m => m.GetProperty("message").GetString()));
    }

    /// <summary>Refuses, inside the transaction, any message with the text <see cref="RollBack"/>.</summary>
    public sealed class RefusingHandler : IChangeHandler
    {
        public Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken) =>
            domainEvent is MessageCreated { Message.Message: RollBack } ? throw new InvalidOperationException("planted: refuse the change") : Task.CompletedTask;
    }

    /// <summary>Fails, after the commit, on any message with the text <see cref="FailAfterCommit"/>.</summary>
    public sealed class FailingSink : IEventSink
    {
        public void Publish(DomainEvent domainEvent)
        {
            if (domainEvent is MessageCreated { Message.Message: FailAfterCommit }) throw new InvalidOperationException("planted: fail after the commit");
        }
    }

    public static void PlantFaults(IServiceCollection services)
    {
        // First in the write path's one list of handlers, ahead of the service's own.
        services.AddSingleton(sp => new ChangeHandlers([new RefusingHandler(), .. Startup.ChangeHandlersInOrder(sp)]));
        services.AddSingleton<IEventSink, FailingSink>();
    }
}

public sealed class WritePathSqliteServer : LivechatServer
{
    public WritePathSqliteServer() : base(DatabaseProvider.Sqlite) => ConfigureServices = WritePathTests.PlantFaults;
}

public sealed class WritePathPostgresServer : LivechatServer
{
    public WritePathPostgresServer() : base(DatabaseProvider.Postgres) => ConfigureServices = WritePathTests.PlantFaults;
}

public sealed class WritePathTestsOnSqlite(WritePathSqliteServer server) : WritePathTests(server), IClassFixture<WritePathSqliteServer>;

public sealed class WritePathTestsOnPostgres(WritePathPostgresServer server) : WritePathTests(server), IClassFixture<WritePathPostgresServer>;
