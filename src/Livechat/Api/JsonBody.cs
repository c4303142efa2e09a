using System.Text.Json;

namespace Livechat.Api;

/// <summary>
/// Reads a request body as a JSON object. We parse by hand instead of binding to a record so that every
/// wrong input gets a precise, field-named 400 in the envelope (the framework's binder would answer with
/// its own messages and shapes), and so that server-owned fields in the body are simply never read.
/// </summary>
public static class JsonBody
{
    // A property named twice is ambiguous (which one counts depends on the reader): refuse it.
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 32, AllowDuplicateProperties = false };

    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return false;
        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// JSON is UTF-8 (RFC 8259) and is read as UTF-8: a body declared as another charset would be read as
    /// something it says it is not, so only <c>charset=utf-8</c> (or none) is accepted.
    /// </summary>
    public static bool IsUtf8(string contentType)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var parsed)) return false;
        return parsed.Parameters.Where(p => p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase))
            .All(p => Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(p.Value).Equals("utf-8", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The body as a JSON object, or the envelope error (415, 400) that explains why not.</summary>
    public static async Task<(JsonDocument? Document, ApiError? Error)> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJson(request.ContentType))
            return (null, ApiError.ForStatus(StatusCodes.Status415UnsupportedMediaType));
        if (!IsUtf8(request.ContentType!))
            return (null, ApiError.Field(StatusCodes.Status415UnsupportedMediaType, "body", "The request body must be JSON in UTF-8: send charset=utf-8 or no charset."));
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, ParseOptions, cancellationToken);
        }
        catch (JsonException)
        {
            return (null, ApiError.BadRequest("body", "The request body is not valid JSON, or names a property more than once."));
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, ApiError.BadRequest("body", "The request body must be a JSON object."));
        }
        return (document, null);
    }

    /// <summary>
    /// The property as a string, or null when it is missing, not a string, or not valid Unicode (invalid
    /// UTF-8 or a lone surrogate escape, which <see cref="JsonElement.GetString"/> would throw on).
    /// </summary>
    public static string? GetString(this JsonDocument document, string property)
    {
        if (!document.RootElement.TryGetProperty(property, out var value) || value.ValueKind != JsonValueKind.String) return null;
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
