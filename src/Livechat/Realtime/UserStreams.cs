using System.Threading.Channels;
using Livechat.Api;

namespace Livechat.Realtime;

/// <summary>
/// The per-user event streams (<c>GET /livechat/stream</c>) open on this instance, by tenant. Each event names its
/// audience (<see cref="BusEvent.IsFor"/>), so delivering it is a walk over the tenant's open streams, with no
/// query. A stream that cannot keep up is closed: its client reconnects with <c>Last-Event-ID</c> and resumes.
/// One lock guards the registry: a stream that opens while another of its tenant closes must never land in a set
/// that is being dropped (it would hear nothing).
/// </summary>
public sealed class UserStreams
{
    private const int BufferPerStream = 1024;
    private readonly Lock sync = new();
    private readonly Dictionary<long, HashSet<Subscription>> byTenant = [];

    /// <summary>Called by <see cref="LocalDelivery.OpenUserStream"/>, which knows what the stream got before it.</summary>
    internal Subscription Subscribe(CurrentUser user)
    {
        var subscription = new Subscription(this, user, Channel.CreateBounded<BusEvent>(
            new BoundedChannelOptions(BufferPerStream) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait }));
        lock (sync)
        {
            if (!byTenant.TryGetValue(user.TenantId, out var set)) byTenant[user.TenantId] = set = [];
            set.Add(subscription);
        }
        return subscription;
    }

    public void Publish(BusEvent busEvent)
    {
        lock (sync)
        {
            if (!byTenant.TryGetValue(busEvent.TenantId, out var set)) return;
            foreach (var stream in set)
            {
                if (!busEvent.IsFor(stream.User.UserId, stream.User.IsAgent)) continue;
                if (!stream.Channel.Writer.TryWrite(busEvent)) stream.Channel.Writer.TryComplete(new ChannelClosedException("The stream fell behind."));
            }
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (sync)
        {
            if (byTenant.TryGetValue(subscription.User.TenantId, out var set) && set.Remove(subscription) && set.Count == 0)
                byTenant.Remove(subscription.User.TenantId);
        }
    }

    public sealed class Subscription(UserStreams owner, CurrentUser user, Channel<BusEvent> channel) : IDisposable
    {
        public CurrentUser User { get; } = user;

        internal Channel<BusEvent> Channel { get; } = channel;

        public ChannelReader<BusEvent> Reader => Channel.Reader;

        public void Dispose() => owner.Remove(this);
    }
}
