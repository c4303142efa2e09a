using Microsoft.AspNetCore.Http.HttpResults;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Changes;

namespace Livechat.Canned;

/// <summary>Contract section 17: the tenant's canned responses, for its agents (tenant users: 403).</summary>
public static class CannedApi
{
    public static RouteGroupBuilder MapCannedResponses(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat/canned-responses").WithTags("Canned responses").RequireTenant(agentsOnly: true);

        group.MapGet("/", ListAsync)
            .WithSummary("The tenant's canned responses in shortcut order; q matches the start of the shortcut or of a word of the title.")
            .WithPageQuery(defaultLimit: 20)
            .WithQuery(new QueryParameter("q", $"Matches the start of the shortcut or of a word of the title (at most {CannedText.MaxQuery} characters)."));
        group.MapPost("/", CreateAsync)
            .WithSummary("Save a canned response; its shortcut is unique in the tenant.");
        group.MapGet("/{id}", GetAsync)
            .WithSummary("One canned response; with session_id, also rendered with that session's values.")
            .WithQuery(new QueryParameter("session_id", "A session whose values fill the response's placeholders (rendered).") { Format = "uuid" });
        group.MapPatch("/{id}", UpdateAsync)
            .WithSummary("Change any of shortcut, title and body.");
        group.MapDelete("/{id}", DeleteAsync)
            .WithSummary("Delete a canned response.");
        return group;
    }

    private static async Task<Results<OkEnvelope<IReadOnlyList<CannedResponse>>, BadRequestError>> ListAsync(HttpRequest request, CurrentUser user, CannedStore canned,
        CancellationToken cancellationToken)
    {
        var query = request.Query["q"].ToString().Trim();
        if (query.Length > CannedText.MaxQuery)
            return ApiError.BadRequest("q", $"q must be at most {CannedText.MaxQuery} characters long.");
        var (page, error) = PageRequest.Parse(request, defaultLimit: 20);
        if (error is not null) return error;
        var result = await canned.ListAsync(user.TenantId, query.Length > 0 ? query : null, page!, cancellationToken);
        return result is null ? ApiError.BadRequest("cursor", "cursor is not a canned response of this tenant.") : ApiResults.Page(result);
    }

    private static async Task<Results<CreatedEnvelope<CannedResponse>, BadRequestError, ConflictError, EmptyHttpResult>> CreateAsync(
        JsonBody<CannedResponseRequest> body, HttpRequest request, CurrentUser user, CannedStore canned, CancellationToken cancellationToken)
    {
        var (fields, error) = ReadFields(body, partial: false);
        if (error is not null) return error;
        return await canned.CreateAsync(user, fields.Shortcut!, fields.Title!, fields.Body!, request.HttpContext.Actor(user), Idempotency.ClaimOf(request), cancellationToken) switch
        {
            Written<CannedResponse?>.Done { Outcome: { } created } => ApiResults.Created(created, "Canned response created."),
            Written<CannedResponse?>.Done => ShortcutTaken(fields.Shortcut!),
            _ => Idempotency.AnsweredFromRecord,
        };
    }

    private static async Task<Results<OkEnvelope<CannedResponse>, BadRequestError, NotFoundError>> GetAsync(string id, HttpRequest request, CurrentUser user,
        CannedStore canned, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var cannedId)) return RouteIds.Malformed();
        var sessionText = request.Query["session_id"].ToString();
        Guid? sessionId = null;
        if (sessionText.Length > 0)
        {
            if (!RouteIds.TryParse(sessionText, out var parsed)) return RouteIds.Malformed("session_id");
            sessionId = parsed;
        }
        var response = await canned.FindAsync(user.TenantId, cannedId, cancellationToken);
        if (response is null) return ApiError.NotFound("Canned response");
        if (sessionId is not { } session) return ApiResults.Ok(response);
        var values = await canned.RenderValuesAsync(user.TenantId, session, cancellationToken);
        return values is null
            ? ApiError.NotFound("Session")
            : ApiResults.Ok(response with { Rendered = CannedText.Render(response.Body, values) });
    }

    private static async Task<Results<OkEnvelope<CannedResponse>, BadRequestError, NotFoundError, ConflictError>> UpdateAsync(string id,
        JsonBody<CannedResponseRequest> body, HttpContext http, CurrentUser user, CannedStore canned, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var cannedId)) return RouteIds.Malformed();
        var (fields, error) = ReadFields(body, partial: true);
        if (error is not null) return error;
        if (fields is { Shortcut: null, Title: null, Body: null })
            return ApiError.BadRequest("body", "Send shortcut, title and/or body.");
        return await canned.UpdateAsync(user.TenantId, cannedId, fields.Shortcut, fields.Title, fields.Body, http.Actor(user), cancellationToken) switch
        {
            CannedUpdateOutcome.Updated updated => ApiResults.Ok(updated.Response, "Canned response updated."),
            CannedUpdateOutcome.NotFound => ApiError.NotFound("Canned response"),
            CannedUpdateOutcome.ShortcutTaken => ShortcutTaken(fields.Shortcut!),
            _ => throw new InvalidOperationException("Unhandled canned response outcome."),
        };
    }

    private static async Task<Results<NoContent, BadRequestError, NotFoundError>> DeleteAsync(string id, HttpContext http, CurrentUser user, CannedStore canned,
        CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var cannedId)) return RouteIds.Malformed();
        return await canned.DeleteAsync(user.TenantId, cannedId, http.Actor(user), cancellationToken) ? TypedResults.NoContent() : ApiError.NotFound("Canned response");
    }

    private static ConflictError ShortcutTaken(string shortcut) =>
        ApiError.Conflict("shortcut", $"The tenant already has a canned response with the shortcut '{shortcut}'.");

    private sealed record CannedFields(string? Shortcut, string? Title, string? Body);

    /// <summary>
    /// The three fields, each checked by its rule; with <paramref name="partial"/> (PATCH) a field may be left out,
    /// but one that is sent obeys the same rule (null included: no field can be emptied).
    /// </summary>
    private static (CannedFields Fields, BadRequestError? Error) ReadFields(JsonBody<CannedResponseRequest> body, bool partial)
    {
        var empty = new CannedFields(null, null, null);
        string? Field(string name) => partial && !body.RootElement.TryGetProperty(name, out _) ? null : body.GetString(name) ?? "";

        var shortcut = Field("shortcut");
        if (shortcut is not null && !CannedText.IsShortcut(shortcut)) return (empty, ApiError.BadRequest("shortcut", CannedText.ShortcutRule));
        var title = Field("title");
        if (title is not null && CannedText.TitleProblem(title) is { } titleProblem) return (empty, ApiError.BadRequest("title", titleProblem));
        var text = Field("body");
        if (text is not null && CannedText.BodyProblem(text) is { } bodyProblem) return (empty, ApiError.BadRequest("body", bodyProblem));
        return (new CannedFields(shortcut, title, text), null);
    }
}
