using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Livechat.Auth;
using Livechat.Data;

namespace Livechat.Api;

/// <summary>
/// The key of the POST being served, claimed inside the first write transaction of the request (see
/// <see cref="Database.WriteAsync{T}"/>), so the record and the write commit together or not at all.
/// </summary>
public sealed class IdempotencyClaim(long tenantId, long userId, string key, string requestHash)
{
    private static readonly AsyncLocal<IdempotencyClaim?> current = new();

    public static IdempotencyClaim? Current { get => current.Value; set => current.Value = value; }

    /// <summary>The claim the next write of this request must record, if any (only the first write does).</summary>
    public static IdempotencyClaim? Pending => Current is { Committed: false } claim ? claim : null;

    public long TenantId { get; } = tenantId;
    public long UserId { get; } = userId;
    public string Key { get; } = key;
    public string RequestHash { get; } = requestHash;

    /// <summary>True once a transaction holding the claim has committed.</summary>
    public bool Committed { get; set; }

    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>Inserts the in-flight record in <paramref name="transaction"/>; throws <see cref="IdempotencyKeyTakenException"/> when a live one exists.</summary>
    public async Task ClaimAsync(DbConnection connection, DbTransaction transaction, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql("""
            INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, status_code, response_body, created_at)
            VALUES (@tenant, @user, @key, @hash, NULL, NULL, @now)
            ON CONFLICT (tenant_id, user_id, key) DO UPDATE
                SET request_hash = excluded.request_hash, status_code = NULL, response_body = NULL, created_at = excluded.created_at
                WHERE idempotency_keys.created_at < @expired
            """, transaction)
            .With("tenant", TenantId).With("user", UserId).With("key", Key).With("hash", RequestHash).With("now", now).With("expired", now - Lifetime);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0) throw new IdempotencyKeyTakenException();
    }
}

/// <summary>Another request holds (or held, within 24 h) this key: the middleware answers from its record.</summary>
public sealed class IdempotencyKeyTakenException : Exception
{
    public IdempotencyKeyTakenException() : base("The idempotency key is taken.") { }
}

/// <summary>
/// <c>Idempotency-Key</c> on POST (contract section 9). Same key, same request, same tenant and user within
/// 24 h: the first status and body again with <c>Idempotent-Replayed: true</c>, nothing written. Same key with
/// another request: 422. The first request still in flight: 409. Requests that wrote nothing (a validation
/// error) leave no record: repeating them is harmless and gives the same answer.
/// </summary>
public sealed class IdempotencyMiddleware(RequestDelegate next, Database database, TimeProvider time)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public async Task InvokeAsync(HttpContext context)
    {
        var key = context.Request.Headers[Header].ToString();
        if (!HttpMethods.IsPost(context.Request.Method) || key.Length == 0 || context.Features.Get<CurrentUser>() is not { } user)
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
        var original = context.Response.Body;
        await using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        IdempotencyClaim.Current = claim;
        try
        {
            await next(context);
        }
        catch (IdempotencyKeyTakenException)
        {
            // A concurrent request with this key won the claim; answer from its record.
            context.Response.Body = original;
            context.Response.Clear();
            if (!await AnswerFromRecordAsync(context, user, key, hash))
                await ApiResults.WriteErrorAsync(context, ApiError.Conflict("idempotency_key", "A request with this Idempotency-Key is still in progress: retry shortly."));
            return;
        }
        finally
        {
            IdempotencyClaim.Current = null;
            context.Response.Body = original;
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
