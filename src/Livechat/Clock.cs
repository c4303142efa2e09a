namespace Livechat;

public static class Clock
{
    /// <summary>Now, cut to whole microseconds: the precision both databases store, so what we return equals what we read back.</summary>
    public static DateTimeOffset Now(this TimeProvider time)
    {
        var ticks = time.GetUtcNow().UtcTicks;
        return new DateTimeOffset(ticks - ticks % 10, TimeSpan.Zero);
    }
}
