using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Livechat.Tickets;

public static class TicketsApi
{
    public static RouteGroupBuilder MapTickets(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/tickets").WithTags("Tickets").RequireTenant(agentsOnly: true);

        group.MapGet("/", ListAsync)
            .WithSummary("The tenant's support tickets, newest first; status filters open, in_progress, resolved or closed.")
            .WithPageQuery(defaultLimit: 20)
            .WithQuery(new QueryParameter("status", "Only the tickets with this status.")
                { Values = [TicketStatus.Open, TicketStatus.InProgress, TicketStatus.Resolved, TicketStatus.Closed] });
        group.MapGet("/{id}", GetAsync)
            .WithSummary("One ticket of the tenant.");
        group.MapPatch("/{id}", UpdateAsync)
            .WithSummary("Change a ticket's status and/or assigned agent (agent_id: null unassigns).");
        return group;
    }

    private static async Task<Results<OkEnvelope<IReadOnlyList<Ticket>>, BadRequestError>> ListAsync(HttpRequest request, CurrentUser user, TicketStore tickets,
        CancellationToken cancellationToken)
    {
        var status = request.Query["status"].ToString();
        if (status.Length > 0 && !TicketStatus.IsValid(status))
            return ApiError.BadRequest("status", "status must be open, in_progress, resolved or closed.");
        var (page, error) = PageRequest.Parse(request, defaultLimit: 20);
        if (error is not null) return error;
        var result = await tickets.ListAsync(user.TenantId, status.Length > 0 ? status : null, page!, cancellationToken);
        return result is null ? ApiError.BadRequest("cursor", "cursor is not a ticket of this tenant.") : ApiResults.Page(result);
    }

    private static async Task<Results<OkEnvelope<Ticket>, BadRequestError, NotFoundError>> GetAsync(string id, CurrentUser user, TicketStore tickets,
        CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var ticketId)) return RouteIds.Malformed();
        var ticket = await tickets.FindAsync(user.TenantId, ticketId, cancellationToken);
        return ticket is null ? ApiError.NotFound("Ticket") : ApiResults.Ok(ticket);
    }

    private static async Task<Results<OkEnvelope<Ticket>, BadRequestError, NotFoundError, ConflictError>> UpdateAsync(string id, JsonBody<UpdateTicketRequest> body,
        CurrentUser user, TicketStore tickets, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var ticketId)) return RouteIds.Malformed();
        string? status = null;
        long? agentId = null;
        var root = body.RootElement;
        if (root.TryGetProperty("status", out _))
        {
            status = body.GetString("status");
            if (status is null || !TicketStatus.IsValid(status))
                return ApiError.BadRequest("status", "status must be open, in_progress, resolved or closed.");
        }
        var setAgent = root.TryGetProperty("agent_id", out var agentValue);
        if (setAgent && agentValue.ValueKind != JsonValueKind.Null)
        {
            if (agentValue.ValueKind != JsonValueKind.Number || !agentValue.TryGetInt64(out var agent) || agent <= 0)
                return ApiError.BadRequest("agent_id", "agent_id must be a positive integer or null.");
            agentId = agent;
        }
        if (status is null && !setAgent)
            return ApiError.BadRequest("body", "Send status and/or agent_id.");

        return await tickets.UpdateAsync(user.TenantId, ticketId, status, setAgent, agentId, cancellationToken) switch
        {
            TicketUpdateOutcome.Updated updated => ApiResults.Ok(updated.Ticket, "Ticket updated."),
            TicketUpdateOutcome.NotFound => ApiError.NotFound("Ticket"),
            TicketUpdateOutcome.UnknownAgent => ApiError.BadRequest("agent_id", $"User {agentId} is not a known support agent of this tenant."),
            TicketUpdateOutcome.Conflict conflict => ApiError.Conflict(conflict.Field, $"That agent already has an unresolved offline ticket ({conflict.OpenTicketId}): resolve it first."),
            _ => throw new InvalidOperationException("Unhandled ticket outcome."),
        };
    }
}
