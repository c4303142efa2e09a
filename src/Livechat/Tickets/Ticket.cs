using System.Text.Json.Serialization;
using Livechat.Changes;

namespace Livechat.Tickets;

public static class TicketStatus
{
    public const string Open = "open";
    public const string InProgress = "in_progress";
    public const string Resolved = "resolved";
    public const string Closed = "closed";

    public static bool IsValid(string value) => value is Open or InProgress or Resolved or Closed;
}

/// <summary>A support ticket (contract section 8); opened automatically when a chat cannot start.</summary>
public sealed record Ticket(
    Guid Id,
    long TenantId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? AgentId,
    string Title,
    string Category,
    string Priority,
    string Status,
    string Description,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary><c>PATCH /tickets/{id}</c>: either field may be left out; <c>agent_id: null</c> unassigns.</summary>
public sealed record UpdateTicketRequest(string? Status, long? AgentId);

/// <summary>A ticket stands for a refused chat: a new one, or the unresolved one <paramref name="Reused"/>.</summary>
public sealed record TicketOpened(Ticket Ticket, bool Reused) : DomainEvent(Ticket.TenantId), IWebhookEvent, Sessions.ITicketForRefusedChat
{
    public Guid TicketId => Ticket.Id;

    public const string WebhookType = "ticket.created";

    public WebhookEvent? Webhook => Reused ? null : new(WebhookType, Ticket);
}
