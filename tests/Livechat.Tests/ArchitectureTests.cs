using Livechat.Tests.Infrastructure;
using Livechat.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
        "Livechat.Routing", "Livechat.Tickets", "Livechat.Tenants", "Livechat.Webhooks", "Livechat.WebConsole", "Livechat.Canned", "Livechat.Labels", "Livechat.Search", "Livechat.Attachments",
        "Livechat.Reports", "Livechat.Transcripts", "Livechat.Privacy",
    ];

    private static Types Service => Types.InAssembly(typeof(global::Program).Assembly);

    private static void AssertNone(string folder, IEnumerable<string> forbidden)
    {
        // One namespace at a time, so a failure says which folder was reached.
        var reached = forbidden
            .Select(other => (other, result: Service.That().ResideInNamespace(folder).ShouldNot().HaveDependencyOn(other).GetResult()))
            .Where(check => !check.result.IsSuccessful)
            .Select(check => $"{check.other} (from {string.Join(", ", check.result.FailingTypeNames ?? [])})")
            .ToList();
        Assert.True(reached.Count == 0, $"{folder} depends on what it must not: {string.Join("; ", reached)}");
    }

    /// <summary>
    /// The folders in layers, lowest first (ADR 0031): a folder may depend on the layers below its own, never on its own
    /// layer's other folders or on a layer above. So there is no cycle, and features of one layer meet through events.
    /// </summary>
    private static readonly string[][] Layers =
    [
        ["Data"],
        ["Changes"],
        ["Api"],
        ["Tenants"],
        ["Auth"],
        ["Agents"],
        ["Messages"],
        ["Sessions"],
        ["Reading", "Tickets", "Routing", "Notifications", "Webhooks", "Attachments", "Canned", "Labels", "Search", "Reports", "Transcripts"],
        ["Realtime", "WebConsole", "Privacy"],
    ];

    [Fact]
    public void EachFolderDependsOnlyOnTheLayersBelowIt()
    {
        var folders = Directory.GetDirectories(Path.Combine(Repository.Root, "src", "Livechat"))
            .Select(f => Path.GetFileName(f)!).Where(f => f is not ("bin" or "obj" or "wwwroot" or "Properties")).Order().ToList();
        Assert.Equal(folders, Layers.SelectMany(layer => layer).Order().ToList()); // a new folder takes its place in a layer
        for (var i = 0; i < Layers.Length; i++)
        {
            foreach (var folder in Layers[i])
                AssertNone($"Livechat.{folder}", Layers.Skip(i).SelectMany(layer => layer).Where(f => f != folder).Select(f => $"Livechat.{f}"));
        }
    }

    /// <summary>
    /// The same layers read from the source's <c>using</c> lines: a constant (SQL text) compiles into its user and leaves
    /// no trace in the assembly for the check above, but its folder still depends on the one it names.
    /// </summary>
    [Fact]
    public void NoFolderNamesALayerAboveOrBesideIt()
    {
        var root = Path.Combine(Repository.Root, "src", "Livechat");
        var wrong = new List<string>();
        for (var i = 0; i < Layers.Length; i++)
        {
            foreach (var folder in Layers[i])
            {
                var forbidden = Layers.Skip(i).SelectMany(layer => layer).Where(f => f != folder).ToHashSet();
                foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
                {
                    foreach (System.Text.RegularExpressions.Match used in System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(file), @"^using Livechat\.(\w+);", System.Text.RegularExpressions.RegexOptions.Multiline))
                    {
                        if (forbidden.Contains(used.Groups[1].Value)) wrong.Add($"{Path.GetRelativePath(root, file)} uses Livechat.{used.Groups[1].Value}");
                    }
                }
            }
        }
        Assert.True(wrong.Count == 0, string.Join("; ", wrong));
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

    [Fact]
    public void EveryShapeOnTheWireHasCompileTimeMetadataFromItsFeature()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddLivechatCore(new ConfigurationBuilder().Build());
        services.AddWebhooks();
        using var provider = services.BuildServiceProvider();
        var wire = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        Type[] shapes =
        [
            typeof(Livechat.Api.ApiResponse<object>), typeof(Livechat.Api.ApiResponse<Livechat.Messages.ChatMessage>),
            typeof(Livechat.Api.ApiResponse<IReadOnlyList<Livechat.Sessions.ChatSession>>), typeof(Livechat.Api.ApiResponse<Livechat.Agents.Agent>),
            typeof(Livechat.Api.ApiResponse<IReadOnlyList<Livechat.Tickets.Ticket>>), typeof(Livechat.Api.ApiResponse<Livechat.Notifications.Notification>),
            typeof(Livechat.Api.ApiResponse<Livechat.Reading.ReadState>), typeof(Livechat.Reading.MessagesReadPayload),
            typeof(Livechat.Realtime.TypingPayload), typeof(Livechat.Realtime.BusEvent), typeof(Livechat.Api.ApiResponse<Livechat.Webhooks.Webhook>),
            typeof(Livechat.Api.ApiResponse<Livechat.WebConsole.DevToken>),
            typeof(Livechat.Api.ApiResponse<IReadOnlyList<Livechat.Canned.CannedResponse>>), typeof(Livechat.Api.ApiResponse<Livechat.Agents.KnownUser>),
            typeof(Livechat.Api.ApiResponse<IReadOnlyList<Livechat.Reading.ReadState>>),
            typeof(Livechat.Api.ApiResponse<Livechat.Sessions.Rating>), typeof(Livechat.Api.ApiResponse<IReadOnlyList<Livechat.Labels.TenantLabel>>), typeof(Livechat.Api.ApiResponse<IReadOnlyList<Livechat.Search.SearchHit>>),
            typeof(Livechat.Api.ApiResponse<Livechat.Reports.ReportFigures>), typeof(Livechat.Api.ApiResponse<IReadOnlyList<Livechat.Reports.AgentFigures>>),
            typeof(Livechat.Api.ApiResponse<IReadOnlyList<Livechat.Reports.DailyFigures>>),
            typeof(Livechat.Api.ApiResponse<Livechat.Transcripts.Transcript>), typeof(Livechat.Transcripts.TranscriptMessage), typeof(Livechat.Api.Meta),
            typeof(Livechat.Sessions.ChatSession),
            typeof(Livechat.Api.ApiResponse<Livechat.Privacy.TenantSettings>), typeof(Livechat.Api.ApiResponse<Livechat.Privacy.ErasureAccepted>),
            typeof(Livechat.Api.ApiResponse<Livechat.Privacy.ErasureJob>), typeof(Livechat.Api.ApiResponse<IReadOnlyList<Livechat.Privacy.AuditEntry>>),
        ];
        // The framework's reflection-based resolver ends the chain: a shape it answers for has no generated metadata.
        foreach (var shape in shapes)
            Assert.True(wire.GetTypeInfo(shape).OriginatingResolver is System.Text.Json.Serialization.JsonSerializerContext, $"{shape} is resolved by reflection.");
    }
}
