using System.Globalization;
using Livechat.Data;

namespace Livechat.Tests;

/// <summary>
/// SQLite keeps times as text, and pages, cursors and "newest first" compare that text: its form must not
/// drift from the one every stored row already has, and text order must stay time order.
/// </summary>
public sealed class SqliteTimestampTests
{
    public static TheoryData<string> Times => new()
    {
        "2026-11-29T08:08:22.1234567+00:00",
        "2026-11-29T08:08:22.0000009+00:00", // the seventh digit is cut, never rounded up
        "2026-11-29T08:08:22.9999999+00:00",
        "1999-12-31T23:59:59.0000000+00:00",
        "2027-01-01T01:30:00.5000000+05:30", // an offset is turned into UTC
        "0001-01-01T00:00:00.0000000+00:00",
        "9999-12-31T23:59:59.9999999+00:00",
    };

    [Theory]
    [MemberData(nameof(Times))]
    public void ATimeIsStoredInTheFormEveryRowHas(string time)
    {
        var value = DateTimeOffset.Parse(time, CultureInfo.InvariantCulture);
        Assert.Equal(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture), DbCommandExtensions.SqliteTimestamp(value));
    }

    [Fact]
    public void TextOrderIsTimeOrder()
    {
        var random = new Random(20261129);
        var times = Enumerable.Range(0, 2_000)
            .Select(_ => new DateTimeOffset(random.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks) / 10 * 10, TimeSpan.Zero)).ToList();
        Assert.Equal(times.Order(), times.OrderBy(t => DbCommandExtensions.SqliteTimestamp(t), StringComparer.Ordinal));
    }
}
