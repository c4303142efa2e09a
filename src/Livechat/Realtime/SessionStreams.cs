using Livechat.Messages;
using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Livechat.Realtime;

/// <summary>
/// In-process fan-out of new messages to the SSE streams of this instance, keyed by tenant and session.
/// A stream that cannot keep up is completed rather than allowed to grow without bound: its client
/// reconnects with <c>Last-Event-ID</c> and catches up from the database, so nothing is lost.
/// </summary>
public sealed class SessionStreams
{
    private const int BufferPerStream = 1024;
    private readonly ConcurrentDictionary<(long Tenant, Guid Session), ConcurrentDictionary<Channel<MessageCreated>, byte>> streams = new();

    public int Count => streams.Values.Sum(s => s.Count);

    public Subscription Subscribe(long tenantId, Guid sessionId)
    {
        var channel = Channel.CreateBounded<MessageCreated>(new BoundedChannelOptions(BufferPerStream) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var set = streams.GetOrAdd((tenantId, sessionId), _ => new());
        set[channel] = 0;
        return new Subscription(this, (tenantId, sessionId), channel);
    }

    public void Publish(MessageCreated created)
    {
        if (!streams.TryGetValue((created.TenantId, created.Message.SessionId), out var set)) return;
        foreach (var channel in set.Keys)
        {
            if (!channel.Writer.TryWrite(created)) channel.Writer.TryComplete(new ChannelClosedException("The stream fell behind."));
        }
    }

    public sealed class Subscription(SessionStreams owner, (long, Guid) key, Channel<MessageCreated> channel) : IDisposable
    {
        public ChannelReader<MessageCreated> Reader => channel.Reader;

        public void Dispose()
        {
            if (owner.streams.TryGetValue(key, out var set))
            {
                set.TryRemove(channel, out _);
                if (set.IsEmpty) owner.streams.TryRemove(new KeyValuePair<(long, Guid), ConcurrentDictionary<Channel<MessageCreated>, byte>>(key, set));
            }
        }
    }
}
