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

        var lastEventId = EventStream.LastEventIdOf(http.Request);
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
        EventStream.Begin(response);
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
                        await EventStream.WriteAsync(response, message.Id, JsonSerializer.Serialize(message, wire), stop.Token);
                        sent = seq;
                    }
                    if (page.Count < ReplayPage) break;
                }
            }

            await foreach (var next in EventStream.LiveAsync(subscription.Reader, http, user, TimeSpan.FromSeconds(options.KeepAliveSeconds), stop.Token))
            {
                // Typing never to the typist; a note, and a read mark on one, to agents only.
                if (!next.IsHeardInSessionBy(user.UserId, user.IsAgent)) continue;
                if (next.Seq is not { } seq)
                {
                    // messagesRead and typing: named, without an id (not replayable).
                    await EventStream.WriteNamedAsync(response, next, stop.Token, withId: false);
                    continue;
                }
                if (seq <= sent) continue;
                await EventStream.WriteAsync(response, next.MessageId!.Value, next.Data.GetRawText(), stop.Token);
                sent = seq;
            }
        }
        catch (OperationCanceledException)
        {
            // The client left or the service is stopping: the stream just ends.
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            // Fell behind (its channel completed with an error): the client reconnects with Last-Event-ID and resumes.
        }
        return TypedResults.Empty;
    }
}
