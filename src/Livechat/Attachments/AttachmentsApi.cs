using Livechat.Messages;
using Livechat.Api;
using Livechat.Auth;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Livechat.Attachments;

/// <summary>Contract section 15: staged uploads, reading them, their signed downloads, deleting them.</summary>
public static class AttachmentsApi
{
    /// <summary>Room in a body for the multipart framing around the file (boundaries, part headers, small fields).</summary>
    public const long MultipartSlack = 64 * 1024;

    public static IEndpointRouteBuilder MapAttachments(this IEndpointRouteBuilder routes)
    {
        // The body is read by hand as a stream: the handler binds no form (no IFormFile), so nothing buffers it.
        routes.MapPost("/livechat/sessions/{id}/attachments", UploadAsync)
            .WithTags("Attachments").RequireTenant()
            .WithSummary("Upload one file (multipart/form-data, one file part named file) to an open session; it stays staged until a message takes it.")
            // No Accepts<IFormFile>: its content-type matching would answer a JSON body with the framework's 415
            // ("must be application/json"); the handler's own 415 names the file.
            .Produces<ApiResponse<Attachment>>(StatusCodes.Status201Created)
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound)
            .Produces<ApiResponse<object>>(StatusCodes.Status409Conflict)
            .Produces<ApiResponse<object>>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ApiResponse<object>>(StatusCodes.Status415UnsupportedMediaType)
            // A 10 MiB upload from a slow phone takes longer than an API call; Kestrel's minimum data rate still
            // drops a client that stalls.
            .DisableRequestTimeout()
            .WithMetadata(new StreamedBody());

