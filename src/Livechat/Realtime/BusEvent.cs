using System.Text.Json;
using Livechat.Agents;
using Livechat.Api;
using Livechat.Changes;
using Livechat.Messages;
using Livechat.Notifications;
using Livechat.Reading;
using Livechat.Sessions;

namespace Livechat.Realtime;

/// <summary>
/// One realtime event as it travels to every instance (in process without Redis, over a Redis channel with
/// it): its name, its REST JSON, and who may hear it. Every instance hands it to its own SSE streams
/// (<see cref="SessionStreams"/>, <see cref="UserStreams"/>) and its own hub connections where the hub's
/// groups cannot express the audience (typing). Hub group sends go through the SignalR backplane instead.
/// </summary>
public sealed record BusEvent(string Name, long TenantId, Guid? SessionId, JsonElement Data)
{
    /// <summary>Its place in the log (the per-user stream's <c>id:</c>); null for typing, which is never replayed.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public EventId? Id { get; init; }

    /// <summary>Every event but <c>typing</c> is kept in the log, so a per-user stream can resume over it.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsReplayable => Name != HubEvents.Typing;

    /// <summary>messageCreated only: the message id (the per-session stream's <c>id:</c>) and its order key.</summary>
    public Guid? MessageId { get; init; }

    public long? Seq { get; init; }

    /// <summary>Every agent of the tenant hears it.</summary>
    public bool Agents { get; init; }

    /// <summary>These users of the tenant hear it (a session's agent and participants, a notification's recipient).</summary>
    public IReadOnlyList<long> Users { get; init; } = [];

    /// <summary>The user who caused it (sender, reader, typist).</summary>
    public long? Actor { get; init; }

    /// <summary>Never to the actor's own connections and streams (typing).</summary>
    public bool ExcludeActor { get; init; }

    /// <summary>Whether a stream or connection of <paramref name="userId"/> hears it.</summary>
    public bool IsFor(long userId, bool isAgent) =>
        !(ExcludeActor && Actor == userId) && ((Agents && isAgent) || Users.Contains(userId));

    /// <summary>The events the per-session stream carries besides messages (without an <c>id:</c>: not replayable).</summary>
    public bool IsSessionStreamEvent => Name is HubEvents.MessageCreated or HubEvents.MessagesRead or HubEvents.Typing;

    /// <summary>
    /// The wire form of a realtime event, or null for one no stream carries. One line per event kind: a new event
    /// reaches the per-user streams by saying here who hears it (mirroring the hub's groups).
    /// </summary>
    public static BusEvent? From(DomainEvent domainEvent, SessionAudience audience) => domainEvent switch
    {
        MessageCreated e => new BusEvent(HubEvents.MessageCreated, e.TenantId, e.Message.SessionId, Serialize(e.Message))
            { MessageId = e.Message.Id, Seq = e.Seq, Users = audience.Users, Actor = e.Message.SenderId },
        SessionStarted e => new BusEvent(HubEvents.SessionUpdated, e.TenantId, e.Session.Id, Serialize(e.Session)) { Agents = true, Users = audience.Users },
        SessionUpdated e => new BusEvent(HubEvents.SessionUpdated, e.TenantId, e.Session.Id, Serialize(e.Session)) { Agents = true, Users = audience.Users },
        SessionAssigned e => new BusEvent(HubEvents.SessionAssigned, e.TenantId, e.Session.Id, Serialize(e.Session)) { Users = e.Session.AgentId is { } agent ? [agent] : [] },
        NotificationCreated e => new BusEvent(HubEvents.NotificationCreated, e.TenantId, null, Serialize(e.Notification)) { Users = [e.Notification.UserId] },
        PresenceUpdated e => new BusEvent(HubEvents.PresenceUpdated, e.TenantId, null, Serialize(e.Agent)) { Agents = true },
        MessagesRead e => new BusEvent(HubEvents.MessagesRead, e.TenantId, e.Read.SessionId, Serialize(e.Read)) { Users = audience.Users, Actor = e.Read.UserId },
        TypingChanged e => new BusEvent(HubEvents.Typing, e.TenantId, e.Typing.SessionId, Serialize(e.Typing))
            { Users = audience.Users, Actor = e.Typing.UserId, ExcludeActor = true },
        _ => null,
    };

    /// <summary>The session whose audience the event needs, if any.</summary>
    public static Guid? SessionOf(DomainEvent domainEvent) => domainEvent switch
    {
        MessageCreated e => e.Message.SessionId,
        SessionStarted e => e.Session.Id,
        SessionUpdated e => e.Session.Id,
        MessagesRead e => e.Read.SessionId,
        TypingChanged e => e.Typing.SessionId,
        _ => null,
    };

    private static JsonElement Serialize<T>(T value) => JsonSerializer.SerializeToElement(value, Json.Options);
}
