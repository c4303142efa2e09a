using Livechat.Api;
using Livechat.Auth;
using Livechat.Messages;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Microsoft.Extensions.Options;

namespace Livechat.Realtime;

/// <summary>
/// <c>GET /livechat/stream</c> (contract section 12): one Server-Sent Events stream per user with every event
/// it would get on the hub without joining anything: its sessions' events, its notifications, and for agents
/// every <c>sessionUpdated</c> of the tenant and <c>presenceUpdated</c>. Each is <c>event: NAME</c>, <c>id:</c> its
/// place in the log of events (all but <c>typing</c>) and <c>data: JSON</c> (the REST shape). <b>Resumable</b> (v1.2):
/// a reconnect with <c>Last-Event-ID</c> first gets exactly the events it missed, then the live ones; an id the log
/// does not hold (unknown, malformed, too old) begins the stream with <c>reset</c>. Token, tenant, stream caps,
/// keep-alives and the end of the stream when the token expires or the tenant is deactivated are those of the
/// per-session stream.
/// </summary>
public static class UserStreamApi
{
    public static IEndpointConventionBuilder MapUserStream(this IEndpointRouteBuilder routes) =>
        routes.MapGet(AuthSetup.UserStreamPath, StreamAsync)
            .WithTags("Realtime")
            .WithSummary("Server-Sent Events stream of every event for the caller (its sessions, notifications; for agents the tenant's sessions and presence); resume with Last-Event-ID.")
            .WithQuery(
                new QueryParameter("access_token", "The bearer token, for an EventSource, which cannot set headers."),
                new QueryParameter("tenant_id", "The tenant, for an EventSource, which cannot set headers (X-Tenant-ID wins).", JsonSchemaType.Integer) { Format = "int64" },
                new QueryParameter("last_event_id", "Where to resume, for a new EventSource (the Last-Event-ID header wins)."))
            // The stream is written by hand, not a typed result: described here. Its refusal is typed.
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .RequireTenant()
            .DisableRequestTimeout();

    private static async Task<Results<EmptyHttpResult, TooManyRequestsError>> StreamAsync(HttpContext http, CurrentUser user, LocalDelivery delivery, EventLog log, ConnectionLimits limits,
        IOptions<RealtimeOptions> options, IHostApplicationLifetime lifetime)
    {
        if (!limits.TryEnterStream(user))
        {
            http.Response.Headers.RetryAfter = "30";
            return ApiError.TooManyRequests("Too many open event streams for this user: close one first.");
        }
        LivechatMetrics.SseStreams.Inc();
        try
        {
            // Live from here on, before the first byte: nothing after the client sees the stream open is missed.
            var (subscription, upTo) = delivery.OpenUserStream(user);
            using (subscription) await RunAsync(http, user, subscription, upTo, log, options.Value, lifetime);
            return TypedResults.Empty;
        }
        finally
        {
            LivechatMetrics.SseStreams.Dec();
            limits.ExitStream(user);
        }
    }

    private static async Task RunAsync(HttpContext http, CurrentUser user, UserStreams.Subscription subscription, EventId? upTo, EventLog log,
        RealtimeOptions options, IHostApplicationLifetime lifetime)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var response = http.Response;
        EventStream.Begin(response);
        try
        {
            // A first comment, so the client sees the stream open (EventSource's "open") before any event; and a
            // short reconnect delay, so a dropped stream resumes within a second.
            await response.WriteAsync(": connected\nretry: 1000\n\n", stop.Token);
            await response.Body.FlushAsync(stop.Token);
            var sent = await ReplayAsync(http, user, upTo, log, stop.Token);
            // An id without data moves the client's last event id without an event (the SSE rule): a client that drops
            // before any event of its own arrives still resumes from here, not from nothing. Never backwards.
            if (sent is null || upTo > sent) sent = upTo;
            if (sent is { } position)
            {
                await response.WriteAsync($"id: {position}\n\n", stop.Token);
                await response.Body.FlushAsync(stop.Token);
            }
            await foreach (var next in EventStream.LiveAsync(subscription.Reader, http, user, TimeSpan.FromSeconds(options.KeepAliveSeconds), stop.Token))
            {
                // Live events the client already has (it came from an instance that was ahead of this one) are skipped.
                if (next.Id is { } id && sent is { } last && id <= last) continue;
                await EventStream.WriteNamedAsync(response, next, stop.Token);
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
    }

    /// <summary>
    /// With <c>Last-Event-ID</c> (the header <c>EventSource</c> sends, or <c>last_event_id</c> in the query), writes the
    /// caller's events after it up to <paramref name="upTo"/> (the last one it did not get live), or <c>reset</c> when
    /// the log does not hold that id. Returns the last id the client has, so live events up to it are skipped.
    /// </summary>
    private static async Task<EventId?> ReplayAsync(HttpContext http, CurrentUser user, EventId? upTo, EventLog log, CancellationToken cancellationToken)
    {
        var lastEventId = EventStream.LastEventIdOf(http.Request);
        if (lastEventId.Length == 0) return null;
        var missed = EventId.TryParse(lastEventId, out var after) ? await log.ReplayAsync(after, upTo, cancellationToken) : null;
        if (missed is null)
        {
            await http.Response.WriteAsync("event: reset\ndata: {}\n\n", cancellationToken);
            await http.Response.Body.FlushAsync(cancellationToken);
            return null;
        }
        foreach (var busEvent in WithoutErased(missed))
        {
            if (busEvent.IsFor(user.UserId, user.IsAgent)) await EventStream.WriteNamedAsync(http.Response, busEvent, cancellationToken);
        }
        return after;
    }

    /// <summary>
    /// The replayed events without what an erasure in the same window removed (contract section 21): the erased user's
    /// own events (its messages, its rating) and the notifications that quote its messages. Their ids still advance the
    /// client, as the database's placeholders keep the messages' ids.
    /// </summary>
    private static IEnumerable<BusEvent> WithoutErased(IReadOnlyList<BusEvent> missed)
    {
        var erased = missed.Where(e => e.Name == MessagesErased.Name && e.Actor is not null).Select(e => (e.TenantId, e.Actor!.Value)).ToHashSet();
        if (erased.Count == 0) return missed;
        var skipped = new HashSet<string>(StringComparer.Ordinal);
        return missed.Where(e =>
        {
            if (e.Actor is { } actor && erased.Contains((e.TenantId, actor)))
            {
                if (e.MessageId is { } id) skipped.Add(id.ToString());
                return false;
            }
            return !(e.Name == Notifications.NotificationCreated.Name && e.Data.TryGetProperty("message_id", out var quoted)
                && quoted.ValueKind == System.Text.Json.JsonValueKind.String && skipped.Contains(quoted.GetString()!));
        }).ToList();
    }
}
