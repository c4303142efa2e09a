using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Livechat.Api;

/// <summary>Writes the envelope. Every body the service sends goes through <see cref="WriteAsync{T}"/>.</summary>
public static class ApiResults
{
    public static IResult Ok<T>(T data, string message = "OK", Pagination? pagination = null) =>
        new EnvelopeResult<T>(StatusCodes.Status200OK, message, data, pagination, null);

    public static IResult Created<T>(T data, string message = "Created") =>
        new EnvelopeResult<T>(StatusCodes.Status201Created, message, data, null, null);

    public static IResult Accepted<T>(T data, string message = "Accepted") =>
        new EnvelopeResult<T>(StatusCodes.Status202Accepted, message, data, null, null);

    public static IResult Error(ApiError error) => new EnvelopeResult<object>(error.Status, error.Message, null, null, error);

    public static IResult Page<T>(Page<T> page, string message = "OK") => Ok(page.Items, message, page.Pagination);

    /// <summary>The request id of this request (set by <see cref="RequestIdMiddleware"/>).</summary>
    public static string RequestId(this HttpContext context) => context.TraceIdentifier;

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

    private sealed class EnvelopeResult<T>(int status, string message, T? data, Pagination? pagination, ApiError? error)
        : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, status, message, data, pagination, error);
    }
}
