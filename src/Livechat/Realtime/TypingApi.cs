using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Livechat.Realtime;

/// <summary>
/// Contract section 11: <c>POST /livechat/sessions/{id}/typing</c>, typing for clients without the hub. Typing is
/// realtime only (never stored), so it lives here with its indicators and the hub method.
/// </summary>
public static class TypingApi
{
    public static RouteHandlerBuilder MapTyping(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/livechat/sessions/{id}/typing", TypingAsync)
            .WithTags("Sessions")
            .RequireTenant()
            .WithSummary("Say the caller is typing (or stopped) in the session; the others get a typing event. Never stored.");

    private static async Task<Results<AcceptedEnvelope<TypingPayload>, BadRequestError, NotFoundError, ConflictError>> TypingAsync(string id,
        JsonBody<TypingRequest> body, CurrentUser user, SessionStore sessions, TypingIndicators typing, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        if (!body.RootElement.TryGetProperty("is_typing", out var value) || value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            return ApiError.BadRequest("is_typing", "is_typing is required and must be true or false.");
        var isTyping = value.GetBoolean();
        var session = await sessions.FindAsync(user.TenantId, sessionId, cancellationToken);
        if (session is null) return ApiError.NotFound("Session");
        if (session.Status == SessionStatus.Closed) return ApiError.Conflict("status", TypingIndicators.ClosedSession);
        typing.Report(user.TenantId, sessionId, user.UserId, isTyping);
        return ApiResults.Accepted(new TypingPayload(sessionId, user.UserId, isTyping), "Typing noted.");
    }
}

public sealed record TypingRequest(bool IsTyping);
