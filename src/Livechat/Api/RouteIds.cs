namespace Livechat.Api;

public static class RouteIds
{
    /// <summary>Route ids are taken as strings so that a malformed one is a 400 naming the field, not a 404.</summary>
    public static bool TryParse(string value, out Guid id) => Guid.TryParseExact(value, "D", out id);

    public static ApiError Malformed(string field = "id") => ApiError.BadRequest(field, $"{field} must be a UUID.");
}
