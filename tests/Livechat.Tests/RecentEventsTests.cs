using System.Text.Json;
using Livechat.Realtime;
using Microsoft.Extensions.Time.Testing;

namespace Livechat.Tests;

/// <summary>
/// The in-memory log of events (<see cref="RecentEvents"/>) across its buffers: what a resume and a hub connection's
/// missed events read back must be exactly what went in, however often the ring and its buffers wrapped.
/// </summary>
public sealed class RecentEventsTests
{
    private static BusEvent Event(int n) =>
        new("messageCreated", 1, Guid.Empty, JsonDocument.Parse($$"""{"n":{{n}},"text":"{{new string('x', 300 + n % 200)}}"}""").RootElement.Clone())
        { Users = [n] };

    [Fact]
    public void EventsReadBackAfterTheRingAndItsBuffersWrappedAreExactlyTheOnesHeld()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var recent = new RecentEvents(1_000, TimeSpan.FromMinutes(10), clock);
        EventId? last = null;
        var ids = new List<EventId>();
        for (var n = 0; n < 12_000; n++) // about 5 MB of events: the 1 MiB buffers fill, go and come back many times
        {
            last = EventId.Next(last, clock.GetUtcNow().ToUnixTimeMilliseconds());
            ids.Add(last.Value);
            recent.Append(last.Value, Event(n));
        }

        Assert.False(recent.Holds(ids[10_999])); // beyond the last thousand
        Assert.True(recent.Holds(ids[11_000]));
        var between = recent.Between(ids[11_000], ids[11_500]);
        Assert.Equal(Enumerable.Range(11_001, 500), between.Select(e => e.Event.Data.GetProperty("n").GetInt32()));
        Assert.Equal(ids[11_001..11_501], between.Select(e => e.Id));
        Assert.All(between, e => Assert.Equal(e.Id, e.Event.Id));
        Assert.Equal([11_001], between[0].Event.Users);
    }

    [Fact]
    public void EventsOlderThanTheWindowAreNoLongerHeld()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var recent = new RecentEvents(1_000, TimeSpan.FromMinutes(10), clock);
        var first = EventId.Next(null, clock.GetUtcNow().ToUnixTimeMilliseconds());
        recent.Append(first, Event(1));
        clock.Advance(TimeSpan.FromMinutes(9));
        var second = EventId.Next(first, clock.GetUtcNow().ToUnixTimeMilliseconds());
        recent.Append(second, Event(2));
        Assert.True(recent.Holds(first));
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.False(recent.Holds(first));
        Assert.True(recent.Holds(second));
        Assert.Equal([2], recent.Between(null, second).Select(e => e.Event.Data.GetProperty("n").GetInt32()));
    }
}
