using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;

namespace Livechat.Tickets;

public static class TicketsApi
{
    public static RouteGroupBuilder MapTickets(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/tickets").WithTags("Tickets").RequireTenant(agentsOnly: true);

        group.MapGet("/", ListAsync)
            .WithSummary("The tenant's support tickets, newest first; status filters open, in_progress, resolved or closed.")
            .Produces<ApiResponse<Ticket[]>>();
        group.MapGet("/{id}", GetAsync)
            .WithSummary("One ticket of the tenant.")
            .Produces<ApiResponse<Ticket>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        group.MapPatch("/{id}", UpdateAsync)
            .WithSummary("Change a ticket's status and/or assigned agent (agent_id: null unassigns).")
            .Accepts<UpdateTicketRequest>("application/json")
            .Produces<ApiResponse<Ticket>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound)
            .Produces<ApiResponse<object>>(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<IResult> ListAsync(HttpRequest request, CurrentUser user, TicketStore tickets, CancellationToken cancellationToken)
    {
        var status = request.Query["status"].ToString();
        if (status.Length > 0 && !TicketStatus.IsValid(status))
            return ApiResults.Error(ApiError.BadRequest("status", "status must be open, in_progress, resolved or closed."));
        var (page, error) = PageRequest.Parse(request, defaultLimit: 20);
        if (error is not null) return ApiResults.Error(error);
        var result = await tickets.ListAsync(user.TenantId, status.Length > 0 ? status : null, page!, cancellationToken);
        return result is null ? ApiResults.Error(ApiError.BadRequest("cursor", "cursor is not a ticket of this tenant.")) : ApiResults.Page(result);
    }

    private static async Task<IResult> GetAsync(string id, CurrentUser user, TicketStore tickets, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var ticketId)) return ApiResults.Error(RouteIds.Malformed());
        var ticket = await tickets.FindAsync(user.TenantId, ticketId, cancellationToken);
        return ticket is null ? ApiResults.Error(ApiError.NotFound("Ticket")) : ApiResults.Ok(ticket);
    }

    private static async Task<IResult> UpdateAsync(string id, HttpRequest request, CurrentUser user, TicketStore tickets, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var ticketId)) return ApiResults.Error(RouteIds.Malformed());
        var (body, error) = await JsonBody.ReadObjectAsync(request, cancellationToken);
        if (error is not null) return ApiResults.Error(error);
        string? status = null;
        long? agentId = null;
        bool setAgent;
        using (body)
        {
            var root = body!.RootElement;
            if (root.TryGetProperty("status", out _))
            {
                status = body.GetString("status");
                if (status is null || !TicketStatus.IsValid(status))
                    return ApiResults.Error(ApiError.BadRequest("status", "status must be open, in_progress, resolved or closed."));
            }
            setAgent = root.TryGetProperty("agent_id", out var agentValue);
            if (setAgent && agentValue.ValueKind != JsonValueKind.Null)
            {
                if (agentValue.ValueKind != JsonValueKind.Number || !agentValue.TryGetInt64(out var agent) || agent <= 0)
                    return ApiResults.Error(ApiError.BadRequest("agent_id", "agent_id must be a positive integer or null."));
                agentId = agent;
            }
        }
        if (status is null && !setAgent)
            return ApiResults.Error(ApiError.BadRequest("body", "Send status and/or agent_id."));

        return await tickets.UpdateAsync(user.TenantId, ticketId, status, setAgent, agentId, cancellationToken) switch
        {
            TicketUpdateOutcome.Updated updated => ApiResults.Ok(updated.Ticket, "Ticket updated."),
            TicketUpdateOutcome.NotFound => ApiResults.Error(ApiError.NotFound("Ticket")),
            TicketUpdateOutcome.UnknownAgent => ApiResults.Error(ApiError.BadRequest("agent_id", $"User {agentId} is not a known support agent of this tenant.")),
            TicketUpdateOutcome.Conflict conflict => ApiResults.Error(ApiError.Conflict(conflict.Field, $"That agent already has an unresolved offline ticket ({conflict.OpenTicketId}): resolve it first.")),
            _ => throw new InvalidOperationException("Unhandled ticket outcome."),
        };
    }
}
