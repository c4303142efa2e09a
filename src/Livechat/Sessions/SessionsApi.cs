using Microsoft.OpenApi;
using System.Globalization;
using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Livechat.Sessions;

public static class SessionsApi
{
    public static RouteGroupBuilder MapSessions(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat/sessions").WithTags("Sessions").RequireTenant();

        group.MapPost("/", StartAsync)
            .WithSummary("Start a chat session: with the named agent, the calling agent, or (a tenant user without agent_id) routed or queued; a tenant user with an open routed session gets it back (200).");
        group.MapGet("/", ListAsync)
            .WithSummary("The tenant's sessions, newest first, with cursor pagination; status filters OPEN or CLOSED. Each carries the caller's unread_count and its last_message.")
            .WithPageQuery(defaultLimit: 20)
            .WithQuery(new QueryParameter("status", "Only the sessions with this status.") { Values = [SessionStatus.Open, SessionStatus.Closed] },
                new QueryParameter("agent_id", "Only the sessions of this agent: a user id, or me."),
                new QueryParameter("customer_id", "Only the sessions this tenant user started.", JsonSchemaType.Integer) { Format = "int64" },
                new QueryParameter("label", "Only the sessions that carry this label."),
                new QueryParameter("queued", "true: only the sessions waiting in the queue; false: only the others.", JsonSchemaType.Boolean),
                new QueryParameter("from", "Only the sessions created at or after this RFC 3339 time (with its offset).") { Format = "date-time" },
                new QueryParameter("to", "Only the sessions created before this RFC 3339 time (with its offset).") { Format = "date-time" });
        group.MapGet("/{id}", GetAsync)
            .WithSummary("One session of the tenant, with the caller's unread_count and its last_message.");
        group.MapPatch("/{id}", UpdateAsync)
            .WithSummary("Close a session ({\"status\":\"CLOSED\"}); closing twice is fine, reopening is refused.")
            .AgentsOnly();
        group.MapPost("/{id}/rating", RateAsync)
            .WithSummary("The customer's satisfaction rating of its closed session: score 1..5 and an optional comment (at most 1,000 characters); once.");
        return group;
    }

    private static async Task<Results<CreatedEnvelope<ChatSession>, OkEnvelope<ChatSession>, BadRequestError, EmptyHttpResult>> StartAsync(
        JsonBody<StartSessionRequest> body, HttpRequest request, CurrentUser user, SessionStore sessions, CancellationToken cancellationToken)
    {
        long? agentId = null;
        if (!body.RootElement.TryGetProperty("agent_id", out var agent) || agent.ValueKind == JsonValueKind.Null)
        {
            // An agent without agent_id starts a session for itself; a tenant user's start is routed (contract 10).
            if (user.IsAgent) agentId = user.UserId;
        }
        else if (agent.ValueKind != JsonValueKind.Number || !agent.TryGetInt64(out var named) || named <= 0)
        {
            return ApiError.BadRequest("agent_id", "agent_id must be a positive integer.");
        }
        else
        {
            agentId = named;
        }

        var written = await sessions.StartAsync(user, agentId, Idempotency.ClaimOf(request), cancellationToken);
        return written.OutcomeOrNull() switch
        {
            null => Idempotency.AnsweredFromRecord,
            StartOutcome.Started { Session.QueuePosition: { } position } queued =>
                ApiResults.Created(queued.Session, $"Every support agent is busy: the chat waits in the queue at position {position}."),
            StartOutcome.Started started => ApiResults.Created(started.Session, "Session started."),
            StartOutcome.AlreadyOpen { Session.QueuePosition: { } waiting } open =>
                ApiResults.Ok(open.Session, $"You already have an open chat: it waits in the queue at position {waiting}."),
            StartOutcome.AlreadyOpen open => ApiResults.Ok(open.Session, "You already have an open chat: here it is."),
            StartOutcome.UnknownAgent => ApiError.BadRequest("agent_id", $"User {agentId} is not a known support agent of this tenant."),
            StartOutcome.AgentUnavailable { AgentId: null } unavailable =>
                ApiError.BadRequest("agent_id", "No support agent is online: a support ticket was opened instead.") with { TicketId = unavailable.TicketId },
            StartOutcome.AgentUnavailable unavailable =>
                ApiError.BadRequest("agent_id", $"Agent {agentId} is {unavailable.Presence.ToLowerInvariant()}: a support ticket was opened instead.")
                    with { TicketId = unavailable.TicketId },
            StartOutcome.AtCapacity full =>
                ApiError.BadRequest("agent_id", $"Agent {agentId} is at capacity (its maximum of open sessions): close one, or raise max_sessions.")
                    with { SessionId = full.SessionId },
            _ => throw new InvalidOperationException("Unhandled start outcome."),
        };
    }

