using System.Net;
using System.Text.Json;
using Livechat.Data;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>Contract section 18, names: the token's <c>name</c> claim remembered per tenant and user, on agents and <c>GET /livechat/users/{id}</c>.</summary>
public abstract class UserNameTests(LivechatServer server)
{
    private static async Task<JsonElement> UserAsync(Caller caller, long userId) =>
        (await caller.GetAsync($"/livechat/users/{userId}")).AssertStatus(HttpStatusCode.OK).Data;

    private static async Task<JsonElement> AgentInListAsync(Caller caller, long agentId) =>
        (await caller.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray()
            .Single(a => a.GetProperty("agent_id").GetInt64() == agentId);

    private static string? NameOf(JsonElement user) => user.TryGetProperty("name", out var name) ? name.GetString() : null;

    private Task<string?> StoredNameAsync(long tenant, long user) =>
        server.Services.GetRequiredService<Database>().ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT name FROM user_names WHERE tenant_id = @tenant AND user_id = @user")
                .With("tenant", tenant).With("user", user);
            return await command.ExecuteScalarAsync() as string;
        }, CancellationToken.None);

    [Fact]
    public async Task ATokensNameIsRememberedAndShownOnTheAgentAndTheUser()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GoOnlineAsync();

        var shown = await AgentInListAsync(agent, agent.UserId);
        Assert.Equal("Ann Agent", shown.Text("name"));
        var user = await UserAsync(agent, agent.UserId);
        var members = user.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.True(members.SetEquals(["user_id", "name", "is_agent"]), $"Members: {string.Join(",", members)}");
        Assert.Equal(agent.UserId, user.GetProperty("user_id").GetInt64());
        Assert.Equal("Ann Agent", user.Text("name"));
        Assert.True(user.GetProperty("is_agent").GetBoolean());

        var customer = server.TenantUser(tenant, name: "Carl Customer");
        await customer.GetAsync("/livechat/sessions?limit=1");
        var seen = await UserAsync(agent, customer.UserId);
        Assert.Equal("Carl Customer", seen.Text("name"));
        Assert.False(seen.GetProperty("is_agent").GetBoolean());

        // Per tenant: the same user in another tenant has no name there until its token names it there.
        var otherTenant = await server.NewTenantAsync();
        var elsewhere = server.Agent(otherTenant);
        await elsewhere.GetAsync("/livechat/agents");
        (await elsewhere.GetAsync($"/livechat/users/{agent.UserId}")).AssertError(HttpStatusCode.NotFound, "request");
    }

    [Fact]
    public async Task AnAgentWithoutANameKeepsTheSeedsShape()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var shown = await AgentInListAsync(agent, agent.UserId);
        Assert.True(shown.EnumerateObject().Select(p => p.Name).ToHashSet().SetEquals(
            ["agent_id", "tenant_id", "presence", "last_seen_at", "max_sessions", "open_sessions"]), shown.GetRawText());
        var user = await UserAsync(agent, agent.UserId);
        Assert.False(user.TryGetProperty("name", out _));
        // The presence event carries the same shape.
        var presence = (await agent.PutAsync("/livechat/agents/me/presence", new { status = "AWAY" })).AssertStatus(HttpStatusCode.OK).Data;
        Assert.False(presence.TryGetProperty("name", out _));
    }

    [Fact]
    public async Task AChangedNameIsWrittenAtOnceAndATokenWithoutANameKeepsIt()
    {
        var tenant = await server.NewTenantAsync();
        var userId = LivechatServer.NewUserId();
        var agent = server.Agent(tenant, userId, name: "Old Name");
        await agent.GetAsync("/livechat/agents");
        Assert.Equal("Old Name", await StoredNameAsync(tenant, userId));

        // Within the same minute: a new name is not held back like last_seen_at is.
        var renamed = server.Agent(tenant, userId, name: "New Name");
        Assert.Equal("New Name", (await AgentInListAsync(renamed, userId)).Text("name"));
        Assert.Equal("New Name", await StoredNameAsync(tenant, userId));

        // A token without the claim says nothing about the name, and an empty one counts as none.
        var nameless = server.Agent(tenant, userId);
        Assert.Equal("New Name", (await AgentInListAsync(nameless, userId)).Text("name"));
        var empty = server.Agent(tenant, userId, name: "  ");
        Assert.Equal("New Name", (await AgentInListAsync(empty, userId)).Text("name"));

        // And back: the old token's name is a change too.
        Assert.Equal("Old Name", (await AgentInListAsync(agent, userId)).Text("name"));
    }

    [Theory]
    [InlineData("  Ann \t  Agent\n", "Ann Agent")]
    [InlineData("Ann\u0000\u0007 Agent", "Ann Agent")]
    [InlineData("\u202EtnegA nnA", "tnegA nnA")]
    [InlineData("\u200B\u200B", null)]
    [InlineData("", null)]
    [InlineData("Zoë 😀 Ñandú", "Zoë 😀 Ñandú")]
    public async Task ANameIsCleanedBeforeItIsKept(string claim, string? kept)
    {
        var agent = server.Agent(await server.NewTenantAsync(), name: claim);
        Assert.Equal(kept, NameOf(await UserAsync(agent, agent.UserId)));
    }

    [Fact]
    public async Task ALongNameIsCutAtOneHundredCharactersNeverInsideAnEmoji()
    {
        var agent = server.Agent(await server.NewTenantAsync(), name: new string('a', 99) + "😀😀😀");
        var name = NameOf(await UserAsync(agent, agent.UserId))!;
        Assert.Equal(new string('a', 99) + "😀", name);
    }

    [Fact]
    public async Task AUserNeverSeenInTheTenantIs404AndAMalformedIdIs400()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        (await agent.GetAsync($"/livechat/users/{LivechatServer.NewUserId()}")).AssertError(HttpStatusCode.NotFound, "request");
        // Seen in another tenant only.
        var outsider = server.Agent(await server.NewTenantAsync(), name: "Outsider");
        await outsider.GetAsync("/livechat/agents");
        (await agent.GetAsync($"/livechat/users/{outsider.UserId}")).AssertError(HttpStatusCode.NotFound, "request");
        foreach (var id in new[] { "abc", "0", "-1", "1.5", "99999999999999999999" })
            (await agent.GetAsync($"/livechat/users/{id}")).AssertError(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task ATenantUserSeesAgentsAndItselfButNoOtherTenantUser()
    {
        var tenant = await server.NewTenantAsync();
        var agent = server.Agent(tenant, name: "Ann Agent");
        await agent.GetAsync("/livechat/agents");
        var customer = server.TenantUser(tenant, name: "Carl");
        var colleague = server.TenantUser(tenant, name: "Cleo");
        await colleague.GetAsync("/livechat/sessions?limit=1");

        Assert.Equal("Ann Agent", (await UserAsync(customer, agent.UserId)).Text("name"));
        Assert.Equal("Carl", (await UserAsync(customer, customer.UserId)).Text("name"));
        // Another customer looks exactly like a user never seen.
        var probe = (await customer.GetAsync($"/livechat/users/{colleague.UserId}")).AssertError(HttpStatusCode.NotFound, "request");
        var unknown = (await customer.GetAsync($"/livechat/users/{LivechatServer.NewUserId()}")).AssertError(HttpStatusCode.NotFound, "request");
        Assert.Equal(unknown.Body.GetProperty("message").GetString(), probe.Body.GetProperty("message").GetString());
        // The agent sees both.
        Assert.Equal("Cleo", (await UserAsync(agent, colleague.UserId)).Text("name"));
    }
}

public sealed class UserNameTestsOnSqlite(SqliteServer server) : UserNameTests(server), IClassFixture<SqliteServer>;

public sealed class UserNameTestsOnPostgres(PostgresServer server) : UserNameTests(server), IClassFixture<PostgresServer>;
