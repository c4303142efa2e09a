using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace Livechat.Api;

/// <summary>
/// Writes the envelope. Every body the service sends goes through <see cref="WriteAsync{T}"/>. Handlers return the
/// typed results below and the typed <see cref="ApiError"/>s inside <c>Results&lt;...&gt;</c>, so the OpenAPI
/// document lists exactly the statuses (and <c>ApiResponse&lt;T&gt;</c> bodies) a handler can answer with.
/// </summary>
public static class ApiResults
{
    private static readonly string[] Json = ["application/json"];

    public static OkEnvelope<T> Ok<T>(T data, string message = "OK", Pagination? pagination = null) => new(data, message, pagination);

    public static CreatedEnvelope<T> Created<T>(T data, string message = "Created") => new(data, message);

    public static AcceptedEnvelope<T> Accepted<T>(T data, string message = "Accepted") => new(data, message);

    public static OkEnvelope<IReadOnlyList<T>> Page<T>(Page<T> page, string message = "OK") => Ok(page.Items, message, page.Pagination);

    /// <summary>The request id of this request (set by <see cref="RequestIdMiddleware"/>).</summary>
    public static string RequestId(this HttpContext context) => context.TraceIdentifier;

    /// <summary>
    /// Describes envelope failures to OpenAPI. Handlers' own failures describe themselves (their typed results); this
    /// is for the pipeline around them: the tenant door, the body reader, idempotency, the exception handler.
    /// </summary>
    public static void ProducesErrors(this EndpointBuilder endpoint, params int[] statuses)
    {
        foreach (var status in statuses) endpoint.Metadata.Add(new ProducesResponseTypeMetadata(status, typeof(ApiResponse<object>), Json));
    }

    internal static void ProducesEnvelope<T>(this EndpointBuilder endpoint, int status) =>
        endpoint.Metadata.Add(new ProducesResponseTypeMetadata(status, typeof(ApiResponse<T>), Json));

    public static async Task WriteAsync<T>(HttpContext context, int status, string message, T? data, Pagination? pagination, ApiError? error)
    {
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var meta = new Meta(context.RequestId(), now)
        {
            Pagination = pagination,
            TicketId = error?.TicketId,
            SessionId = error?.SessionId,
        };
        var body = new ApiResponse<T>(status is >= 200 and < 300, message, error is null ? data : default, meta, error?.Errors);
        var options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var typeInfo = (JsonTypeInfo<ApiResponse<T>>)options.GetTypeInfo(typeof(ApiResponse<T>));
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized && !context.Response.Headers.ContainsKey("WWW-Authenticate"))
            context.Response.Headers.WWWAuthenticate = "Bearer";
        context.Response.ContentType = "application/json; charset=utf-8";
        // No cancellation: an envelope is small, and a request timeout cancels RequestAborted before its own 503
        // envelope is written.
        await JsonSerializer.SerializeAsync(context.Response.Body, body, typeInfo, CancellationToken.None);
    }

    public static Task WriteErrorAsync(HttpContext context, ApiError error) =>
        WriteAsync<object>(context, error.Status, error.Message, null, null, error);
}

/// <summary>200 with <c>data</c> (and, for a page, <c>meta.pagination</c>).</summary>
public sealed class OkEnvelope<T>(T data, string message, Pagination? pagination) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public int? StatusCode => StatusCodes.Status200OK;

    public Task ExecuteAsync(HttpContext httpContext) => ApiResults.WriteAsync(httpContext, StatusCodes.Status200OK, message, data, pagination, null);

    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => builder.ProducesEnvelope<T>(StatusCodes.Status200OK);
}

/// <summary>201 with the thing that was made.</summary>
public sealed class CreatedEnvelope<T>(T data, string message) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public int? StatusCode => StatusCodes.Status201Created;

    public Task ExecuteAsync(HttpContext httpContext) => ApiResults.WriteAsync(httpContext, StatusCodes.Status201Created, message, data, null, null);

    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => builder.ProducesEnvelope<T>(StatusCodes.Status201Created);
}

/// <summary>202 with what was queued (or noted) to happen.</summary>
public sealed class AcceptedEnvelope<T>(T data, string message) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public int? StatusCode => StatusCodes.Status202Accepted;

    public Task ExecuteAsync(HttpContext httpContext) => ApiResults.WriteAsync(httpContext, StatusCodes.Status202Accepted, message, data, null, null);

    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => builder.ProducesEnvelope<T>(StatusCodes.Status202Accepted);
}
