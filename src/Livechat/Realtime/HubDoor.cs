using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;

namespace Livechat.Realtime;

/// <summary>
/// Who negotiated each hub connection token of this instance: the tenant and the user. A connection token
/// travels in URLs (<c>/livechat/hub?id=...</c>) and so can leak (proxy logs, browser history); it must
/// only ever work for the caller it was issued to. SignalR itself does not refuse a request of another user
/// (it logs a warning, and long polling even swaps the connection's user), so every request that names a
/// token is checked here (<see cref="HubDoor"/>). Tokens are per instance, like SignalR's own connections
/// (long polling and SSE need sticky sessions), so this needs no shared storage.
/// </summary>
public sealed class HubConnectionOwners(TimeProvider time)
{
    /// <summary>A token negotiated but never connected is dead long before this (SignalR drops it after seconds).</summary>
    private static readonly TimeSpan NeverConnectedLifetime = TimeSpan.FromMinutes(2);

    private sealed class Owner(long tenantId, long userId, string connectionId, DateTimeOffset negotiatedAt, EventId? admittedAt)
    {
        /// <summary>The log's position at negotiate: the connection is sent what it hears from there on (<see cref="LocalDelivery.OpenHub"/>).</summary>
        public EventId? AdmittedAt { get; } = admittedAt;
        public long TenantId { get; } = tenantId;
        public long UserId { get; } = userId;
        public string ConnectionId { get; } = connectionId;
        public DateTimeOffset NegotiatedAt { get; } = negotiatedAt;
        public volatile bool Connected;
    }

    private readonly ConcurrentDictionary<string, Owner> byToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> tokenByConnectionId = new(StringComparer.Ordinal);
    private long lastSweepTicks;

    public void Negotiated(string connectionToken, string connectionId, CurrentUser user, EventId? admittedAt)
    {
        var now = time.GetUtcNow();
        byToken[connectionToken] = new Owner(user.TenantId, user.UserId, connectionId, now, admittedAt);
        tokenByConnectionId[connectionId] = connectionToken;
        Sweep(now);
    }

    /// <summary>True only for the very tenant and user that negotiated the token; unknown tokens are nobody's.</summary>
    public bool IsOwner(string connectionToken, CurrentUser user) =>
        byToken.TryGetValue(connectionToken, out var owner) && owner.TenantId == user.TenantId && owner.UserId == user.UserId;

    /// <summary>Whether the connection was negotiated here, and the log's position then.</summary>
    public bool TryGetAdmittedAt(string connectionId, out EventId? admittedAt)
    {
        admittedAt = null;
        if (!tokenByConnectionId.TryGetValue(connectionId, out var token) || !byToken.TryGetValue(token, out var owner)) return false;
        admittedAt = owner.AdmittedAt;
        return true;
    }

    public void Connected(string connectionId)
    {
        if (tokenByConnectionId.TryGetValue(connectionId, out var token) && byToken.TryGetValue(token, out var owner)) owner.Connected = true;
    }

    public void Closed(string connectionId)
    {
        if (tokenByConnectionId.TryRemove(connectionId, out var token)) byToken.TryRemove(token, out _);
    }

    /// <summary>Forgets tokens that were negotiated and never used, at most once a minute.</summary>
    private void Sweep(DateTimeOffset now)
    {
        var last = Interlocked.Read(ref lastSweepTicks);
        if (now.UtcTicks - last < TimeSpan.TicksPerMinute || Interlocked.CompareExchange(ref lastSweepTicks, now.UtcTicks, last) != last) return;
        foreach (var (token, owner) in byToken)
        {
            if (owner.Connected || now - owner.NegotiatedAt < NeverConnectedLifetime) continue;
            byToken.TryRemove(token, out _);
            tokenByConnectionId.TryRemove(owner.ConnectionId, out _);
        }
    }
}

/// <summary>
/// The hub's door, after the token and tenant checks (<see cref="TenantFilter"/>): binds every hub request to
/// the tenant and user that negotiated its connection, and makes the hub's own refusals envelopes (SignalR
/// answers them in plain text).
/// </summary>
public static class HubDoor
{
    private const string AdmittedKey = "livechat.hub.admitted";

    private sealed record Admitted(EventId? At);

    /// <summary>
    /// The log's position when the connection's first request came in (negotiate, or the WebSocket request that
    /// skipped it): SignalR lets the client's <c>start()</c> resolve before the hub hears of the connection, so the
    /// connection is sent what it missed since (<see cref="LocalDelivery.OpenHub"/>).
    /// </summary>
    public static EventId? AdmittedAt(HttpContext http, HubConnectionOwners owners, string connectionId)
    {
        if (http.Items.TryGetValue(AdmittedKey, out var value) && value is Admitted admitted) return admitted.At;
        // Long polling hands the hub a copy of its request without our items: negotiate noted it.
        if (owners.TryGetAdmittedAt(connectionId, out var at)) return at;
        return http.RequestServices.GetRequiredService<LocalDelivery>().Position;
    }

