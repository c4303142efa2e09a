namespace Livechat.Api;

/// <summary>The <c>tz</c> query parameter of the reports and the transcripts: an IANA time zone, UTC when absent.</summary>
public static class TimeZoneQuery
{
    /// <summary>The zone <c>tz</c> names, or a 400 on <c>tz</c> when it names none.</summary>
    public static (TimeZoneInfo? Zone, BadRequestError? Error) Read(IQueryCollection query)
    {
        var name = query["tz"].ToString();
        try
        {
            return (name.Length == 0 ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(name), null);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return (null, ApiError.BadRequest("tz", "tz must be an IANA time zone, such as Europe/Berlin or Asia/Jakarta."));
        }
    }
}
