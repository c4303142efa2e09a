using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;

namespace Livechat.Tests.Infrastructure;

/// <summary>
/// Reads a Server-Sent Events stream the way a browser's EventSource does. Unnamed events (messages, with
/// their id) come from <see cref="NextAsync(int)"/>; named ones (<c>event: NAME</c>) from <see cref="NextNamedAsync"/>.
/// </summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage response;
    private readonly CancellationTokenSource stop = new();
    private readonly Channel<(string? Id, JsonElement Data)> events = Channel.CreateUnbounded<(string?, JsonElement)>();
    private readonly Channel<(string Name, string? Id, JsonElement Data)> named = Channel.CreateUnbounded<(string, string?, JsonElement)>();
    private readonly Task reading;
    private int comments;

    private SseClient(HttpResponseMessage response)
    {
        this.response = response;
        reading = Task.Run(ReadAsync);
    }

    public HttpResponseMessage Response => response;

    public int Comments => Volatile.Read(ref comments);

    public static Task<SseClient> OpenAsync(LivechatServer server, Caller caller, string sessionId, string? lastEventId = null) =>
        OpenPathAsync(server, caller, $"/livechat/sessions/{sessionId}/events", lastEventId);

    /// <summary>
    /// The caller's own stream, <c>GET /livechat/stream</c>, resuming after <paramref name="lastEventId"/> when given. It
    /// returns once the response started, that is once the stream's first byte was written: the stream is live.
    /// </summary>
    public static Task<SseClient> OpenUserStreamAsync(LivechatServer server, Caller caller, string? lastEventId = null) =>
        OpenPathAsync(server, caller, "/livechat/stream", lastEventId);

    public static async Task<SseClient> OpenPathAsync(LivechatServer server, Caller caller, string path, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        request.Headers.Add("X-Tenant-ID", caller.TenantId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new SseClient(response);
    }

    /// <summary>Whether the body of an open stream ends (keep-alives, then the end) within <paramref name="within"/>.</summary>
    public static async Task<bool> EndsWithinAsync(HttpResponseMessage response, TimeSpan within)
    {
        await using var body = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body);
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (await reader.ReadLineAsync(timeout.Token) is not null) { }
            return true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(stop.Token);
            using var reader = new StreamReader(stream);
            string? id = null;
            string? name = null;
            var data = new List<string>();
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Count > 0)
                    {
                        var json = JsonDocument.Parse(string.Join('\n', data)).RootElement.Clone();
                        if (name is null) events.Writer.TryWrite((id, json));
                        else named.Writer.TryWrite((name, id, json));
                    }
                    id = null;
                    name = null;
                    data.Clear();
                }
                else if (line.StartsWith(':')) Interlocked.Increment(ref comments);
                else if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Add(line[6..]);
            }
        }
        // InvalidOperationException: disposed before the reading task got to the body (a quick dispose on a busy machine).
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException or ArgumentException
            or InvalidOperationException) { }
        finally
        {
            events.Writer.TryComplete();
            named.Writer.TryComplete();
        }
    }

    public async Task<(string? Id, JsonElement Data)> NextAsync(int seconds = 10)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            return await events.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"No SSE event within {seconds} s.");
        }
    }

    /// <summary>The next named event (<c>event: NAME</c>), whatever its name, or a failure after <paramref name="seconds"/>.</summary>
    public async Task<(string Name, string? Id, JsonElement Data)> NextNamedAsync(int seconds = 10)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            return await named.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"No named SSE event within {seconds} s.");
        }
        catch (ChannelClosedException)
        {
            throw new Xunit.Sdk.XunitException("The SSE stream ended.");
        }
    }

    /// <summary>The next named event called <paramref name="name"/>, skipping others.</summary>
    public async Task<JsonElement> NextNamedAsync(string name, int seconds = 10)
    {
        while (true)
        {
            var next = await NextNamedAsync(seconds);
            if (next.Name == name) return next.Data;
        }
    }

    /// <summary>
    /// The named events up to the first one <paramref name="isControl"/> accepts, that one last, or a failure after
    /// <paramref name="seconds"/>. A stream's events arrive in the order of the service's log: once a control event
    /// caused after some action has arrived, whatever that action sent is among the events before it, so a test
    /// proves an event did not come by looking there, without waiting for time to pass.
    /// </summary>
    public async Task<List<(string Name, string? Id, JsonElement Data)>> NamedUntilAsync(Func<(string Name, string? Id, JsonElement Data), bool> isControl,
        int seconds = 10)
    {
        var list = new List<(string, string?, JsonElement)>();
        while (true)
        {
            var next = await NextNamedAsync(seconds);
            list.Add(next);
            if (isControl(next)) return list;
        }
    }

    /// <summary>The named events received so far and not yet read.</summary>
    public List<(string Name, string? Id, JsonElement Data)> DrainNamed()
    {
        var list = new List<(string, string?, JsonElement)>();
        while (named.Reader.TryRead(out var item)) list.Add(item);
        return list;
    }

    public List<(string? Id, JsonElement Data)> Drain()
    {
        var list = new List<(string?, JsonElement)>();
        while (events.Reader.TryRead(out var item)) list.Add(item);
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        // The reader stops on the token first; only then does the response go. Disposed under a read in flight,
        // the connection's chunked stream could throw a NullReferenceException from inside HttpClient.
        await stop.CancelAsync();
        try { await reading; } catch (OperationCanceledException) { }
        response.Dispose();
        stop.Dispose();
    }
}
