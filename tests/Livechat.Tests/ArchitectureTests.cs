using NetArchTest.Rules;

namespace Livechat.Tests;

/// <summary>
/// The allowed dependencies between the service's folders (DESIGN.md, ADR 0025): the write path and the storage know
/// no feature; features reach realtime only by declaring their events. Each rule lists what it forbids, so a
/// violation names the folder it reached.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly string[] Features =
    [
        "Livechat.Agents", "Livechat.Sessions", "Livechat.Messages", "Livechat.Notifications", "Livechat.Reading",
        "Livechat.Routing", "Livechat.Tickets", "Livechat.Tenants", "Livechat.Webhooks", "Livechat.WebConsole", "Livechat.Attachments",
    ];

    private static Types Service => Types.InAssembly(typeof(global::Program).Assembly);

    private static void AssertNone(string folder, IEnumerable<string> forbidden)
    {
        var result = Service.That().ResideInNamespace(folder).ShouldNot().HaveDependencyOnAny([.. forbidden]).GetResult();
        Assert.True(result.IsSuccessful, $"{folder} depends on what it must not: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void TheWritePathKnowsNoFeatureNorTheApiNorRealtime() =>
        AssertNone("Livechat.Changes", [.. Features, "Livechat.Api", "Livechat.Auth", "Livechat.Realtime"]);

    [Fact]
    public void StorageKnowsNoFeatureNorTheApiNorRealtime() =>
        AssertNone("Livechat.Data", [.. Features, "Livechat.Api", "Livechat.Auth", "Livechat.Realtime"]);

    [Fact]
    public void WebhooksKnowNoOtherFeatureOnlyWhatEventsDeclare() =>
        AssertNone("Livechat.Webhooks", Features.Where(f => f != "Livechat.Webhooks").Append("Livechat.Realtime"));

    [Fact]
    public void FeaturesReachRealtimeOnlyThroughTheirEventsDeclarations()
    {
        foreach (var feature in Features) AssertNone(feature, ["Livechat.Realtime"]);
    }
}
