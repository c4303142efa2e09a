namespace Livechat.Webhooks;

/// <summary>
/// Contract section 13: retries after about 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, then every
/// 8 h until three days have passed, each with ±20 % jitter so that a receiver coming back is not hit by every
/// queued delivery in the same second. The whole schedule scales with the first delay.
/// </summary>
public sealed class RetrySchedule(int firstRetryMilliseconds)
{
    private static readonly TimeSpan[] Steps =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(8),
    ];

    private static readonly TimeSpan Window = TimeSpan.FromDays(3);

    /// <summary>
    /// Attempts in all: the first, the nine steps, then one every 8 h until the retries span three days
    /// (5 s + ... + 8 h is 15.7 h; eight more 8 h retries reach 79.7 h): 18.
    /// </summary>
    public static readonly int MaxAttempts = CountAttempts();

    private readonly double scale = firstRetryMilliseconds / Steps[0].TotalMilliseconds;

    /// <summary>The delay before attempt <paramref name="attemptsMade"/> + 1, or null when the delivery has had its last attempt.</summary>
    public TimeSpan? Next(int attemptsMade, TimeSpan? retryAfter)
    {
        if (attemptsMade >= MaxAttempts) return null;
        var step = Steps[Math.Min(attemptsMade - 1, Steps.Length - 1)];
        var jitter = 0.8 + Random.Shared.NextDouble() * 0.4;
        var delay = TimeSpan.FromMilliseconds(step.TotalMilliseconds * scale * jitter);
        // The receiver knows best when it can take more, within reason: never past the last 8 h step.
        if (retryAfter is { } asked && asked > delay) delay = asked < Steps[^1] ? asked : Steps[^1];
        return delay;
    }

    private static int CountAttempts()
    {
        var elapsed = TimeSpan.Zero;
        var attempts = 1;
        while (elapsed < Window)
        {
            elapsed += Steps[Math.Min(attempts - 1, Steps.Length - 1)];
            attempts++;
        }
        return attempts;
    }
}
