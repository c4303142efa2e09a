using System.Text.Json;

namespace Livechat.Tests;

/// <summary>
/// The runtime settings the built service starts with (its <c>Livechat.runtimeconfig.json</c>, which <c>dotnet run</c>,
/// <c>dotnet Livechat.dll</c> and a published build all read). What they buy is speed, measured by <c>bench/cold</c>
/// (docs/performance.md, ADR 0047, ADR 0051); this only keeps them from being lost.
/// </summary>
public sealed class RuntimeConfigTests
{
    /// <summary>The <c>configProperties</c> of the built service's runtimeconfig.</summary>
    private static JsonElement ConfigProperties()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Livechat.runtimeconfig.json")));
        return config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }

    [Fact]
    public void TheServicePromotesAMethodAfterTwoHundredCalls()
    {
        var properties = ConfigProperties();

        Assert.Equal(200, properties.GetProperty("System.Runtime.TieredCompilation.CallCountThreshold").GetInt32());
        // Dynamic PGO stays the runtime's default (ADR 0036: off, it cost the warm send rate 12 to 30 %).
        Assert.False(properties.TryGetProperty("System.Runtime.TieredPGO", out _));
    }

    [Fact]
    public void AnIdleThreadPoolWorkerBlocksWithoutSpinning()
    {
        // ADR 0051: the spin cost the PostgreSQL send's service a seventh of its CPU.
        Assert.Equal(0, ConfigProperties().GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }
}
