using System.Text;
using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Messages;
using Livechat.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Livechat.Realtime;

/// <summary>
/// <c>GET /livechat/sessions/{id}/events</c>: a Server-Sent Events stream of the session's new messages (and, named
/// and without an id, its <c>messagesRead</c> and <c>typing</c> events) for clients without SignalR. Each event's <c>id:</c> is the message id and its <c>data:</c> the ChatMessage.
/// A reconnect with <c>Last-Event-ID</c> first replays every message after that id from the database, then
/// continues live, with no gap and no duplicate: the stream subscribes <em>before</em> it replays, and skips
/// live events the replay already sent (by the session's order key).
/// </summary>
public static class SessionEventsApi
{
    private const int ReplayPage = 500;

    public static IEndpointConventionBuilder MapSessionEvents(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/livechat/sessions/{id}/events", StreamAsync)
            .WithTags("Realtime")
            .WithSummary("Server-Sent Events stream of the session's new messages; resume with Last-Event-ID.")
            // The stream is written by hand, not a typed result: described here. Its refusals are typed.
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .RequireTenant()
            .DisableRequestTimeout();

    private static async Task<Results<EmptyHttpResult, BadRequestError, NotFoundError, TooManyRequestsError>> StreamAsync(string id, HttpContext http, CurrentUser user, SessionStore sessions, MessageStore messages,
        SessionStreams streams, ConnectionLimits limits, IOptions<RealtimeOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, IHostApplicationLifetime lifetime,
        CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        if (await sessions.FindAsync(user.TenantId, sessionId, cancellationToken) is null) return ApiError.NotFound("Session");

        var lastEventId = LastEventIdOf(http.Request);
        long? lastSeq = null;
        if (lastEventId.Length > 0)
        {
            if (!RouteIds.TryParse(lastEventId, out var lastId)
                || (lastSeq = await messages.SeqOfAsync(user, sessionId, lastId, cancellationToken)) is null)
            {
                return ApiError.BadRequest("last_event_id", "Last-Event-ID is not a message of this session.");
            }
        }

        if (!limits.TryEnterStream(user))
        {
            http.Response.Headers.RetryAfter = "30";
            return ApiError.TooManyRequests("Too many open event streams for this user: close one first.");
        }
        LivechatMetrics.SseStreams.Inc();
        try
        {
            return await RunStreamAsync(http, user, sessionId, lastSeq, messages, streams, options.Value, json.Wire(), lifetime);
        }
        finally
        {
            LivechatMetrics.SseStreams.Dec();
            limits.ExitStream(user);
        }
    }

    private static async Task<EmptyHttpResult> RunStreamAsync(HttpContext http, CurrentUser user, Guid sessionId, long? lastSeq, MessageStore messages,
        SessionStreams streams, RealtimeOptions options, JsonSerializerOptions wire, IHostApplicationLifetime lifetime)
    {
        var cancellationToken = http.RequestAborted;
        using var subscription = streams.Subscribe(user.TenantId, sessionId);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not buffer a stream
        await response.Body.FlushAsync(stop.Token);

        try
        {
            var sent = lastSeq ?? 0;
            if (lastSeq is not null)
            {
                while (true)
                {
                    var page = await messages.AfterAsync(user, sessionId, sent, ReplayPage, stop.Token);
                    foreach (var (message, seq) in page)
                    {
                        await WriteAsync(response, message.Id, JsonSerializer.Serialize(message, wire), stop.Token);
                        sent = seq;
                    }
                    if (page.Count < ReplayPage) break;
                }
            }

            var keepAlive = TimeSpan.FromSeconds(options.KeepAliveSeconds);
            while (!stop.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                wait.CancelAfter(keepAlive);
                bool more;
                try
                {
                    more = await subscription.Reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    // Like a hub connection, a stream lives no longer than its token and its tenant's access.
                    if (!await StillAllowedAsync(http, user, stop.Token)) break;
                    await response.WriteAsync(": keep-alive\n\n", stop.Token);
                    await response.Body.FlushAsync(stop.Token);
                    continue;
                }
                if (!more) break; // fell behind: the client reconnects with Last-Event-ID
                while (subscription.Reader.TryRead(out var next))
                {
                    // Typing never to the typist; a note, and a read mark on one, to agents only.
                    if (!next.IsHeardInSessionBy(user.UserId, user.IsAgent)) continue;
                    if (next.Seq is not { } seq)
                    {
                        // messagesRead and typing: named, without an id (not replayable).
                        await WriteNamedAsync(response, next, stop.Token, withId: false);
                        continue;
                    }
                    if (seq <= sent) continue;
                    await WriteAsync(response, next.MessageId!.Value, next.Data.GetRawText(), stop.Token);
                    sent = seq;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client left or the service is stopping: the stream just ends.
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            // Fell behind; see above.
        }
        return TypedResults.Empty;
    }

    /// <summary>
    /// Where a reconnecting client resumes: the <c>Last-Event-ID</c> header <c>EventSource</c> sends by itself, or
    /// <c>last_event_id</c> in the query (a new <c>EventSource</c> cannot set headers); empty when neither is given.
    /// </summary>
    internal static string LastEventIdOf(HttpRequest request)
    {
        var lastEventId = request.Headers["Last-Event-ID"].ToString();
        return lastEventId.Length > 0 ? lastEventId : request.Query["last_event_id"].ToString();
    }

    /// <summary>Whether an open stream's token is still valid and its tenant still active (checked at each keep-alive).</summary>
    internal static async Task<bool> StillAllowedAsync(HttpContext http, CurrentUser user, CancellationToken cancellationToken)
    {
        if (TokenLifetime.ExpiresAt(http.User) is { } expires && expires <= http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow())
            return false;
        var tenant = await http.RequestServices.GetRequiredService<Tenants.TenantDirectory>().FindAsync(user.TenantId, cancellationToken);
        return tenant is { Active: true };
    }

    private static async Task WriteAsync(HttpResponse response, Guid id, string json, CancellationToken cancellationToken)
    {
        var frame = new StringBuilder(json.Length + 64).Append("id: ").Append(id).Append('\n').Append("data: ").Append(json).Append("\n\n").ToString();
        await response.WriteAsync(frame, Encoding.UTF8, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary><c>event: NAME</c>, <c>id:</c> when given (the per-user stream's place in the log), and <c>data: JSON</c>.</summary>
    internal static async Task WriteNamedAsync(HttpResponse response, BusEvent busEvent, CancellationToken cancellationToken, bool withId = true)
    {
        var json = busEvent.Data.GetRawText();
        var frame = new StringBuilder(json.Length + 96).Append("event: ").Append(busEvent.Name).Append('\n');
        if (withId && busEvent.Id is { } id) frame.Append("id: ").Append(id.ToString()).Append('\n');
        frame.Append("data: ").Append(json).Append("\n\n");
        await response.WriteAsync(frame.ToString(), Encoding.UTF8, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
