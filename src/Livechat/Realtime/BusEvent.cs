using System.Text.Json;
using Livechat.Api;
using Livechat.Changes;

namespace Livechat.Realtime;

/// <summary>
/// One pushed event as it travels the log of events to every instance (in process without Redis, through Redis
/// with it): its name, its REST JSON, who hears it, and its place in the log. Made from what the event itself
/// declares (<see cref="IPushedEvent"/>) and the session's audience found in the event's transaction; every
/// instance hands it to its own hub connections (<see cref="HubAudience"/>) and SSE streams
/// (<see cref="SessionStreams"/>, <see cref="UserStreams"/>).
/// </summary>
public sealed record BusEvent(string Name, long TenantId, Guid? SessionId, JsonElement Data)
{
    /// <summary>Its place in the log (the per-user stream's <c>id:</c>); null for typing, which is never replayed.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public EventId? Id { get; init; }

    public Hearers Hearers { get; init; }

    /// <summary>Kept in the log, so a per-user stream can resume over it (every event but typing).</summary>
    public bool Replayable { get; init; } = true;

    /// <summary>A message only: its id (the per-session stream's <c>id:</c>) and its order key.</summary>
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

    /// <summary>Only the agents among its hearers hear it (an internal note, a read mark on one).</summary>
    public bool AgentsOnly { get; init; }

    /// <summary>Whether a stream or connection of <paramref name="userId"/> hears it.</summary>
    public bool IsFor(long userId, bool isAgent) =>
        !(ExcludeActor && Actor == userId) && (isAgent || !AgentsOnly) && ((Agents && isAgent) || Users.Contains(userId));

    /// <summary>Whether a caller who hears the session (joined it, or opened its stream) hears this one of its events.</summary>
    public bool IsHeardInSessionBy(long userId, bool isAgent) => !(ExcludeActor && Actor == userId) && (isAgent || !AgentsOnly);

    /// <summary>The events the per-session stream carries: a session's conversation (messages, read marks, typing).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsSessionStreamEvent => Hearers == Hearers.Session;

    /// <summary>The wire form of what <paramref name="push"/> declares (its payload as a REST answer writes it), with the session's audience where it needs one.</summary>
    public static BusEvent From(long tenantId, Push push, SessionAudience audience, JsonSerializerOptions wire) =>
        new(push.Name, tenantId, push.SessionId, JsonSerializer.SerializeToElement(push.Payload, push.Payload.GetType(), wire))
        {
            Hearers = push.Hearers,
            Replayable = push.Replayable,
            MessageId = push.Message?.Id,
            Seq = push.Message?.Seq,
            Agents = push.Hearers is Hearers.SessionState or Hearers.Agents,
            Users = push.Hearers switch
            {
                Hearers.Session or Hearers.SessionState => audience.Users,
                Hearers.User => push.UserId is { } user ? [user] : [],
                _ => [],
            },
            Actor = push.Actor,
            ExcludeActor = push.ExcludeActor,
            AgentsOnly = push.AgentsOnly,
        };

    /// <summary>The session whose audience the event needs, if any.</summary>
    public static Guid? SessionOf(Push push) => push.Hearers is Hearers.Session or Hearers.SessionState ? push.SessionId : null;
}
