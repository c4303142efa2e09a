namespace Livechat.Api;

/// <summary>
/// An expected failure: a status, a human message and field errors. Handlers return these as values
/// (never throw them), and <see cref="ApiResults"/> turns them into the envelope.
/// </summary>
public sealed record ApiError(int Status, string Message, IReadOnlyDictionary<string, string[]> Errors)
{
    public Guid? TicketId { get; init; }
    public Guid? SessionId { get; init; }

    public static ApiError Field(int status, string field, string message) =>
        new(status, message, new Dictionary<string, string[]> { [field] = [message] });

    public static ApiError BadRequest(string field, string message) => Field(StatusCodes.Status400BadRequest, field, message);

    public static ApiError NotFound(string what) => Field(StatusCodes.Status404NotFound, "request", $"{what} not found.");

    public static ApiError Conflict(string field, string message) => Field(StatusCodes.Status409Conflict, field, message);

    public static ApiError Forbidden(string message) => Field(StatusCodes.Status403Forbidden, "request", message);

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