    private static async Task<Results<OkEnvelope<IReadOnlyList<ChatSession>>, BadRequestError>> ListAsync(HttpRequest request, CurrentUser user, SessionStore sessions,
        CancellationToken cancellationToken)
    {
        var (filter, filterError) = ReadFilter(request.Query, user);
        if (filterError is not null) return filterError;
        var (page, error) = PageRequest.Parse(request, defaultLimit: 20);
        if (error is not null) return error;
        var result = await sessions.ListAsync(user, filter!, page!, cancellationToken);
        return result is null ? ApiError.BadRequest("cursor", "cursor is not a session of this tenant.") : ApiResults.Page(result);
    }

    /// <summary>An RFC 3339 time in the query, or null when the key is absent or empty; false when it is not one.</summary>
    private static bool TryReadTime(IQueryCollection query, string key, out DateTimeOffset? time)
    {
        time = null;
        var text = query[key].ToString();
        if (text.Length == 0) return true;
        if (!Rfc3339.TryParse(text, out var at)) return false;
        time = at;
        return true;
    }

    private static BadRequestError TimeError(string key) =>
        ApiError.BadRequest(key, $"{key} must be an RFC 3339 time with its offset, such as 2026-12-01T08:00:00+07:00.");

    /// <summary>The list's filters (contract section 18); each refused value is a 400 on its own key. Search (section 19) takes them too.</summary>
    public static (SessionFilter? Filter, BadRequestError? Error) ReadFilter(IQueryCollection query, CurrentUser user)
    {
        var filter = new SessionFilter();
        var status = query["status"].ToString();
        if (status.Length > 0)
        {
            if (status is not (SessionStatus.Open or SessionStatus.Closed)) return (null, ApiError.BadRequest("status", "status must be OPEN or CLOSED."));
            filter = filter with { Status = status };
        }
        var agent = query["agent_id"].ToString();
        if (agent.Length > 0)
        {
            if (agent == "me") filter = filter with { AgentId = user.UserId };
            else if (long.TryParse(agent, NumberStyles.None, CultureInfo.InvariantCulture, out var agentId) && agentId > 0) filter = filter with { AgentId = agentId };
            else return (null, ApiError.BadRequest("agent_id", "agent_id must be a positive integer or me."));
        }
        var customer = query["customer_id"].ToString();
        if (customer.Length > 0)
        {
            if (!long.TryParse(customer, NumberStyles.None, CultureInfo.InvariantCulture, out var customerId) || customerId <= 0)
                return (null, ApiError.BadRequest("customer_id", "customer_id must be a positive integer."));
            filter = filter with { CustomerId = customerId };
        }
        if (query.ContainsKey("label"))
        {
            if (SessionLabels.Normalise(query["label"].ToString()) is not { } label)
                return (null, ApiError.BadRequest("label", SessionLabels.Rule));
            filter = filter with { Label = label };
        }
        var queued = query["queued"].ToString();
        if (queued.Length > 0)
        {
            if (queued is not ("true" or "false")) return (null, ApiError.BadRequest("queued", "queued must be true or false."));
            filter = filter with { Queued = queued == "true" };
        }
        if (!TryReadTime(query, "from", out var from)) return (null, TimeError("from"));
        if (!TryReadTime(query, "to", out var to)) return (null, TimeError("to"));
        if (from is { } start && to is { } end && end <= start) return (null, ApiError.BadRequest("to", "to must be after from."));
        filter = filter with { From = from, To = to };
        return (filter, null);
    }

