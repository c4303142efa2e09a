using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Livechat.Realtime;

/// <summary>
/// The position of a replayable event in the deployment's one ordered log of events (contract section 12): the
/// per-user stream's <c>id:</c>. The form of a Redis stream entry id, <c>{milliseconds}-{sequence}</c>: with Redis
/// the log is a Redis stream and Redis assigns it; on one instance without Redis the instance does, the same way.
/// </summary>
public readonly record struct EventId(long Milliseconds, long Sequence) : IComparable<EventId>
{
    public int CompareTo(EventId other) =>
        Milliseconds != other.Milliseconds ? Milliseconds.CompareTo(other.Milliseconds) : Sequence.CompareTo(other.Sequence);

    public static bool operator <(EventId left, EventId right) => left.CompareTo(right) < 0;
    public static bool operator >(EventId left, EventId right) => left.CompareTo(right) > 0;
    public static bool operator <=(EventId left, EventId right) => left.CompareTo(right) <= 0;
    public static bool operator >=(EventId left, EventId right) => left.CompareTo(right) >= 0;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Milliseconds}-{Sequence}");

    /// <summary>Strictly <c>digits-digits</c>: anything else (a message id, garbage) is no event id.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out EventId id)
    {
        id = default;
        if (text is null || text.Length > 41) return false;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || dash == text.Length - 1) return false;
        if (!long.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || !long.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq)) return false;
        id = new EventId(ms, seq);
        return true;
    }

    /// <summary>The next id after <paramref name="last"/> at <paramref name="nowMilliseconds"/>, as Redis makes them: never backwards.</summary>
    public static EventId Next(EventId? last, long nowMilliseconds) =>
        last is { } previous && nowMilliseconds <= previous.Milliseconds
            ? new EventId(previous.Milliseconds, previous.Sequence + 1)
            : new EventId(nowMilliseconds, 0);
}

/// <summary>
/// The replayable events this instance delivered most recently, in log order: at most
/// <see cref="RealtimeOptions.ReplayMaxEvents"/>, none older than <see cref="RealtimeOptions.ReplayMinutes"/>.
/// Without Redis it is the log itself (what a per-user stream resumes from); with Redis the log is the Redis stream,
/// and this keeps what a hub connection that is being opened may have missed. Not thread-safe: its owner
/// (<see cref="LocalDelivery"/>) holds its lock.
/// <para>
/// Each event is kept as its JSON, appended to large buffers that are reused once every event in them is gone, and
/// found through a ring of plain structs: a hundred thousand events held as objects made the garbage collector
/// trace and move them all, and cost the SQLite send rate about a tenth (<c>Livechat.Bench builds</c>, against the
/// same build holding a thousand). Reading one back (a resume, a hub connection's missed events) parses it again.
/// </para>
/// </summary>
public sealed class RecentEvents(int capacity, TimeSpan window, TimeProvider time) : IDisposable
{
    private const int BufferSize = 1 << 20;

    private readonly record struct Entry(EventId Id, long Arrived, long Start, int Length);

    private sealed class Buffer(long start, byte[] bytes)
    {
        public long Start { get; } = start; // the position of its first byte among all bytes ever appended
        public byte[] Bytes { get; } = bytes;
        public long End => Start + Bytes.Length;
    }

    private readonly Entry[] ring = new Entry[capacity];
    private int head; // index of the oldest entry
    private int count;
    private readonly List<Buffer> buffers = [];
    private readonly Stack<byte[]> spare = new();
    private long appended; // bytes appended so far, the position of the next one
    private readonly System.Buffers.ArrayBufferWriter<byte> scratch = new(4096);
    private System.Text.Json.Utf8JsonWriter? writer;

    public EventId? Newest => count == 0 ? null : ring[(head + count - 1) % ring.Length].Id;

    public void Append(EventId id, BusEvent busEvent)
    {
        scratch.ResetWrittenCount();
        if (writer is null) writer = new System.Text.Json.Utf8JsonWriter(scratch);
        else writer.Reset(scratch);
        System.Text.Json.JsonSerializer.Serialize(writer, busEvent, RealtimeJson.Default.BusEvent);
        var json = scratch.WrittenSpan;

        if (count == ring.Length) DropOldest();
        var buffer = buffers.Count > 0 ? buffers[^1] : null;
        if (buffer is null || appended + json.Length > buffer.End)
        {
            // The rest of the full buffer stays unused: positions go on from its end, so buffers never overlap.
            if (buffer is not null) appended = buffer.End;
            var size = Math.Max(BufferSize, json.Length);
            var bytes = size == BufferSize && spare.TryPop(out var reused) ? reused : new byte[size];
            buffer = new Buffer(appended, bytes);
            buffers.Add(buffer);
        }
        json.CopyTo(buffer.Bytes.AsSpan((int)(appended - buffer.Start)));
        ring[(head + count) % ring.Length] = new Entry(id, time.GetUtcNow().ToUnixTimeMilliseconds(), appended, json.Length);
        appended += json.Length;
        count++;
        Forget();
    }

    /// <summary>Whether <paramref name="id"/> is an event still held: a resume from it is exact.</summary>
    public bool Holds(EventId id)
    {
        Forget();
        return IndexOf(id) >= 0;
    }

    /// <summary>The events after <paramref name="after"/> (all that are held when null) up to <paramref name="upTo"/>, in order.</summary>
    public List<(EventId Id, BusEvent Event)> Between(EventId? after, EventId upTo)
    {
        var found = new List<(EventId, BusEvent)>();
        for (var i = 0; i < count; i++)
        {
            var entry = ring[(head + i) % ring.Length];
            if (entry.Id > upTo) break;
            if ((after is null || entry.Id > after.Value) && Read(entry) is { } busEvent) found.Add((entry.Id, busEvent with { Id = entry.Id }));
        }
        return found;
    }

    private BusEvent? Read(Entry entry)
    {
        var buffer = buffers.First(b => b.Start <= entry.Start && entry.Start < b.End);
        return System.Text.Json.JsonSerializer.Deserialize<BusEvent>(buffer.Bytes.AsSpan((int)(entry.Start - buffer.Start), entry.Length), RealtimeJson.Default.BusEvent);
    }

    private int IndexOf(EventId id)
    {
        int low = 0, high = count - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            var compared = ring[(head + middle) % ring.Length].Id.CompareTo(id);
            if (compared == 0) return middle;
            if (compared < 0) low = middle + 1;
            else high = middle - 1;
        }
        return -1;
    }

    /// <summary>
    /// Drops entries that arrived longer ago than the window, so neither memory nor a resume reaches further back
    /// (by this instance's clock: with Redis the ids carry Redis' time).
    /// </summary>
    private void Forget()
    {
        var oldest = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)window.TotalMilliseconds;
        while (count > 0 && ring[head].Arrived < oldest) DropOldest();
    }

    private void DropOldest()
    {
        ring[head] = default;
        head = (head + 1) % ring.Length;
        count--;
        // A buffer that no held event reaches any more (the last one stays: it is being filled) is kept for reuse.
        var firstHeld = count > 0 ? ring[head].Start : appended;
        while (buffers.Count > 1 && buffers[0].End <= firstHeld)
        {
            if (buffers[0].Bytes.Length == BufferSize && spare.Count < 4) spare.Push(buffers[0].Bytes);
            buffers.RemoveAt(0);
        }
    }

    public void Dispose() => writer?.Dispose();
}
