using Livechat.Changes;

namespace Livechat.Messages;

/// <summary>The payload of <see cref="MessagesErased"/>: whose messages.</summary>
public sealed record ErasedUser(long UserId);

/// <summary>
/// A tenant user's messages are being erased (contract section 21), raised with the erasure's request. Nobody hears it
/// live; it goes into the log of events like every push, so a per-user stream that replays the log over it leaves out
/// what that user said in the replayed window (Realtime/UserStreamApi.cs): the log is the one copy of a message's text
/// outside the database, and it keeps it for minutes.
/// </summary>
public sealed record MessagesErased(long TenantId, long UserId) : DomainEvent(TenantId), IPushedEvent
{
    public static string Name => "messagesErased";

    public Push Push => new(Name, new ErasedUser(UserId), Hearers.User) { Actor = UserId }; // no UserId: nobody hears it
}