    private static async Task<Results<OkEnvelope<ChatSession>, BadRequestError, NotFoundError>> GetAsync(string id, CurrentUser user, SessionStore sessions,
        CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        var session = await sessions.FindForAsync(user, sessionId, cancellationToken);
        return session is null ? ApiError.NotFound("Session") : ApiResults.Ok(session);
    }

    private static async Task<Results<OkEnvelope<ChatSession>, BadRequestError, NotFoundError>> UpdateAsync(string id, JsonBody<UpdateSessionRequest> body,
        CurrentUser user, SessionStore sessions, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        var wanted = body.GetString("status");
        if (wanted is not (SessionStatus.Open or SessionStatus.Closed))
            return ApiError.BadRequest("status", "status must be CLOSED (or OPEN for a session that is open).");
        if (wanted == SessionStatus.Open)
        {
            var current = await sessions.FindAsync(user.TenantId, sessionId, cancellationToken);
            if (current is null) return ApiError.NotFound("Session");
            return current.Status == SessionStatus.Open
                ? ApiResults.Ok(current, "The session is open.")
                : ApiError.BadRequest("status", "A closed session cannot be reopened: start a new one.");
        }
        var closed = await sessions.CloseAsync(user.TenantId, sessionId, cancellationToken);
        if (closed is null) return ApiError.NotFound("Session");
        return ApiResults.Ok(closed.Value.Session, closed.Value.Changed ? "Session closed." : "The session was already closed.");
    }

    private static async Task<Results<CreatedEnvelope<Rating>, BadRequestError, ForbiddenError, NotFoundError, ConflictError, EmptyHttpResult>> RateAsync(
        string id, JsonBody<RateSessionRequest> body, HttpRequest request, CurrentUser user, SessionStore sessions, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        int score;
        string? comment = null;
        {
            var root = body.RootElement;
            if (!root.TryGetProperty("score", out var scoreValue) || scoreValue.ValueKind != JsonValueKind.Number
                || !scoreValue.TryGetInt32(out score) || score is < 1 or > 5)
                return ApiError.BadRequest("score", "score must be an integer from 1 to 5.");
            if (root.TryGetProperty("comment", out var commentValue) && commentValue.ValueKind != JsonValueKind.Null)
            {
                if (commentValue.ValueKind != JsonValueKind.String)
                    return ApiError.BadRequest("comment", "comment must be a string.");
                comment = commentValue.GetString()!;
                if (CommentProblem(comment) is { } problem) return ApiError.BadRequest("comment", problem);
                if (string.IsNullOrWhiteSpace(comment)) comment = null; // nothing said: no comment
            }
        }

        var written = await sessions.RateAsync(user, sessionId, score, comment, Idempotency.ClaimOf(request), cancellationToken);
        return written.OutcomeOrNull() switch
        {
            null => Idempotency.AnsweredFromRecord,
            RateOutcome.Rated rated => ApiResults.Created(rated.Rating, "Thank you for your rating."),
            RateOutcome.SessionNotFound => ApiError.NotFound("Session"),
            RateOutcome.NotTheCustomer => ApiError.Forbidden("Only the customer who started the session may rate it."),
            RateOutcome.StillOpen => ApiError.Conflict("status", "The session is still open: it can be rated once it is closed."),
            RateOutcome.AlreadyRated => ApiError.Conflict("request", "The session is already rated: a session is rated once."),
            _ => throw new InvalidOperationException("Unhandled rating outcome."),
        };
    }

    /// <summary>
    /// Why a rating's comment is refused, or null. Length counts Unicode characters (an emoji is one); control
    /// characters other than tab and line breaks are refused, as in a message (PostgreSQL cannot store NUL).
    /// </summary>
    private static string? CommentProblem(string comment)
    {
        var characters = 0;
        for (var i = 0; i < comment.Length; i++)
        {
            var c = comment[i];
            if (char.IsHighSurrogate(c) && i + 1 < comment.Length && char.IsLowSurrogate(comment[i + 1])) i++;
            else if (char.IsSurrogate(c)) return "comment must be valid Unicode text.";
            else if (char.IsControl(c) && c is not ('\t' or '\n' or '\r')) return "comment must not contain control characters.";
            if (++characters > RatingRules.MaxCommentLength) return $"comment must be at most {RatingRules.MaxCommentLength} characters long.";
        }
        return null;
    }
}
