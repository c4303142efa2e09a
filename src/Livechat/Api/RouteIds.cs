namespace Livechat.Api;

public static class RouteIds
{
    /// <summary>
    /// Route ids are taken as strings so that a malformed one is a 400 naming the field, not a 404. Exactly the
    /// 36 characters of the "D" format: the parser alone also takes surrounding white space (<c>%20</c>, <c>%09</c>).
    /// </summary>
    public static bool TryParse(string value, out Guid id)
    {
        id = Guid.Empty;
        return value.Length == 36 && Guid.TryParseExact(value, "D", out id);
    }

    public static BadRequestError Malformed(string field = "id") => ApiError.BadRequest(field, $"{field} must be a UUID.");
}
