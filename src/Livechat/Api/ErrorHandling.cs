using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;

namespace Livechat.Api;

/// <summary>
/// Makes the framework's own failures speak the envelope: bare status codes (404 route, 405, 401, 403, 415)
/// through status code pages, and exceptions through one exception handler that never shows a stack or SQL.
/// </summary>
public static class ErrorHandling
{
    public static IApplicationBuilder UseEnvelopeErrors(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = HandleExceptionAsync,
            // A client that went away needs no answer, and its log line is noise.
            SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException or OperationCanceledException,
        });
        app.UseStatusCodePages(context => ApiResults.WriteErrorAsync(context.HttpContext, ApiError.ForStatus(context.HttpContext.Response.StatusCode)));
        return app;
    }

    private static Task HandleExceptionAsync(HttpContext context)
    {
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var error = exception switch
        {
            // Inside the pipeline Kestrel only throws this while the body is read: bad chunked framing (400), over
            // the size limit (413), too slow (408).
            BadHttpRequestException { StatusCode: 400 } => ApiError.BadRequest("body", "The request body could not be read: its framing is malformed."),
            BadHttpRequestException bad => ApiError.ForStatus(bad.StatusCode),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => null,
            TimeoutException or DbException { IsTransient: true } => ApiError.ForStatus(StatusCodes.Status503ServiceUnavailable),
            _ => ApiError.ForStatus(StatusCodes.Status500InternalServerError),
        };
        if (error is null) return Task.CompletedTask;
        if (exception is DbException or TimeoutException) LivechatMetrics.DatabaseErrors.Inc();
        if (error.Status == 503) context.Response.Headers.RetryAfter = "5";
        return ApiResults.WriteErrorAsync(context, error);
    }
}
