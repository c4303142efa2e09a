using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Livechat.Changes;
using Livechat.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Livechat.Api;

/// <summary>How endpoints take part in idempotency: they hand the request's claim to their one write.</summary>
public static class Idempotency
{
    /// <summary>The claim of this request's <c>Idempotency-Key</c>, for its write; null without a key.</summary>
    public static IdempotencyClaim? ClaimOf(HttpRequest request) => request.HttpContext.Features.Get<IdempotencyClaim>();

    /// <summary>The outcome of a write, or null when its key was held by another request.</summary>
    public static T? OutcomeOrNull<T>(this Written<T> written) where T : class => written is Written<T>.Done done ? done.Outcome : null;

    /// <summary>What an endpoint returns when its key was taken: nothing, the middleware answers from the record.</summary>
    public static EmptyHttpResult AnsweredFromRecord => TypedResults.Empty;

    /// <summary>
    /// For OpenAPI, what <see cref="IdempotencyMiddleware"/> can answer on a POST of a signed-in caller besides the
    /// handler's own (which it replays): 400 (a malformed key), 409 (in flight), 422 (another request), 413 (it hashes
    /// the body).
    /// </summary>
    public static void DescribeStatuses(EndpointBuilder endpoint)
    {
        if (!endpoint.Metadata.OfType<IHttpMethodMetadata>().Any(m => m.HttpMethods.Contains(HttpMethods.Post))) return;
        endpoint.ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge,
            StatusCodes.Status422UnprocessableEntity);
    }
}

/// <summary>Marks an endpoint that reads its body as a stream: <see cref="IdempotencyMiddleware"/> does not hash it.</summary>
public sealed record StreamedBody;

/// <summary>
/// <c>Idempotency-Key</c> on POST (contract section 9). Same key, same request, same tenant and user within
/// 24 h: the first status and body again with <c>Idempotent-Replayed: true</c>, nothing written. Same key with
/// another request: 422. The first request still in flight: 409. Requests that wrote nothing (a validation
/// error) leave no record: repeating them is harmless and gives the same answer.
/// </summary>
public sealed class IdempotencyMiddleware(RequestDelegate next, Database database, TimeProvider time, ILogger<IdempotencyMiddleware> logger)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public async Task InvokeAsync(HttpContext context)
    {
        var key = context.Request.Headers[Header].ToString();
        // An endpoint that streams its body (an upload) is left alone: hashing the body would read it all first.
        if (!HttpMethods.IsPost(context.Request.Method) || key.Length == 0 || context.Features.Get<CurrentUser>() is not { } user
            || context.GetEndpoint()?.Metadata.GetMetadata<StreamedBody>() is not null)
        {
            await next(context);
            return;
        }
        if (key.Length > 255 || key.Any(c => c is < ' ' or > '~'))
        {
            await ApiResults.WriteErrorAsync(context, ApiError.BadRequest("idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters."));
            return;
        }

        var hash = await HashAsync(context.Request);
        if (await AnswerFromRecordAsync(context, user, key, hash)) return;

        var claim = new IdempotencyClaim(user.TenantId, user.UserId, key, hash);
        context.Features.Set(claim);
        var original = context.Response.Body;
        await using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        catch (Exception e) when (claim.Committed && !context.RequestAborted.IsCancellationRequested)
        {
            // The write committed, then the request failed. Like any first response, the failure is what this
            // key answers from now on: a retry must neither write again nor wait 24 h on an "in flight" record.
            logger.LogError(e, "The request failed after its write committed; its Idempotency-Key keeps the error response.");
            context.Response.Clear();
            await using var failure = new MemoryStream();
            context.Response.Body = failure;
            await ApiResults.WriteErrorAsync(context, ApiError.ForStatus(StatusCodes.Status500InternalServerError));
            await CompleteAsync(claim, StatusCodes.Status500InternalServerError, Encoding.UTF8.GetString(failure.ToArray()));
            failure.Position = 0;
            await failure.CopyToAsync(original, context.RequestAborted);
            return;
        }
        finally
        {
            context.Response.Body = original;
        }

        if (claim.Taken)
        {
            // A concurrent request with this key won the claim; answer from its record.
            context.Response.Clear();
            if (!await AnswerFromRecordAsync(context, user, key, hash))
                await ApiResults.WriteErrorAsync(context, ApiError.Conflict("idempotency_key", "A request with this Idempotency-Key is still in progress: retry shortly."));
            return;
        }
        if (claim.Committed) await CompleteAsync(claim, context.Response.StatusCode, Encoding.UTF8.GetString(buffer.ToArray()));
        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    private static async Task<string> HashAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}\n"));
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0) sha.AppendData(chunk, 0, read);
        request.Body.Position = 0;
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>Replays, refuses (422) or defers (409) from a live record; false when there is none.</summary>
    private async Task<bool> AnswerFromRecordAsync(HttpContext context, CurrentUser user, string key, string hash)
    {
        var record = await database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql("""
                SELECT request_hash, status_code, response_body FROM idempotency_keys
                WHERE tenant_id = @tenant AND user_id = @user AND key = @key AND created_at >= @expired
                """).With("tenant", user.TenantId).With("user", user.UserId).With("key", key).With("expired", time.Now() - IdempotencyClaim.Lifetime);
            await using var reader = await command.ExecuteReaderAsync(context.RequestAborted);
            return await reader.ReadAsync(context.RequestAborted)
                ? new Record(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2))
                : null;
        }, context.RequestAborted);
        if (record is not { } found) return false;

        if (found.Hash != hash)
        {
            await ApiResults.WriteErrorAsync(context, ApiError.Field(StatusCodes.Status422UnprocessableEntity, "idempotency_key",
                "This Idempotency-Key was used for a different request: use a new key for a new request."));
        }
        else if (found.Status is not { } status)
        {
            context.Response.Headers.RetryAfter = "1";
            await ApiResults.WriteErrorAsync(context, ApiError.Conflict("idempotency_key", "A request with this Idempotency-Key is still in progress: retry shortly."));
        }
        else
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.Headers[ReplayedHeader] = "true";
            await context.Response.WriteAsync(found.Body ?? "", context.RequestAborted);
        }
        return true;
    }

    private sealed record Record(string Hash, int? Status, string? Body);

    private Task<int> CompleteAsync(IdempotencyClaim claim, int status, string body) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Sql("""
                UPDATE idempotency_keys SET status_code = @status, response_body = @body
                WHERE tenant_id = @tenant AND user_id = @user AND key = @key
                """, transaction)
                .With("status", status).With("body", body).With("tenant", claim.TenantId).With("user", claim.UserId).With("key", claim.Key);
            return await command.ExecuteNonQueryAsync(CancellationToken.None);
        }, CancellationToken.None);
}

/// <summary>Deletes expired idempotency records once an hour.</summary>
public sealed class IdempotencyJanitor(Database database, TimeProvider time, ILogger<IdempotencyJanitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        do
        {
            try
            {
                var deleted = await database.WriteAsync(async (connection, transaction) =>
                {
                    await using var command = connection.Sql("DELETE FROM idempotency_keys WHERE created_at < @expired", transaction)
                        .With("expired", time.Now() - IdempotencyClaim.Lifetime);
                    return await command.ExecuteNonQueryAsync(stoppingToken);
                }, stoppingToken);
                if (deleted > 0) logger.LogInformation("Deleted {Count} expired idempotency records.", deleted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not delete expired idempotency records.");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
