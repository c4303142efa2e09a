using System.Net;
using Livechat.Data;
using Livechat.Search;
using Livechat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Livechat.Tests;

/// <summary>A PostgreSQL server on a clock the test moves, so the search reads the words' statistics again when told.</summary>
public sealed class SearchCommonWordsServer : LivechatServer
{
    public SearchCommonWordsServer() : base(DatabaseProvider.Postgres) => ConfigureServices = services => services.AddSingleton<TimeProvider>(Clock);

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
}

/// <summary>
/// PostgreSQL (ADR 0052): a query with words common in the tenant and rare ones looks up the rare ones in the GIN index
/// and checks the whole query on the messages they find. It must find exactly what the whole query finds.
/// </summary>
public sealed class SearchCommonWordsTests(SearchCommonWordsServer server) : IClassFixture<SearchCommonWordsServer>
{
    /// <summary>The texts found, in text order: the fake clock gives every message the same time, so hits come in id order.</summary>
    private static async Task<List<string>> FoundAsync(Caller caller, string q) =>
        [.. (await caller.GetAsync($"/livechat/search?q={Uri.EscapeDataString(q)}")).AssertStatus(HttpStatusCode.OK).Data.EnumerateArray()
            .Select(h => h.GetProperty("message").Text("message")).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task ACommonWordIsCheckedOnTheMessagesTheRareOnesFind()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        (await agent.PatchAsync("/livechat/agents/me", new { max_sessions = 20 })).AssertStatus(HttpStatusCode.OK);
        var session = await agent.StartSessionAsync();
        // "dan" in almost every message of this database, "kasir" in under 1 % of them.
        for (var i = 0; i < 300; i++) await agent.SendMessageAsync(session, $"dan filler {i}");
        await agent.SendMessageAsync(session, "kasir dan printer");
        await agent.SendMessageAsync(session, "kasir alone");
        await agent.SendMessageAsync(session, "dan kasirnya");
        await server.ExecuteSqlAsync("ANALYZE chat_messages");
        server.Clock.Advance(CommonWords.Refresh);

        // What the search decides from, as it reads it: "dan" is common, "kasir" is not.
        var common = await server.Services.GetRequiredService<Database>().ReadAsync(
            connection => new CommonWords(TimeProvider.System).OfAsync(connection, CancellationToken.None), CancellationToken.None);
        Assert.Contains("dan", common);
        Assert.DoesNotContain("kasir", common);

        Assert.Equal(["dan kasirnya", "kasir dan printer"], await FoundAsync(agent, "dan kasir"));
        Assert.Equal(["kasir dan printer"], await FoundAsync(agent, "kasir dan print"));
        Assert.Empty(await FoundAsync(agent, "dan alone"));
        Assert.Equal(["kasir alone"], await FoundAsync(agent, "kasir alone"));
        // Another tenant's messages with both words stay out.
        var other = server.Agent(await server.NewTenantAsync());
        (await other.PatchAsync("/livechat/agents/me", new { max_sessions = 20 })).AssertStatus(HttpStatusCode.OK);
        await other.SendMessageAsync(await other.StartSessionAsync(), "dan kasir elsewhere");
        Assert.Equal(["dan kasirnya", "kasir dan printer"], await FoundAsync(agent, "dan kasir"));
        Assert.Equal(["dan kasir elsewhere"], await FoundAsync(other, "dan kasir"));
    }
}
