using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Sessions;

namespace Livechat.Labels;

/// <summary>Contract section 18: an agent labels a session; the tenant's labels with their counts. Tenant users: 403.</summary>
public static class LabelsApi
{
    public static IEndpointRouteBuilder MapLabels(this IEndpointRouteBuilder routes)
    {
        routes.MapPut("/livechat/sessions/{id}/labels", ReplaceAsync).WithTags("Labels").RequireTenant(agentsOnly: true)
            .WithSummary("Replace a session's labels (at most 10; lower-case letters, digits, '_' and '-'; merged and sorted); raises sessionUpdated when they change.");
        routes.MapGet("/livechat/labels", ListAsync).WithTags("Labels").RequireTenant(agentsOnly: true)
            .WithSummary("The tenant's labels in order, each with the number of sessions that carry it.");
        return routes;
    }

    private static async Task<Results<OkEnvelope<ChatSession>, BadRequestError, NotFoundError>> ReplaceAsync(string id, JsonBody<ReplaceLabelsRequest> body,
        LabelStore labels, CurrentUser user, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        var (wanted, error) = Read(body.RootElement);
        if (error is not null) return error;
        var session = await labels.ReplaceAsync(user.TenantId, sessionId, wanted!, cancellationToken);
        return session is null ? ApiError.NotFound("Session") : ApiResults.Ok(session, "Labels saved.");
    }

    private static async Task<OkEnvelope<IReadOnlyList<TenantLabel>>> ListAsync(LabelStore labels, CurrentUser user, CancellationToken cancellationToken) =>
        ApiResults.Ok<IReadOnlyList<TenantLabel>>(await labels.ListAsync(user.TenantId, cancellationToken));

    /// <summary>The body's labels, normalised, merged and sorted, or the 400 that says what is wrong with them.</summary>
    private static (IReadOnlyList<string>? Labels, BadRequestError? Error) Read(JsonElement root)
    {
        if (!root.TryGetProperty("labels", out var array) || array.ValueKind != JsonValueKind.Array)
            return (null, ApiError.BadRequest("labels", "labels must be an array of strings (an empty one removes them all)."));
        var labels = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || SessionLabels.Normalise(item.GetString()!) is not { } label)
                return (null, ApiError.BadRequest("labels", $"{Shown(item)} is not a label. {SessionLabels.Rule}"));
            labels.Add(label);
        }
        if (labels.Count > SessionLabels.MaxPerSession)
            return (null, ApiError.BadRequest("labels", $"A session has at most {SessionLabels.MaxPerSession} labels; these are {labels.Count}."));
        return ([.. labels], null);
    }

    // What the caller sent, short enough for a message (a label is at most 32 characters).
    private static string Shown(JsonElement item)
    {
        var text = item.GetRawText();
        return text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
    }
}