        var group = routes.MapGroup("/livechat/attachments").WithTags("Attachments");
        group.MapGet("/{id}", GetAsync).RequireTenant()
            .WithSummary("An attachment with a fresh download url: its uploader while staged, the session's participants once sent.")
            .Produces<ApiResponse<Attachment>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", DeleteAsync).RequireTenant()
            .WithSummary("Delete one of your staged uploads (409 once a message carries it).")
            .Produces(StatusCodes.Status204NoContent)
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound)
            .Produces<ApiResponse<object>>(StatusCodes.Status409Conflict);
        // No Authorization: the signature is the credential, so an <img src> can show it. Like health, it stays out
        // of the OpenAPI document, whose operations all take a token (the security suite holds it to that); the
        // links come ready-made in Attachment.url.
        group.MapGet("/{id}/content", ContentAsync).ExcludeFromDescription();
        return routes;
    }

    private static ApiError FileError(int status, string message) => ApiError.Field(status, "file", message);

    private static async Task<IResult> UploadAsync(string id, HttpContext http, CurrentUser user, AttachmentStore store, IAttachmentBytes bytes,
        IOptions<AttachmentOptions> options, SignedUrls urls, AttachmentScanner scanner, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var sessionId)) return RouteIds.Malformed();
        var limits = options.Value;
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 and <= 70 } boundary)
            return FileError(StatusCodes.Status415UnsupportedMediaType, "The upload must be multipart/form-data with one file part named file.");
        switch (await store.AccessAsync(user, sessionId, cancellationToken))
        {
            case SessionAccess.NotFound: return ApiError.NotFound("Session");
            case SessionAccess.NotParticipant: return ApiError.Forbidden("Only the session's agents and the tenant user who takes part may upload to it.");
            case SessionAccess.Closed: return ApiError.Conflict("request", "The session is closed.");
        }
        var tooLarge = FileError(StatusCodes.Status413PayloadTooLarge, $"A file may be at most {limits.MaxBytes} bytes.");
        // Declared too large: refused before a byte of the body is read.
        if (http.Request.ContentLength > limits.MaxBytes + MultipartSlack) return tooLarge;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
            bodyLimit.MaxRequestBodySize = limits.MaxBytes + MultipartSlack;

        var attachmentId = Guid.CreateVersion7(time.GetUtcNow());
        var kept = false;
        var stored = false;
        try
        {
            // 64 KiB reads (the default is 4 KiB): a 10 MiB file in 160 reads, each hashed and written through, not 2,560.
            var reader = new MultipartReader(boundary, http.Request.Body, 64 * 1024) { HeadersLengthLimit = 16 * 1024, HeadersCountLimit = 16 };
            UploadStream? file = null;
            string? fileName = null;
            MultipartSection? section;
            while ((section = await reader.ReadNextSectionAsync(cancellationToken)) is not null)
            {
                var disposition = section.GetContentDispositionHeader();
                if (disposition is null || !disposition.IsFileDisposition()) continue; // a plain field: read past (the reader drains it)
                if (file is not null) return FileError(StatusCodes.Status400BadRequest, "Send exactly one file part.");
                if (!string.Equals(HeaderUtilities.RemoveQuotes(disposition.Name).Value, "file", StringComparison.Ordinal))
                    return FileError(StatusCodes.Status400BadRequest, "The file part must be named file.");
                fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                file = new UploadStream(section.Body, limits.MaxBytes);
                await bytes.WriteAsync(user.TenantId, attachmentId, file, cancellationToken);
                stored = true;
            }
            if (file is null) return FileError(StatusCodes.Status400BadRequest, "Send one file part named file.");
            using (file)
            {
                if (file.Length64 == 0) return FileError(StatusCodes.Status400BadRequest, "The file is empty.");
                var zip = FileTypes.IsZip(file.Prefix) ? await bytes.OpenReadAsync(user.TenantId, attachmentId, cancellationToken) : null;
                var type = FileTypes.Detect(file.Prefix, file.IsText, fileName ?? "", zip);
                if (type is null || !limits.Allowed.Contains(type))
                    return FileError(StatusCodes.Status400BadRequest,
                        $"This type of file is not accepted; allowed: {string.Join(", ", limits.Allowed)} (decided from the file's content).");

                var attachment = new Attachment(attachmentId, sessionId, user.UserId, FileTypes.SanitizeFileName(fileName), type, file.Length64, file.Sha256,
                    scanner.Enabled ? AttachmentStatus.Scanning : AttachmentStatus.Ready, time.GetUtcNow());
                switch (await store.RecordAsync(user, attachment, limits.TenantQuotaBytes, cancellationToken))
                {
                    case RecordOutcome.Recorded:
                        kept = true;
                        break;
                    case RecordOutcome.OverQuota:
                        return FileError(StatusCodes.Status409Conflict, $"The tenant's attachments would exceed its quota of {limits.TenantQuotaBytes} bytes: delete some first.");
                    case RecordOutcome.Refused { Access: SessionAccess.Closed }:
                        return ApiError.Conflict("request", "The session is closed.");
                    default:
                        return ApiError.NotFound("Session");
                }
                if (scanner.Enabled) scanner.Wake();
                return ApiResults.Created(WithUrl(user.TenantId, attachment, urls), scanner.Enabled ? "Uploaded; scanning." : "Uploaded.");
            }
        }
        catch (FileTooLargeException)
        {
            return tooLarge;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return tooLarge;
        }
        catch (InvalidDataException e)
        {
            return ApiError.BadRequest("body", $"The multipart body is malformed: {e.Message}");
        }
        finally
        {
            // Whatever refused the upload, or the client going away, leaves no bytes behind.
            if (stored && !kept) await bytes.DeleteAsync(user.TenantId, attachmentId, CancellationToken.None);
        }
    }

    internal static Attachment WithUrl(long tenantId, Attachment attachment, SignedUrls urls) =>
        attachment.Status == AttachmentStatus.Ready ? attachment with { Url = urls.UrlFor(tenantId, attachment.Id) } : attachment;

    private static async Task<IResult> GetAsync(string id, CurrentUser user, AttachmentStore store, SignedUrls urls, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var attachmentId)) return RouteIds.Malformed();
        var row = await store.FindForAsync(user, attachmentId, cancellationToken);
        return row is null ? ApiError.NotFound("Attachment") : ApiResults.Ok(WithUrl(row.TenantId, row.Attachment, urls));
    }

    private static async Task<IResult> DeleteAsync(string id, CurrentUser user, AttachmentStore store, IAttachmentBytes bytes, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var attachmentId)) return RouteIds.Malformed();
        switch (await store.DeleteStagedAsync(user, attachmentId, cancellationToken))
        {
            case DeleteOutcome.Deleted:
                await bytes.DeleteAsync(user.TenantId, attachmentId, CancellationToken.None);
                return Results.NoContent();
            case DeleteOutcome.Sent:
                return ApiError.Conflict("request", "A message carries this attachment: it can no longer be deleted.");
            default:
                return ApiError.NotFound("Attachment");
        }
    }

    private static async Task<IResult> ContentAsync(string id, HttpContext http, AttachmentStore store, IAttachmentBytes bytes, SignedUrls urls,
        CancellationToken cancellationToken)
    {
        IResult refused = ApiError.Forbidden("This download link is not valid or has expired: ask for a fresh one (GET /livechat/attachments/{id}).");
        if (!Guid.TryParse(id, out var attachmentId)) return refused;
        var row = await store.FindAnywhereAsync(attachmentId, cancellationToken);
        // An unknown id answers as a bad signature does: the link tells nobody whether an attachment exists.
        if (row is null || !urls.Verify(row.TenantId, attachmentId, http.Request.Query["expires"].ToString(), http.Request.Query["sig"].ToString()))
            return refused;
        var attachment = row.Attachment;
        if (attachment.Status != AttachmentStatus.Ready
            || await bytes.OpenReadAsync(row.TenantId, attachmentId, cancellationToken) is not { } content)
            return ApiError.NotFound("Attachment");

        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "sandbox";
        headers.CacheControl = "private, max-age=300";
        var disposition = new ContentDispositionHeaderValue(FileTypes.IsInline(attachment.ContentType) ? "inline" : "attachment");
        disposition.SetHttpFileName(attachment.FileName);
        headers.ContentDisposition = disposition.ToString();
        var type = attachment.ContentType.StartsWith("text/", StringComparison.Ordinal) ? attachment.ContentType + "; charset=utf-8" : attachment.ContentType;
        return Results.Stream(content, type, lastModified: attachment.CreatedAt, entityTag: new EntityTagHeaderValue($"\"{attachment.Sha256}\""),
            enableRangeProcessing: true);
    }
}
