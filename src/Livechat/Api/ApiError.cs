using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;

namespace Livechat.Api;

/// <summary>
/// An expected failure: a status, a human message and field errors, written as the envelope. Handlers return the
/// typed ones below (never throw them): each knows its status at compile time and tells OpenAPI, so an endpoint's
/// <c>Results&lt;...&gt;</c> is the list of failures its document shows. The pipeline around the handlers (status
/// code pages, the tenant door, the exception handler) writes plain ones with <see cref="ApiResults.WriteErrorAsync"/>.
/// </summary>
public record ApiError(int Status, string Message, IReadOnlyDictionary<string, string[]> Errors) : IResult, IStatusCodeHttpResult
{
    public Guid? TicketId { get; init; }
    public Guid? SessionId { get; init; }

    int? IStatusCodeHttpResult.StatusCode => Status;

    public Task ExecuteAsync(HttpContext httpContext) => ApiResults.WriteErrorAsync(httpContext, this);

    public static ApiError Field(int status, string field, string message) => new(status, message, One(field, message));

    public static BadRequestError BadRequest(string field, string message) => new(message, One(field, message));

    public static NotFoundError NotFound(string what) => new($"{what} not found.", One("request", $"{what} not found."));

    public static ConflictError Conflict(string field, string message) => new(message, One(field, message));

    public static ForbiddenError Forbidden(string message) => new(message, One("request", message));

    /// <summary>A 403 about one field of the request: the caller may not ask for that (a tenant user's internal note).</summary>
    public static ForbiddenError Forbidden(string field, string message) => new(message, One(field, message));

    public static UnprocessableError Unprocessable(string field, string message) => new(message, One(field, message));

    public static TooManyRequestsError TooManyRequests(string message) => new(message, One("request", message));

    private static Dictionary<string, string[]> One(string field, string message) => new() { [field] = [message] };

    /// <summary>The message the framework's bare status codes get.</summary>
    public static ApiError ForStatus(int status) => status switch
    {
        400 => Field(400, "request", "The request is not valid."),
        401 => Field(401, "request", "Authentication is required: send a valid bearer token."),
        403 => Field(403, "request", "You are not allowed to do this."),
        404 => Field(404, "request", "No such resource."),
        405 => Field(405, "request", "This method is not allowed on this resource."),
        406 => Field(406, "request", "Only application/json responses are available."),
        408 => Field(408, "request", "The request took too long."),
        409 => Field(409, "request", "The request conflicts with the current state."),
        412 => Field(412, "request", "A condition of the request (If-Match, If-Unmodified-Since) does not hold."),
        413 => Field(413, "body", "The request body is larger than 64 KiB."),
        415 => Field(415, "body", "The request body must be application/json."),
        416 => Field(416, "request", "The requested range lies outside the file."),
        429 => Field(429, "request", "Too many requests: slow down and retry later."),
        431 => Field(431, "request", "The request headers are too large."),
        503 => Field(503, "request", "The service is unavailable: retry later."),
        >= 500 => Field(status, "request", "Something went wrong on our side. Quote the request id when you report it."),
        _ => Field(status, "request", "The request failed."),
    };
}

/// <summary>400 in the envelope: a field of the request is wrong.</summary>
public sealed record BadRequestError(string Message, IReadOnlyDictionary<string, string[]> Errors)
    : ApiError(StatusCodes.Status400BadRequest, Message, Errors), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => builder.ProducesErrors(StatusCodes.Status400BadRequest);
}

/// <summary>403 in the envelope: the caller may not do this.</summary>
public sealed record ForbiddenError(string Message, IReadOnlyDictionary<string, string[]> Errors)
    : ApiError(StatusCodes.Status403Forbidden, Message, Errors), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => builder.ProducesErrors(StatusCodes.Status403Forbidden);
}

/// <summary>404 in the envelope: the thing the route names is not the tenant's (or does not exist).</summary>
public sealed record NotFoundError(string Message, IReadOnlyDictionary<string, string[]> Errors)
    : ApiError(StatusCodes.Status404NotFound, Message, Errors), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => builder.ProducesErrors(StatusCodes.Status404NotFound);
}

/// <summary>409 in the envelope: the request is valid but the state of things refuses it.</summary>
public sealed record ConflictError(string Message, IReadOnlyDictionary<string, string[]> Errors)
    : ApiError(StatusCodes.Status409Conflict, Message, Errors), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => builder.ProducesErrors(StatusCodes.Status409Conflict);
}

/// <summary>422 in the envelope: the request contradicts one made before (a reused client id).</summary>
public sealed record UnprocessableError(string Message, IReadOnlyDictionary<string, string[]> Errors)
    : ApiError(StatusCodes.Status422UnprocessableEntity, Message, Errors), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => builder.ProducesErrors(StatusCodes.Status422UnprocessableEntity);
}

/// <summary>429 in the envelope from a handler's own cap (open streams); the rate limit's is the pipeline's.</summary>
public sealed record TooManyRequestsError(string Message, IReadOnlyDictionary<string, string[]> Errors)
    : ApiError(StatusCodes.Status429TooManyRequests, Message, Errors), IEndpointMetadataProvider
{
    static void IEndpointMetadataProvider.PopulateMetadata(MethodInfo method, EndpointBuilder builder) => builder.ProducesErrors(StatusCodes.Status429TooManyRequests);
}
