using Livechat.Changes;

namespace Livechat.Routing;

/// <summary>An agent's capacity grew or a slot was freed: the oldest queued chats may now be assigned.</summary>
public sealed record CapacityFreed(long TenantId) : DomainEvent(TenantId), ICoalescingEvent;

/// <summary>The front of the tenant's queue moved (a chat left it, or one was put at its head): positions changed.</summary>
public sealed record QueueChanged(long TenantId) : DomainEvent(TenantId), ICoalescingEvent;
