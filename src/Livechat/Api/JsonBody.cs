using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;

namespace Livechat.Api;

/// <summary>
/// The JSON object body of a request, as a handler parameter: <c>JsonBody&lt;SendMessageRequest&gt; body</c>. It is
/// read in one place, a filter that runs before the handler (and before any other endpoint filter: checks that must
/// come first, like a role, belong at the door, <see cref="Auth.TenantFilter"/>): 415 unless JSON in UTF-8, 400 <c>errors.body</c> for malformed JSON, invalid UTF-8,
/// depth over 32, a repeated property or a non-object, 413 (Kestrel) over 64 KiB. The handler then picks the fields it
/// owns, by hand, so every wrong field gets a precise, field-named 400 (the framework's binder would answer with its
/// own messages and shapes) and server-owned fields are never read. <typeparamref name="TRequest"/> only describes
/// the body to OpenAPI; the parameter also brings the 400, 413 and 415 the reading can answer.
/// </summary>
public sealed class JsonBody<TRequest> : IBindableFromHttpContext<JsonBody<TRequest>>, IEndpointMetadataProvider
{
    private static readonly string[] Json = ["application/json"];
    private JsonDocument? document;

    public JsonElement RootElement => Document.RootElement;

    /// <inheritdoc cref="JsonBody.GetString"/>
    public string? GetString(string property) => Document.GetString(property);

    private JsonDocument Document => document ?? throw new InvalidOperationException("The body is read by the JsonBody filter, which did not run.");

    /// <summary>Binding only makes the holder; the filter fills it.</summary>
    static ValueTask<JsonBody<TRequest>?> IBindableFromHttpContext<JsonBody<TRequest>>.BindAsync(HttpContext context, ParameterInfo parameter) =>
        ValueTask.FromResult<JsonBody<TRequest>?>(new JsonBody<TRequest>());

    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new AcceptsMetadata(Json, typeof(TRequest)));
        builder.ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        builder.FilterFactories.Add((factory, next) =>
        {
            var index = Array.FindIndex(factory.MethodInfo.GetParameters(), p => p.ParameterType == typeof(JsonBody<TRequest>));
            return async context =>
            {
                var body = context.GetArgument<JsonBody<TRequest>>(index);
                var (document, error) = await JsonBody.ReadObjectAsync(context.HttpContext.Request, context.HttpContext.RequestAborted);
                if (error is not null) return error;
                body.document = document;
                // The handler has taken what it needs (strings, numbers) by the time its result runs.
                using (document) return await next(context);
            };
        });
    }
}

/// <summary>The rules <see cref="JsonBody{TRequest}"/> reads a body by, and reading a property of it.</summary>
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

    /// <summary>The body as a JSON object, or the envelope error (415, 400) that explains why not. Only <see cref="JsonBody{TRequest}"/> reads bodies.</summary>
    internal static async Task<(JsonDocument? Document, ApiError? Error)> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
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
