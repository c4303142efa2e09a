using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;

namespace Livechat.Tests.Infrastructure;

/// <summary>Reads a Server-Sent Events stream the way a browser's EventSource does.</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage response;
    private readonly CancellationTokenSource stop = new();
    private readonly Channel<(string? Id, JsonElement Data)> events = Channel.CreateUnbounded<(string?, JsonElement)>();
    private readonly Task reading;
    private int comments;

    private SseClient(HttpResponseMessage response)
    {
        this.response = response;
        reading = Task.Run(ReadAsync);
    }

    public HttpResponseMessage Response => response;

    public int Comments => Volatile.Read(ref comments);

    public static async Task<SseClient> OpenAsync(LivechatServer server, Caller caller, string sessionId, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/livechat/sessions/{sessionId}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.Token);
        request.Headers.Add("X-Tenant-ID", caller.TenantId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new SseClient(response);
    }

    private async Task ReadAsync()
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(stop.Token);
            using var reader = new StreamReader(stream);
            string? id = null;
            var data = new List<string>();
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Count > 0) events.Writer.TryWrite((id, JsonDocument.Parse(string.Join('\n', data)).RootElement.Clone()));
                    id = null;
                    data.Clear();
                }
                else if (line.StartsWith(':')) Interlocked.Increment(ref comments);
                else if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Add(line[6..]);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException or ArgumentException) { }
        finally
        {
            events.Writer.TryComplete();
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

    public List<(string? Id, JsonElement Data)> Drain()
    {
        var list = new List<(string?, JsonElement)>();
        while (events.Reader.TryRead(out var item)) list.Add(item);
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        response.Dispose();
        try { await reading; } catch (OperationCanceledException) { }
        stop.Dispose();
    }
}
