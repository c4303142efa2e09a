using System.Text.Json;

namespace Livechat.Api;

/// <summary>
/// Reads a request body as a JSON object. We parse by hand instead of binding to a record so that every
/// wrong input gets a precise, field-named 400 in the envelope (the framework's binder would answer with
/// its own messages and shapes), and so that server-owned fields in the body are simply never read.
/// </summary>
public static class JsonBody
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 32 };

    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return false;
        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The body as a JSON object, or the envelope error (415, 400) that explains why not.</summary>
    public static async Task<(JsonDocument? Document, ApiError? Error)> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJson(request.ContentType))
            return (null, ApiError.ForStatus(StatusCodes.Status415UnsupportedMediaType));
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, ParseOptions, cancellationToken);
        }
        catch (JsonException)
        {
            return (null, ApiError.BadRequest("body", "The request body is not valid JSON."));
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
