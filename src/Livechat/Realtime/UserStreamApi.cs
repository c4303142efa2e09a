using Livechat.Api;
using Livechat.Auth;
using Microsoft.Extensions.Options;

namespace Livechat.Realtime;

/// <summary>
/// <c>GET /livechat/stream</c> (contract section 12): one Server-Sent Events stream per user with every event
/// it would get on the hub without joining anything: its sessions' events, its notifications, and for agents
/// every <c>sessionUpdated</c> of the tenant and <c>presenceUpdated</c>. Each is <c>event: NAME</c> and
/// <c>data: JSON</c> (the REST shape), without an id: the stream is not replayable, a client that reconnects
/// refreshes with the list endpoints. Token, tenant, stream caps, keep-alives and the end of the stream when
/// the token expires or the tenant is deactivated are those of the per-session stream.
/// </summary>
public static class UserStreamApi
{
    public static IEndpointConventionBuilder MapUserStream(this IEndpointRouteBuilder routes) =>
        routes.MapGet(AuthSetup.UserStreamPath, StreamAsync)
            .WithTags("Realtime")
            .WithSummary("Server-Sent Events stream of every event for the caller (its sessions, notifications; for agents the tenant's sessions and presence).")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .RequireTenant()
            .DisableRequestTimeout();

    private static async Task<IResult> StreamAsync(HttpContext http, CurrentUser user, UserStreams streams, ConnectionLimits limits,
        IOptions<RealtimeOptions> options, IHostApplicationLifetime lifetime)
    {
        if (!limits.TryEnterStream(user))
        {
            http.Response.Headers.RetryAfter = "30";
            return ApiResults.Error(ApiError.Field(StatusCodes.Status429TooManyRequests, "request", "Too many open event streams for this user: close one first."));
        }
        LivechatMetrics.SseStreams.Inc();
        try
        {
            using var subscription = streams.Subscribe(user);
            await RunAsync(http, user, subscription, options.Value, lifetime);
            return Results.Empty;
        }
        finally
        {
            LivechatMetrics.SseStreams.Dec();
            limits.ExitStream(user);
        }
    }

    private static async Task RunAsync(HttpContext http, CurrentUser user, UserStreams.Subscription subscription, RealtimeOptions options, IHostApplicationLifetime lifetime)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not buffer a stream
        try
        {
            // A first comment, so the client sees the stream open (EventSource's "open") before any event.
            await response.WriteAsync(": connected\n\n", stop.Token);
            await response.Body.FlushAsync(stop.Token);
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
                    if (!await SessionEventsApi.StillAllowedAsync(http, user, stop.Token)) break;
                    await response.WriteAsync(": keep-alive\n\n", stop.Token);
                    await response.Body.FlushAsync(stop.Token);
                    continue;
                }
                if (!more) break; // fell behind: the client reconnects and refreshes from the list endpoints
                while (subscription.Reader.TryRead(out var next)) await SessionEventsApi.WriteNamedAsync(response, next, stop.Token);
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
    }
}
