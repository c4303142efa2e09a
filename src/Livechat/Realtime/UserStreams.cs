using System.Collections.Concurrent;
using System.Threading.Channels;
using Livechat.Auth;

namespace Livechat.Realtime;

/// <summary>
/// The per-user event streams (<c>GET /livechat/stream</c>) open on this instance, by tenant. Each event on
/// the bus names its audience (<see cref="BusEvent.IsFor"/>), so delivering it is a walk over the tenant's
/// open streams, with no query. A stream that cannot keep up is closed: its client reconnects and refreshes
/// with the list endpoints (the stream is not replayable).
/// </summary>
public sealed class UserStreams
{
    private const int BufferPerStream = 1024;
    private readonly ConcurrentDictionary<long, ConcurrentDictionary<Subscription, byte>> byTenant = new();

    public Subscription Subscribe(CurrentUser user)
    {
        var subscription = new Subscription(this, user, Channel.CreateBounded<BusEvent>(
            new BoundedChannelOptions(BufferPerStream) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait }));
        byTenant.GetOrAdd(user.TenantId, _ => new())[subscription] = 0;
        return subscription;
    }

    public void Publish(BusEvent busEvent)
    {
        if (!byTenant.TryGetValue(busEvent.TenantId, out var set)) return;
        foreach (var stream in set.Keys)
        {
            if (!busEvent.IsFor(stream.User.UserId, stream.User.IsAgent)) continue;
            if (!stream.Channel.Writer.TryWrite(busEvent)) stream.Channel.Writer.TryComplete(new ChannelClosedException("The stream fell behind."));
        }
    }

    public sealed class Subscription(UserStreams owner, CurrentUser user, Channel<BusEvent> channel) : IDisposable
    {
        public CurrentUser User { get; } = user;

        internal Channel<BusEvent> Channel { get; } = channel;

        public ChannelReader<BusEvent> Reader => Channel.Reader;

        public void Dispose()
        {
            if (!owner.byTenant.TryGetValue(User.TenantId, out var set)) return;
            set.TryRemove(this, out _);
            if (set.IsEmpty) owner.byTenant.TryRemove(new KeyValuePair<long, ConcurrentDictionary<Subscription, byte>>(User.TenantId, set));
        }
    }
}