    /// <summary>
    /// A WebSocket request, seen before the hub's own pipeline (which adds the WebSocket feature, so
    /// <c>HttpContext.WebSockets</c> cannot tell yet): an HTTP/1.1 upgrade to <c>websocket</c>, or HTTP/2's extended CONNECT.
    /// </summary>
    private static bool IsWebSocketRequest(HttpContext http) =>
        (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>()?.IsUpgradableRequest == true
            && http.Request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase))
        || http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;

    /// <summary>Only the methods SignalR serves; anything else is the routing's 405 envelope.</summary>
    public static HubEndpointConventionBuilder WithHubMethods(this HubEndpointConventionBuilder hub)
    {
        hub.Add(endpoint =>
        {
            var negotiate = endpoint is RouteEndpointBuilder route && (route.RoutePattern.RawText?.EndsWith("/negotiate", StringComparison.Ordinal) ?? false);
            // CONNECT is a WebSocket over HTTP/2; DELETE ends a long polling connection.
            endpoint.Metadata.Add(new HttpMethodMetadata(negotiate ? ["POST"] : ["GET", "POST", "DELETE", "CONNECT"]));
        });
        return hub;
    }

    public static IApplicationBuilder UseHubDoor(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var endpoint = http.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<HubMetadata>() is null)
        {
            await next(http);
            return;
        }
        if (http.Features.Get<CurrentUser>() is not { } user)
        {
            // Unreachable while the hub requires a tenant; closed rather than open if that ever changes.
            await ApiResults.WriteErrorAsync(http, ApiError.ForStatus(StatusCodes.Status401Unauthorized));
            return;
        }
        if (endpoint.Metadata.GetMetadata<NegotiateMetadata>() is not null)
        {
            await NegotiateAsync(http, user, next);
            return;
        }

        // Noted before SignalR answers the handshake; the hub reads it when the connection opens.
        http.Items[AdmittedKey] = new Admitted(http.RequestServices.GetRequiredService<LocalDelivery>().Position);
        var token = http.Request.Query["id"].ToString();
        if (token.Length == 0)
        {
            // A WebSocket may skip negotiation (contract section 6: no sticky sessions): it opens a connection of its own.
            if (IsWebSocketRequest(http))
            {
                await next(http);
                return;
            }
            await ApiResults.WriteErrorAsync(http, ApiError.BadRequest("id", "id (the connection token from negotiate) is required."));
            return;
        }
        var owners = http.RequestServices.GetRequiredService<HubConnectionOwners>();
        if (!owners.IsOwner(token, user))
        {
            // Another caller's token reads exactly like one that never existed.
            await ApiResults.WriteErrorAsync(http, ApiError.NotFound("Hub connection"));
            return;
        }
        // SignalR's own refusals of the owner's mistakes (a send on a WebSocket connection, a second stream,
        // another transport) are plain text or empty: make them envelopes too. A refusal's text is held back
        // (a success streams through untouched, a WebSocket never writes the body) and replaced once SignalR is done.
        var original = http.Response.Body;
        var guard = new RefusalGuard(http.Response, original);
        http.Response.Body = guard;
        try
        {
            await next(http);
        }
        finally
        {
            http.Response.Body = original;
        }
        if (!http.Response.HasStarted && http.Response.StatusCode >= 400) await WriteEnvelopeAsync(http);
    });

    private static Task WriteEnvelopeAsync(HttpContext http)
    {
        http.Response.ContentLength = null;
        return ApiResults.WriteErrorAsync(http, ApiError.ForStatus(http.Response.StatusCode));
    }

    /// <summary>
    /// Passes a response through, unless its status is an error when the first byte (or flush) comes: then it
    /// swallows the body, so the response has not started and the door can answer with an envelope.
    /// </summary>
    private sealed class RefusalGuard(HttpResponse response, Stream inner) : Stream
    {
        private bool? holding;

        private bool Holding => holding ??= response.StatusCode >= 400;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
            if (!Holding) inner.Flush();
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Holding ? Task.CompletedTask : inner.FlushAsync(cancellationToken);

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (!Holding) inner.Write(buffer, offset, count);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Holding ? Task.CompletedTask : inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            Holding ? ValueTask.CompletedTask : inner.WriteAsync(buffer, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Checks the protocol version, lets SignalR negotiate, and records who the new token belongs to.</summary>
    private static async Task NegotiateAsync(HttpContext http, CurrentUser user, RequestDelegate next)
    {
        if (http.Request.Query.TryGetValue("negotiateVersion", out var version)
            && !int.TryParse(version.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            await ApiResults.WriteErrorAsync(http, ApiError.BadRequest("negotiateVersion", "negotiateVersion must be a non-negative integer."));
            return;
        }
        var admittedAt = http.RequestServices.GetRequiredService<LocalDelivery>().Position;
        // The negotiate answer is a small JSON document: read the token out of it on its way to the client.
        var original = http.Response.Body;
        using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        try
        {
            await next(http);
        }
        finally
        {
            http.Response.Body = original;
        }
        if (http.Response.StatusCode == StatusCodes.Status200OK && Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)) is { } negotiated)
            http.RequestServices.GetRequiredService<HubConnectionOwners>().Negotiated(negotiated.Token, negotiated.ConnectionId, user, admittedAt);
        buffer.Position = 0;
        await buffer.CopyToAsync(original, http.RequestAborted);
    }

    /// <summary>The token (protocol 1) or the connection id that is the token (protocol 0).</summary>
    private static (string Token, string ConnectionId)? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("connectionId", out var id) || id.GetString() is not { } connectionId)
                return null;
            var token = root.TryGetProperty("connectionToken", out var t) && t.GetString() is { } value ? value : connectionId;
            return (token, connectionId);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
