using Livechat.Changes;

namespace Livechat.Realtime;

/// <summary>
/// Typing indicators (contract section 11), held in memory by the instance that received the call and never
/// stored: at most one <c>is_typing: true</c> per user and session is forwarded per <see cref="Throttle"/>
/// (extra ones only refresh it), and the server itself sends <c>false</c> <see cref="Expiry"/> after the last
/// refresh, or as soon as the typist's message goes out. The clock is injected under <see cref="ClockKey"/>,
/// so tests drive the throttle and the expiry with a fake one. A hub connection stays on one instance, so its
/// throttle is exact; HTTP calls spread over instances are throttled per instance.
/// </summary>
public sealed class TypingIndicators : IDisposable
{
    private readonly RealtimePublisher publisher;
    private readonly LocalDelivery delivery;
    private readonly TimeProvider time;

    public TypingIndicators(RealtimePublisher publisher, LocalDelivery delivery, [FromKeyedServices(ClockKey)] TimeProvider time)
    {
        this.publisher = publisher;
        this.delivery = delivery;
        this.time = time;
        // Every instance hears of every message: the one holding the typist's indicator ends it.
        delivery.MessageDelivered += MessageSent;
    }

    public const string ClockKey = "typing";

    /// <summary>Why typing in a CLOSED session is refused (contract section 11, v1.2), over HTTP and on the hub alike.</summary>
    public const string ClosedSession = "The session is closed: nobody types in it.";
    public static readonly TimeSpan Throttle = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(6);

    // One lock for the instance's indicators: each step is a few dictionary operations, and it keeps the
    // true/false pushes of one indicator in order.
    private readonly Lock gate = new();
    private readonly Dictionary<(long Tenant, Guid Session, long User), Indicator> typing = new();

    private sealed class Indicator(ITimer timer)
    {
        public ITimer Timer { get; } = timer;
        public DateTimeOffset ForwardedAt { get; set; }
        public DateTimeOffset ExpiresAt { get; set; }
    }

    public void Report(long tenantId, Guid sessionId, long userId, bool isTyping)
    {
        var key = (tenantId, sessionId, userId);
        lock (gate)
        {
            if (!isTyping)
            {
                // Forwarded even without an indicator here: the true may have gone through another instance.
                if (typing.Remove(key, out var ended)) ended.Timer.Dispose();
                Publish(key, false);
                return;
            }
            var now = time.GetUtcNow();
            if (typing.TryGetValue(key, out var indicator))
            {
                indicator.ExpiresAt = now + Expiry;
                indicator.Timer.Change(Expiry, Timeout.InfiniteTimeSpan);
                if (now - indicator.ForwardedAt < Throttle) return; // dropped quietly: the others already know
                indicator.ForwardedAt = now;
                Publish(key, true);
                return;
            }
            typing[key] = new Indicator(time.CreateTimer(Expire, key, Expiry, Timeout.InfiniteTimeSpan)) { ForwardedAt = now, ExpiresAt = now + Expiry };
            Publish(key, true);
        }
    }

    /// <summary>A message of the typist ends its indicator (every instance hears of every message).</summary>
    public void MessageSent(long tenantId, Guid sessionId, long senderId)
    {
        var key = (tenantId, sessionId, senderId);
        lock (gate)
        {
            if (!typing.Remove(key, out var ended)) return;
            ended.Timer.Dispose();
            Publish(key, false);
        }
    }

    private void Expire(object? state)
    {
        var key = ((long, Guid, long))state!;
        lock (gate)
        {
            if (!typing.TryGetValue(key, out var indicator)) return;
            // A refresh may have raced the timer's firing, and a timer may fire a little before the clock says its
            // deadline passed (timers and the wall clock are different clocks): then it is armed again for what is
            // left, never dropped, or the indicator would stay on for good.
            var left = indicator.ExpiresAt - time.GetUtcNow();
            if (left > TimeSpan.Zero)
            {
                indicator.Timer.Change(left, Timeout.InfiniteTimeSpan);
                return;
            }
            typing.Remove(key);
            indicator.Timer.Dispose();
            Publish(key, false);
        }
    }

    private void Publish((long Tenant, Guid Session, long User) key, bool isTyping) =>
        publisher.Publish(new TypingChanged(key.Tenant, new TypingPayload(key.Session, key.User, isTyping)));

    public void Dispose()
    {
        delivery.MessageDelivered -= MessageSent;
        lock (gate)
        {
            foreach (var indicator in typing.Values) indicator.Timer.Dispose();
            typing.Clear();
        }
    }
}

/// <summary>The payload of <c>typing</c>. Never stored, never replayed.</summary>
public sealed record TypingPayload(Guid SessionId, long UserId, bool IsTyping);

/// <summary>A typing indicator changed. Never stored, never replayed: it goes straight to the publisher, not through the write path.</summary>
public sealed record TypingChanged(long TenantId, TypingPayload Typing) : DomainEvent(TenantId), IPushedEvent
{
    public static string Name => "typing";

    /// <summary>Never to the typist's own connections, never replayed.</summary>
    public Push Push => new(Name, Typing, Hearers.Session) { SessionId = Typing.SessionId, Actor = Typing.UserId, ExcludeActor = true, Replayable = false };
}
