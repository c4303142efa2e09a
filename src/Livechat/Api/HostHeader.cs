namespace Livechat.Api;

/// <summary>
/// Refuses a Host header whose punycode labels do not decode (<c>xn--bravo-.test</c>). Kestrel lets such a name
/// through (it is plain ASCII), but ASP.NET Core decodes the host name whenever anything reads
/// <see cref="HttpRequest.Host"/> (the tenant by host name, the OpenAPI document's servers) and throws there:
/// a 500 with a stack trace at Error that anyone could provoke without a token. Decided once, at the door.
/// </summary>
public static class HostHeader
{
    public static IApplicationBuilder UseHostHeaderCheck(this IApplicationBuilder app) => app.Use((http, next) =>
        IsReadable(http.Request) ? next(http)
            : ApiResults.WriteErrorAsync(http, ApiError.BadRequest("host", "The Host header is not a valid host name.")));

    private static bool IsReadable(HttpRequest request)
    {
        try
        {
            _ = request.Host; // decodes "xn--" labels with IdnMapping, which throws ArgumentException on bad punycode
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
