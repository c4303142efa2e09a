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
        var given = context.Request.Headers[Header].ToString();
        var requestId = IsSane(given) ? given : NewId();
        context.TraceIdentifier = requestId;
        System.Diagnostics.Activity.Current?.SetTag(Data.Tracing.RequestId, requestId); // on the request's span, when traced
        context.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            ctx.Response.Headers[Header] = ctx.TraceIdentifier;
            return Task.CompletedTask;
        }, context);

        var fields = new RequestScope(requestId);
        context.Features.Set(fields);
        using var scope = logger.BeginScope(fields);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            // Asked first: the call itself boxes its arguments and looks its template up even when the level is off
            // (Production runs at Warning), on every request.
            if (logger.IsEnabled(LogLevel.Information))
            {
                logger.LogInformation("{Method} {Path} responded {Status} in {ElapsedMs:0.0} ms",
                    context.Request.Method, context.Request.Path.Value, context.Response.StatusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    /// <summary>
    /// A UUIDv7 in 32 hex digits, what <c>Guid.CreateVersion7().ToString("N")</c> gives, with its random bits from
    /// <see cref="Random.Shared"/>: a request id must be unique, not unguessable, and the cryptographic source costs
    /// a system call (getrandom) on every request that brings no id of its own.
    /// </summary>
    internal static string NewId()
    {
        Span<byte> id = stackalloc byte[16];
        Random.Shared.NextBytes(id);
        var milliseconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--, milliseconds >>= 8) id[i] = (byte)milliseconds; // 48 bits of time, big-endian
        id[6] = (byte)(0x70 | (id[6] & 0x0F)); // version 7
        id[8] = (byte)(0x80 | (id[8] & 0x3F)); // the RFC 9562 variant
        return Convert.ToHexStringLower(id);
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

/// <summary>
/// The log scope of a request: <c>request_id</c>, then <c>tenant_id</c> and <c>user_id</c> once the tenant
/// filter has admitted the caller (it fills them in, so the access line carries them too). Fields in JSON
/// logs, <c>request_id:… tenant_id:… user_id:…</c> in plain ones. Never a token, never a message body.
/// </summary>
public sealed class RequestScope(string requestId) : IReadOnlyList<KeyValuePair<string, object>>
{
    public long? TenantId { get; set; }
    public long? UserId { get; set; }

    private IEnumerable<KeyValuePair<string, object>> Fields()
    {
        yield return new("request_id", requestId);
        if (TenantId is { } tenant) yield return new("tenant_id", tenant);
        if (UserId is { } user) yield return new("user_id", user);
    }

    public KeyValuePair<string, object> this[int index] => Fields().ElementAt(index);

    public int Count => Fields().Count();

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => Fields().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(' ', Fields().Select(f => $"{f.Key}:{f.Value}"));
}
