using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Sessions;

namespace Livechat.Search;

/// <summary>Contract section 19: search the tenant's messages (agents), or the caller's own conversations (tenant users).</summary>
public static class SearchApi
{
    public static IEndpointRouteBuilder MapSearch(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/livechat/search", SearchAsync).WithTags("Search").RequireTenant()
            .WithSummary("Messages that hold every word of q (the last one also as a prefix; a quoted phrase in order), newest first, each with its session and "
                + "its text with the matches in <mark>. Agents search the tenant; a tenant user its own conversations, without notes.")
            .WithPageQuery(defaultLimit: 20)
            .WithQuery(new QueryParameter("q", $"What to find: 1 to {SearchQuery.MaxLength} characters; words, and phrases in double quotes (docs/search.md).", Required: true),
                new QueryParameter("session_id", "Only the messages of this session.") { Format = "uuid" },
                new QueryParameter("agent_id", "Only in the sessions of this agent: a user id, or me."),
                new QueryParameter("customer_id", "Only in the sessions this tenant user started.", JsonSchemaType.Integer) { Format = "int64" },
                new QueryParameter("label", "Only in the sessions that carry this label."),
                new QueryParameter("from", "Only the messages sent at or after this RFC 3339 time (with its offset).") { Format = "date-time" },
                new QueryParameter("to", "Only the messages sent before this RFC 3339 time (with its offset).") { Format = "date-time" });
        return routes;
    }

    private static async Task<Results<OkEnvelope<IReadOnlyList<SearchHit>>, BadRequestError>> SearchAsync(HttpRequest request, CurrentUser user, SearchStore search,
        CancellationToken cancellationToken)
    {
        var (query, problem) = SearchQuery.Parse(request.Query.ContainsKey("q") ? request.Query["q"].ToString() : null);
        if (problem is not null) return ApiError.BadRequest("q", problem);
        var (filter, filterError) = SessionsApi.ReadFilter(request.Query, user);
        if (filterError is not null) return filterError;
        Guid? sessionId = null;
        var session = request.Query["session_id"].ToString();
        if (session.Length > 0)
        {
            if (!RouteIds.TryParse(session, out var id)) return ApiError.BadRequest("session_id", "session_id must be a session id (a UUID).");
            sessionId = id;
        }
        var (page, pageError) = PageRequest.Parse(request, defaultLimit: 20);
        if (pageError is not null) return pageError;
        // The list's from/to are on a session's start; a search's are on the message's own time.
        var scope = new SearchScope(filter! with { From = null, To = null }, sessionId, filter!.From, filter.To);
        var hits = await search.SearchAsync(user, query!, scope, page!, cancellationToken);
        return hits is null ? ApiError.BadRequest("cursor", "cursor is not a message this search can return.") : ApiResults.Page(hits);
    }
}
