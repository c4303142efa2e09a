using System.Reflection;
using Livechat.Api;
using Livechat.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace Livechat.Transcripts;

/// <summary>
/// Contract section 19: a session's whole conversation as a download, <c>txt</c>, <c>json</c> or <c>html</c>, streamed
/// as it is read (ADR 0040). Agents of the tenant download any session's, with the internal notes; a tenant user only
/// those of the sessions it started or takes part in, without them. Another tenant's session is not found.
/// </summary>
public static class TranscriptsApi
{
    public static IEndpointRouteBuilder MapTranscripts(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/livechat/sessions/{id}/transcript", GetAsync).WithTags("Transcripts").RequireTenant()
            .WithSummary("The session's whole conversation as a download, oldest first, with names, times in tz (an IANA zone, default UTC) and files by name; "
                + "format=txt (default), json (the envelope with a Transcript) or html. A tenant user's holds no internal note.")
            .WithQuery(new QueryParameter("format", "txt (default), json or html.") { Values = [TranscriptRequest.Text, TranscriptRequest.Json, TranscriptRequest.Html] },
                new QueryParameter("tz", "The IANA time zone of the times shown, such as Asia/Jakarta; UTC by default."))
            // A long session to a slow client takes longer than an API call; Kestrel's minimum data rate still drops a client that stalls.
            .DisableRequestTimeout();
        return routes;
    }

    private static async Task<Results<TranscriptDownload, BadRequestError, ForbiddenError, NotFoundError>> GetAsync(string id, HttpRequest request, CurrentUser user,
        TranscriptStore transcripts, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        var (wanted, error) = TranscriptRequest.Parse(request.Query);
        if (error is not null) return error;
        return await transcripts.OpenAsync(user, sessionId, cancellationToken) switch
        {
            TranscriptOutcome.Found found => new TranscriptDownload(wanted!, found, user),
            TranscriptOutcome.SessionNotFound => ApiError.NotFound("Session"),
            TranscriptOutcome.NotAParticipant => ApiError.Forbidden("Only the session's participants and the tenant's agents may download its transcript."),
            _ => throw new InvalidOperationException("Unhandled transcript outcome."),
        };
    }
}

/// <summary>
/// 200 with the transcript as a download (<c>Content-Disposition: attachment</c>, a file name made of the session id
/// alone), written page by page as the store reads them.
/// </summary>
public sealed class TranscriptDownload(TranscriptRequest request, TranscriptOutcome.Found found, CurrentUser caller)
    : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var cancellationToken = httpContext.RequestAborted;
        var store = httpContext.RequestServices.GetRequiredService<TranscriptStore>();
        await using var writer = TranscriptWriter.For(request, found.Session, httpContext, caller.IsAgent);
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = writer.ContentType;
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName($"transcript-{found.Session.Id}.{request.Format}");
        response.Headers.ContentDisposition = disposition.ToString();
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-store";
        // Opened in the browser rather than saved, the HTML may show its styles and nothing else: no script, no request.
        if (request.Format == TranscriptRequest.Html) response.Headers.ContentSecurityPolicy = "sandbox; default-src 'none'; style-src 'unsafe-inline'";

        await writer.BeginAsync(cancellationToken);
        // The messages there were when it was asked for: one sent meanwhile is in the next transcript.
        for (var after = 0L; after < found.LastSeq;)
        {
            var (messages, last) = await store.PageAsync(caller, found.Session.Id, after, found.LastSeq, request, cancellationToken);
            if (messages.Count == 0) break; // the rest are notes a tenant user does not read
            await writer.WritePageAsync(messages, cancellationToken);
            after = last;
        }
        await writer.EndAsync(cancellationToken);
    }

    private static readonly string[] JsonType = ["application/json"];

    // format=json is the envelope with a Transcript; txt and html are text.
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(ApiResponse<Transcript>), JsonType));
        builder.Metadata.Add(new AlsoProducesText("text/plain", "text/html"));
    }
}
