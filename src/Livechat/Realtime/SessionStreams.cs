using System.Threading.Channels;

namespace Livechat.Realtime;

/// <summary>
/// In-process fan-out of a session's events (messages, read markers, typing) to the SSE streams of this
/// instance, keyed by tenant and session. A stream that cannot keep up is completed rather than allowed to
/// grow without bound: its client reconnects with <c>Last-Event-ID</c> and catches up from the database.
/// One lock guards the registry: a stream that opens while the last other stream of its session closes must
/// never land in a set that is being dropped (it would hear nothing).
/// </summary>
public sealed class SessionStreams
{
    private const int BufferPerStream = 1024;
    private readonly Lock sync = new();
    private readonly Dictionary<(long Tenant, Guid Session), HashSet<Channel<BusEvent>>> streams = [];

    public int Count
    {
        get
        {
            lock (sync) return streams.Values.Sum(s => s.Count);
        }
    }

    public Subscription Subscribe(long tenantId, Guid sessionId)
    {
        var channel = Channel.CreateBounded<BusEvent>(new BoundedChannelOptions(BufferPerStream) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        lock (sync)
        {
            if (!streams.TryGetValue((tenantId, sessionId), out var set)) streams[(tenantId, sessionId)] = set = [];
            set.Add(channel);
        }
        return new Subscription(this, (tenantId, sessionId), channel);
    }

    public void Publish(BusEvent busEvent)
    {
        if (busEvent.SessionId is not { } sessionId || !busEvent.IsSessionStreamEvent) return;
        lock (sync)
        {
            if (!streams.TryGetValue((busEvent.TenantId, sessionId), out var set)) return;
            foreach (var channel in set)
            {
                if (!channel.Writer.TryWrite(busEvent)) channel.Writer.TryComplete(new ChannelClosedException("The stream fell behind."));
            }
        }
    }

    private void Remove((long, Guid) key, Channel<BusEvent> channel)
    {
        lock (sync)
        {
            if (streams.TryGetValue(key, out var set) && set.Remove(channel) && set.Count == 0) streams.Remove(key);
        }
    }

    public sealed class Subscription(SessionStreams owner, (long, Guid) key, Channel<BusEvent> channel) : IDisposable
    {
        public ChannelReader<BusEvent> Reader => channel.Reader;

        public void Dispose() => owner.Remove(key, channel);
    }
}
