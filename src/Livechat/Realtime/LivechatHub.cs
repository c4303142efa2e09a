using Livechat.Api;
using Livechat.Auth;
using Livechat.Sessions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Livechat.Realtime;

/// <summary>
/// <c>/livechat/hub</c>. The connect request passes the same token, tenant and grant checks as HTTP (the hub
/// endpoint carries <see cref="TenantFilter.TenantRequired"/> metadata); the admitted user is kept for the
/// connection's life. What a connection hears is decided by <see cref="HubAudience"/> (its tenant only; a session's
/// events after the session was found in its tenant), and sent by <see cref="LocalDelivery"/>, which also sends it
/// what it missed between its connect request and now: SignalR lets <c>start()</c> resolve before this runs.
/// </summary>
public sealed class LivechatHub(SessionStore sessions, AgentConnections agentConnections, ConnectionLimits limits, OpenHubConnections connections,
    HubConnectionOwners owners, LocalDelivery delivery, TypingIndicators typing, TimeProvider time, IOptions<RealtimeOptions> options) : Hub
{
    private const string UserKey = "livechat.user";
    private const string JoinedKey = "livechat.joined";

    private CurrentUser User => (CurrentUser)Context.Items[UserKey]!;

    private HashSet<Guid> Joined => (HashSet<Guid>)Context.Items[JoinedKey]!;

    public override async Task OnConnectedAsync()
    {
        var http = Context.GetHttpContext() ?? throw new HubException("The connection has no HTTP context.");
        // Long polling hands the hub a copy of the request without our features: resolve the tenant again.
        var user = http.Features.Get<CurrentUser>();
        if (user is null)
        {
            var (resolved, error) = await TenantFilter.ResolveAsync(http, Context.ConnectionAborted);
            user = resolved ?? throw new HubException(error!.Message);
        }
        if (!limits.TryEnterHub(user)) throw new HubException("Too many open connections for this user: close one first.");
        Context.Items[UserKey] = user;
        Context.Items[JoinedKey] = new HashSet<Guid>();
        LivechatMetrics.HubConnections.Inc();
        connections.Opened(Context, user);
        CloseWhenTheTokenExpires();
        // Known to the delivery before the agent counts as online: an assignment that follows reaches it.
        delivery.OpenHub(Context.ConnectionId, user, HubDoor.AdmittedAt(http, owners, Context.ConnectionId));
        // Not the connection's token: a client that leaves at once must still be counted in and then out.
        if (user.IsAgent) await agentConnections.ConnectedAsync(user, CancellationToken.None);
        owners.Connected(Context.ConnectionId);
        await base.OnConnectedAsync();
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        owners.Closed(Context.ConnectionId);
        delivery.CloseHub(Context.ConnectionId);
        if (Context.Items.TryGetValue(UserKey, out var value) && value is CurrentUser user)
        {
            LivechatMetrics.HubConnections.Dec();
            connections.Closed(Context);
            limits.ExitHub(user);
            if (user.IsAgent) await agentConnections.DisconnectedAsync(user, CancellationToken.None);
        }
        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>
    /// A token is checked once, at connect; a connection must not outlive it, or a user whose access ended
    /// would keep receiving pushes. The client reconnects with a fresh token (the official clients call their
    /// access token factory again) and passes every check anew.
    /// </summary>
    private void CloseWhenTheTokenExpires()
    {
        if (TokenLifetime.ExpiresAt(Context.User) is not { } expires) return;
        var context = Context;
        // Task.Delay stops at about 49 days; a longer-lived token just gets its connection renewed then.
        var left = TimeSpan.FromTicks(Math.Clamp((expires - time.GetUtcNow()).Ticks, 0, TimeSpan.FromDays(49).Ticks));
        _ = Task.Delay(left, time, context.ConnectionAborted)
            .ContinueWith(waited => { if (!waited.IsCanceled) context.Abort(); }, TaskScheduler.Default);
    }

    /// <summary>Starts the <c>messageCreated</c> (and <c>sessionUpdated</c>) stream of one of the tenant's sessions.</summary>
    public async Task JoinSession(string sessionId)
    {
        if (!RouteIds.TryParse(sessionId, out var id)) throw new HubException("sessionId must be a UUID.");
        if (Joined.Contains(id)) return;
        if (Joined.Count >= options.Value.MaxSessionsPerConnection)
            throw new HubException($"A connection may join at most {options.Value.MaxSessionsPerConnection} sessions: leave one first.");
        var user = User;
        // Another tenant's session and a missing one read the same: no existence leak.
        if (await sessions.FindAsync(user.TenantId, id, Context.ConnectionAborted) is null) throw new HubException("Session not found.");
        Joined.Add(id);
        delivery.Join(Context.ConnectionId, id, joined: true);
    }

    public async Task LeaveSession(string sessionId)
    {
        if (!RouteIds.TryParse(sessionId, out var id)) throw new HubException("sessionId must be a UUID.");
        if (!Joined.Remove(id)) return;
        delivery.Join(Context.ConnectionId, id, joined: false);
    }

    /// <summary>
    /// Says the caller is typing (or stopped) in a session of its tenant; the session's other connections get
    /// <c>typing</c> (contract section 11). Needs no join; the hub's rate limit applies like to every call.
    /// </summary>
    public async Task Typing(string sessionId, bool isTyping)
    {
        if (!RouteIds.TryParse(sessionId, out var id)) throw new HubException("sessionId must be a UUID.");
        var user = User;
        // Looked up every time, joined or not: a session closes under its joined connections.
        var session = await sessions.FindAsync(user.TenantId, id, Context.ConnectionAborted) ?? throw new HubException("Session not found.");
        if (session.Status == SessionStatus.Closed) throw new HubException(TypingIndicators.ClosedSession);
        typing.Report(user.TenantId, id, user.UserId, isTyping);
    }
}
