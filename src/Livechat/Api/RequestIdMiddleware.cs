using System.Diagnostics;

namespace Livechat.Api;

/// <summary>
/// Adopts the caller's <c>X-Request-ID</c> when it is a sane token (at most 128 printable ASCII characters,
/// so it cannot split a header or a log line), otherwise makes one. The id becomes the request's
/// <see cref="HttpContext.TraceIdentifier"/>, goes back as a header, and opens a log scope so every log
/// line of the request carries it. The same middleware writes the one access-log line per request.
/// </summary>
public sealed class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    public const string Header = "X-Request-ID";

    public async Task InvokeAsync(HttpContext context)
    {
        var requestId = IsSane(context.Request.Headers[Header].ToString()) ? context.Request.Headers[Header].ToString() : Guid.CreateVersion7().ToString("N");
        context.TraceIdentifier = requestId;
        context.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            ctx.Response.Headers[Header] = ctx.TraceIdentifier;
            return Task.CompletedTask;
        }, context);

        using var scope = logger.BeginScope(new RequestScope(requestId));
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            logger.LogInformation("{Method} {Path} responded {Status} in {ElapsedMs:0.0} ms",
                context.Request.Method, context.Request.Path.Value, context.Response.StatusCode,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    internal static bool IsSane(string value)
    {
        if (value.Length is 0 or > 128) return false;
        foreach (var c in value)
        {
            if (c is < ' ' or > '~') return false;
        }
        return true;
    }
}

/// <summary>The log scope of a request: <c>request_id</c> as a field in JSON logs, <c>request_id:…</c> in plain ones.</summary>
internal sealed class RequestScope(string requestId) : IReadOnlyList<KeyValuePair<string, object>>
{
    public KeyValuePair<string, object> this[int index] => index == 0 ? new("request_id", requestId) : throw new ArgumentOutOfRangeException(nameof(index));

    public int Count => 1;

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
    {
        yield return this[0];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"request_id:{requestId}";
}
