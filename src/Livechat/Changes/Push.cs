namespace Livechat.Changes;

/// <summary>Who hears a pushed event, on the hub and on the per-user streams (contract sections 6, 11, 12).</summary>
public enum Hearers
{
    /// <summary>A session's conversation: hub connections that joined it, the per-session streams, the per-user streams of its agent and participants.</summary>
    Session,

    /// <summary>A session's state: every agent of the tenant, and its tenant users (on the hub those that joined it).</summary>
    SessionState,

    /// <summary>One user of the tenant: every connection and stream of it.</summary>
    User,

    /// <summary>Every agent of the tenant.</summary>
    Agents,
}

/// <summary>
/// How an event reaches clients, declared once by the event itself (<see cref="IPushedEvent"/>): its name on the
/// wire, its payload (the REST shape), who hears it, and whether a resuming stream gets it again.
/// </summary>
public sealed record Push(string Name, object Payload, Hearers Hearers)
{
    /// <summary>The session it belongs to (its hearers for <see cref="Hearers.Session"/> and <see cref="Hearers.SessionState"/>).</summary>
    public Guid? SessionId { get; init; }

    /// <summary>The one user who hears it (<see cref="Hearers.User"/>); none means nobody.</summary>
    public long? UserId { get; init; }

    /// <summary>The user who caused it (sender, reader, typist).</summary>
    public long? Actor { get; init; }

    /// <summary>Never to the actor's own connections and streams (typing).</summary>
    public bool ExcludeActor { get; init; }

    /// <summary>Only the agents among its hearers hear it: an internal note, and a read mark on one (contract section 16).</summary>
    public bool AgentsOnly { get; init; }

    /// <summary>Kept in the log of events, so a resuming stream gets it again; typing is not.</summary>
    public bool Replayable { get; init; } = true;

    /// <summary>A message only: its id and place in its session, the per-session stream's <c>id:</c> and order.</summary>
    public (Guid Id, long Seq)? Message { get; init; }

    /// <summary>
    /// The session's users who hear it, when the change that raised it read them with its own statement (the queue's
    /// positions): then nothing reads the session's audience for it.
    /// </summary>
    public IReadOnlyList<long>? SessionUsers { get; init; }
}

/// <summary>An event clients hear. <see cref="Name"/> is its name on the wire, the one the browser's list is made of.</summary>
public interface IPushedEvent
{
    static abstract string Name { get; }

    Push Push { get; }
}

/// <summary>
/// An event that clients hear as several pushes, each with its own session and users (the queue moved: every
/// queued session hears its new position). Its pushes use the names of <see cref="IPushedEvent"/>s.
/// </summary>
public interface IPushedEvents
{
    IReadOnlyList<Push> Pushes { get; }
}

/// <summary>The names of every pushed event, for the pages (they listen to each on the per-user stream).</summary>
public sealed record PushedEventNames(IReadOnlyList<string> Names);

/// <summary>What an event sends to a tenant's webhooks (contract section 13): its type there and its data (the REST shape).</summary>
public sealed record WebhookEvent(string Type, object Data);

/// <summary>An event tenants can subscribe webhooks to, declared by the event itself.</summary>
public interface IWebhookEvent
{
    /// <summary>What it sends, or null when this one sends nothing (a ticket that was reused, not opened).</summary>
    WebhookEvent? Webhook { get; }
}

/// <summary>The webhook types the features declare, in the order the catalogue lists them.</summary>
public sealed record DeclaredWebhookTypes(IReadOnlyList<string> Types);
