using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Livechat.Api;
using Livechat.Auth;

namespace Livechat.Realtime;

/// <summary>
/// What the two Server-Sent Events streams share (a session's, <see cref="SessionEventsApi"/>, and a user's,
/// <see cref="UserStreamApi"/>): the response's headers, the live loop with its keep-alives and access checks, the
/// frames, and where a reconnecting client resumes.
/// </summary>
internal static class EventStream
{
    /// <summary>Makes the response a stream: its type, no caching, and no buffering by a proxy in front.</summary>
    public static void Begin(HttpResponse response)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not buffer a stream
    }

    /// <summary>
    /// The subscription's events as they come. When none came for <paramref name="keepAlive"/>, a keep-alive comment
    /// goes out, or the stream ends: like a hub connection, a stream lives no longer than its token and its tenant's
    /// access. It also ends when the subscription fell behind (its channel completed): the client reconnects with
    /// <c>Last-Event-ID</c> and resumes.
    /// </summary>
    public static async IAsyncEnumerable<BusEvent> LiveAsync(ChannelReader<BusEvent> reader, HttpContext http, CurrentUser user, TimeSpan keepAlive,
        [EnumeratorCancellation] CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            bool more, quiet = false;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                wait.CancelAfter(keepAlive);
                try
                {
                    more = await reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    (more, quiet) = (true, true);
                }
            }
            if (quiet)
            {
                if (!await StillAllowedAsync(http, user, stop)) yield break;
                await http.Response.WriteAsync(": keep-alive\n\n", stop);
                await http.Response.Body.FlushAsync(stop);
                continue;
            }
            if (!more) yield break;
            while (reader.TryRead(out var next)) yield return next;
        }
    }

    /// <summary>Whether an open stream's token is still valid and its tenant still active (checked at each keep-alive).</summary>
    private static async Task<bool> StillAllowedAsync(HttpContext http, CurrentUser user, CancellationToken cancellationToken)
    {
        if (TokenLifetime.ExpiresAt(http.User) is { } expires && expires <= http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow())
            return false;
        var tenant = await http.RequestServices.GetRequiredService<Tenants.TenantDirectory>().FindAsync(user.TenantId, cancellationToken);
        return tenant is { Active: true };
    }

    /// <summary>
    /// Where a reconnecting client resumes: the <c>Last-Event-ID</c> header <c>EventSource</c> sends by itself, or
    /// <c>last_event_id</c> in the query (a new <c>EventSource</c> cannot set headers); empty when neither is given.
    /// </summary>
    public static string LastEventIdOf(HttpRequest request)
    {
        var lastEventId = request.Headers["Last-Event-ID"].ToString();
        return lastEventId.Length > 0 ? lastEventId : request.Query["last_event_id"].ToString();
    }

    /// <summary><c>id: ID</c> and <c>data: JSON</c>: a session stream's message.</summary>
    public static async Task WriteAsync(HttpResponse response, Guid id, string json, CancellationToken cancellationToken)
    {
        var frame = new StringBuilder(json.Length + 64).Append("id: ").Append(id).Append('\n').Append("data: ").Append(json).Append("\n\n").ToString();
        await response.WriteAsync(frame, Encoding.UTF8, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary><c>event: NAME</c>, <c>id:</c> when given (the per-user stream's place in the log), and <c>data: JSON</c>.</summary>
    public static async Task WriteNamedAsync(HttpResponse response, BusEvent busEvent, CancellationToken cancellationToken, bool withId = true)
    {
        var json = busEvent.Data.GetRawText();
        var frame = new StringBuilder(json.Length + 96).Append("event: ").Append(busEvent.Name).Append('\n');
        if (withId && busEvent.Id is { } id) frame.Append("id: ").Append(id.ToString()).Append('\n');
        frame.Append("data: ").Append(json).Append("\n\n");
        await response.WriteAsync(frame.ToString(), Encoding.UTF8, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
