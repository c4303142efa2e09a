using System.Data.Common;

namespace Livechat.Data;

/// <summary>
/// The <c>Idempotency-Key</c> of the POST being served (contract section 9). The endpoint hands it to its one
/// write, which records it in the write's own transaction (<see cref="TryClaimAsync"/>), so the record and the
/// write commit together or not at all. The middleware that made it completes the record with the response.
/// </summary>
public sealed class IdempotencyClaim(long tenantId, long userId, string key, string requestHash)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public long TenantId { get; } = tenantId;
    public long UserId { get; } = userId;
    public string Key { get; } = key;
    public string RequestHash { get; } = requestHash;

    /// <summary>True once the transaction holding the claim has committed.</summary>
    public bool Committed { get; private set; }

    /// <summary>True when the write found the key held by another request (the middleware answers from its record).</summary>
    public bool Taken { get; private set; }

    public void MarkCommitted() => Committed = true;

    public void MarkTaken() => Taken = true;

    /// <summary>Inserts the in-flight record in <paramref name="transaction"/>; false when a live record (another request's) exists.</summary>
    public async Task<bool> TryClaimAsync(DbConnection connection, DbTransaction transaction, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = connection.Sql("""
            INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, status_code, response_body, created_at)
            VALUES (@tenant, @user, @key, @hash, NULL, NULL, @now)
            ON CONFLICT (tenant_id, user_id, key) DO UPDATE
                SET request_hash = excluded.request_hash, status_code = NULL, response_body = NULL, created_at = excluded.created_at
                WHERE idempotency_keys.created_at < @expired
            """, transaction)
            .With("tenant", TenantId).With("user", UserId).With("key", Key).With("hash", RequestHash).With("now", now).With("expired", now - Lifetime);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
