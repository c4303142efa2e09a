using System.Data.Common;
using System.Threading.Channels;
using Livechat.Attachments;
using Livechat.Changes;
using Livechat.Data;
using Microsoft.Extensions.Options;

namespace Livechat.Privacy;

/// <summary>A claimed erasure: whose data, in which tenant.</summary>
public sealed record ClaimedErasure(long TenantId, Guid Id, long UserId);

/// <summary>
/// Erasure of one tenant user (contract section 21). The request stores a job (with its audit row) and answers at
/// once; a worker on any instance claims the job with a short lease and runs it in batches, each a transaction that
/// also adds what it removed to the job's counts, until nothing of the user is left; then the job is <c>done</c>.
/// A batch only removes what is still there, so a job an instance left half done (its lease ran out) is finished by
/// another without counting anything twice.
/// </summary>
public sealed class ErasureStore(Database database, WritePath writes, TimeProvider time)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);
    private const string JobColumns = "id, user_id, status, messages, attachments, notifications, read_markers, ratings, names, created_at, finished_at";

    /// <summary>Stores a pending job to erase <paramref name="userId"/>; null when the tenant never saw that tenant user.</summary>
    public Task<Guid?> RequestAsync(long tenantId, long userId, AuditActor actor, CancellationToken cancellationToken) =>
        writes.RunAsync<Guid?>(async scope =>
        {
            await using (var known = scope.Sql("SELECT 1 FROM tenant_users WHERE tenant_id = @tenant AND user_id = @user").With("tenant", tenantId).With("user", userId))
            {
                if (await known.ExecuteScalarAsync(cancellationToken) is null) return Change.Of<Guid?>(null);
            }
            var id = Guid.CreateVersion7(scope.Now);
            await using var insert = scope.Sql("""
                INSERT INTO erasure_jobs (tenant_id, id, user_id, requested_by, status, created_at)
                VALUES (@tenant, @id, @user, @by, 'pending', @now)
                """).With("tenant", tenantId).With("id", id).With("user", userId).With("by", actor.UserId ?? 0).With("now", scope.Now);
            await insert.ExecuteNonQueryAsync(cancellationToken);
            return Change.Of<Guid?>(id, new Audited(tenantId, actor, "user.erasure_requested", $"user:{userId} job:{id}"),
                new Messages.MessagesErased(tenantId, userId));
        }, cancellationToken);

    public Task<ErasureJob?> FindAsync(long tenantId, Guid id, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {JobColumns} FROM erasure_jobs WHERE tenant_id = @tenant AND id = @id")
                .With("tenant", tenantId).With("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }, cancellationToken);

    private static ErasureJob Read(DbDataReader reader) =>
        new(reader.GetId(0), reader.GetInt64(1), reader.GetString(2),
            new ErasureCounts(reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8)),
            reader.GetTime(9), reader.GetTimeOrNull(10));

    /// <summary>The oldest pending job nobody holds, leased to this instance; null when there is none.</summary>
    public Task<ClaimedErasure?> ClaimAsync(CancellationToken cancellationToken) =>
        database.WriteApartAsync(async (connection, transaction) =>
        {
            var now = time.Now();
            var skipLocked = connection is Npgsql.NpgsqlConnection ? "FOR UPDATE SKIP LOCKED" : "";
            await using var command = connection.Sql($"""
                UPDATE erasure_jobs SET locked_until = @lease_until
                WHERE (tenant_id, id) IN (
                    SELECT tenant_id, id FROM erasure_jobs
                    WHERE status = 'pending' AND (locked_until IS NULL OR locked_until <= @now)
                    ORDER BY created_at LIMIT 1 {skipLocked})
                  AND status = 'pending' AND (locked_until IS NULL OR locked_until <= @now)
                RETURNING tenant_id, id, user_id
                """, transaction).With("now", now).With("lease_until", now + Lease);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? new ClaimedErasure(reader.GetInt64(0), reader.GetId(1), reader.GetInt64(2)) : null;
        }, cancellationToken);

    /// <summary>
    /// One batch of <paramref name="job"/>: the user's messages in a few sessions (with the notifications that quote
    /// them) and some of its files; when none is left, the rest (markers, notifications, ratings, name, idempotency
    /// records, webhook events it caused) and the job is done. Answers whether it is done, and the files whose bytes go now.
    /// </summary>
    public Task<(bool Done, IReadOnlyList<Guid> Files)> RunBatchAsync(ClaimedErasure job, int budget, CancellationToken cancellationToken) =>
        database.WriteApartAsync<(bool, IReadOnlyList<Guid>)>(async (connection, transaction) =>
        {
            var now = time.Now();
            var scope = new ChangeScope(connection, transaction, now);
            // The job's row first: of two instances that both think they hold it (a lease ran out), the second waits here.
            var lockRow = connection is Npgsql.NpgsqlConnection ? "FOR UPDATE" : "";
            await using (var status = scope.Sql($"SELECT status FROM erasure_jobs WHERE tenant_id = @tenant AND id = @id {lockRow}").With("tenant", job.TenantId).With("id", job.Id))
            {
                if (await status.ExecuteScalarAsync(cancellationToken) is not "pending") return (true, []);
            }
            int messages = 0, notifications = 0;
            foreach (var sessionId in await SessionsWithMessagesAsync(scope, job, cancellationToken))
            {
                // The notifications that quote its messages (an agent's "new message" preview) go with them.
                // (SQLite finds them by the message, ADR 0053; PostgreSQL by the session.)
                notifications += await ExecuteAsync(scope, $"""
                    DELETE FROM notifications{(connection is Npgsql.NpgsqlConnection ? "" : " INDEXED BY ix_notifications_message")}
                    WHERE tenant_id = @tenant AND session_id = @session AND message_id IN (
                        SELECT id FROM chat_messages WHERE tenant_id = @tenant AND session_id = @session AND sender_id = @user)
                    """, job, cancellationToken, sessionId);
                messages += await Forgetting.ForgetMessagesAsync(scope, job.TenantId, new ForgottenMessages.SentBy(sessionId, job.UserId), budget - messages, cancellationToken);
                if (messages >= budget) break;
            }
            var files = await AttachmentRetention.DeleteRowsOfUploaderAsync(scope, job.TenantId, job.UserId, 100, cancellationToken);
            int markers = 0, ratings = 0, names = 0;
            var done = messages == 0 && files.Count == 0;
            if (done)
            {
                markers = await ExecuteAsync(scope, "DELETE FROM read_markers WHERE tenant_id = @tenant AND user_id = @user", job, cancellationToken);
                notifications += await ExecuteAsync(scope, "DELETE FROM notifications WHERE tenant_id = @tenant AND user_id = @user", job, cancellationToken);
                await ExecuteAsync(scope, """
                    UPDATE session_facts SET rating_score = NULL WHERE tenant_id = @tenant AND rating_score IS NOT NULL
                      AND session_id IN (SELECT id FROM chat_sessions WHERE tenant_id = @tenant AND customer_id = @user AND rating_score IS NOT NULL)
                    """, job, cancellationToken);
                ratings = await ExecuteAsync(scope, """
                    UPDATE chat_sessions SET rating_score = NULL, rating_comment = NULL, rated_at = NULL
                    WHERE tenant_id = @tenant AND customer_id = @user AND rating_score IS NOT NULL
                    """, job, cancellationToken);
                names = await ExecuteAsync(scope, "DELETE FROM user_names WHERE tenant_id = @tenant AND user_id = @user", job, cancellationToken);
                // Its stored answers to retried POSTs hold its messages' text.
                await ExecuteAsync(scope, "DELETE FROM idempotency_keys WHERE tenant_id = @tenant AND user_id = @user", job, cancellationToken);
                // The webhook events it caused (its messages, its rating) carry its text in their payloads.
                await ExecuteAsync(scope, """
                    DELETE FROM webhook_deliveries WHERE tenant_id = @tenant
                      AND event_id IN (SELECT id FROM webhook_events WHERE tenant_id = @tenant AND actor_id = @user)
                    """, job, cancellationToken);
                await ExecuteAsync(scope, "DELETE FROM webhook_events WHERE tenant_id = @tenant AND actor_id = @user", job, cancellationToken);
            }
            await using (var update = scope.Sql($"""
                UPDATE erasure_jobs SET messages = messages + @messages, attachments = attachments + @files,
                    notifications = notifications + @notifications, read_markers = read_markers + @markers,
                    ratings = ratings + @ratings, names = names + @names,
                    locked_until = @lease_until{(done ? ", status = 'done', finished_at = @now" : "")}
                WHERE tenant_id = @tenant AND id = @id
                """).With("messages", messages).With("files", files.Count).With("notifications", notifications).With("markers", markers)
                .With("ratings", ratings).With("names", names).With("lease_until", now + Lease).With("now", now).With("tenant", job.TenantId).With("id", job.Id))
            {
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
            PrivacyMetrics.Erased.Inc(messages);
            return (done, files);
        }, cancellationToken);

    /// <summary>A few sessions the user wrote in that still hold a message of its own not erased yet.</summary>
    private static async Task<List<Guid>> SessionsWithMessagesAsync(ChangeScope scope, ClaimedErasure job, CancellationToken cancellationToken)
    {
        // A tenant user becomes a participant in the transaction of its first message in a session (Messages/MessageStore.cs).
        await using var command = scope.Sql("""
            SELECT p.session_id FROM session_participants p
            WHERE p.tenant_id = @tenant AND p.user_id = @user AND EXISTS (
                SELECT 1 FROM chat_messages m
                WHERE m.tenant_id = p.tenant_id AND m.session_id = p.session_id AND m.sender_id = @user AND m.deleted = FALSE)
            LIMIT 10
            """).With("tenant", job.TenantId).With("user", job.UserId);
        var sessions = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) sessions.Add(reader.GetId(0));
        return sessions;
    }

    private static async Task<int> ExecuteAsync(ChangeScope scope, string sql, ClaimedErasure job, CancellationToken cancellationToken, Guid? sessionId = null)
    {
        await using var command = scope.Sql(sql).With("tenant", job.TenantId).With("user", job.UserId);
        if (sessionId is { } session) command.With("session", session);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>
/// Runs erasure jobs on every instance: at once when this instance took the request (<see cref="Wake"/>), and every
/// <see cref="RetentionOptions.IntervalSeconds"/> for jobs another instance left (its lease ran out).
/// </summary>
public sealed class ErasureWorker(ErasureStore store, AttachmentRetention attachments, IOptions<RetentionOptions> options, TimeProvider time,
    ILogger<ErasureWorker> logger) : BackgroundService
{
    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>A job was stored here: look now rather than at the next interval.</summary>
    public void Wake() => wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.IntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await store.ClaimAsync(stoppingToken) is { } job) await RunAsync(job, stoppingToken);
                using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var woken = wake.Reader.WaitToReadAsync(waiting.Token).AsTask();
                await Task.WhenAny(woken, Task.Delay(interval, time, waiting.Token));
                await waiting.CancelAsync();
                wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "An erasure batch failed; the job is taken up again when its lease runs out.");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task RunAsync(ClaimedErasure job, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (done, files) = await store.RunBatchAsync(job, options.Value.MessagesPerBatch, cancellationToken);
            await attachments.DeleteBytesAsync(job.TenantId, files);
            if (done) break;
            await Task.Delay(options.Value.PauseMilliseconds, cancellationToken);
        }
        logger.LogInformation("Erasure {Job} of user {User} in tenant {Tenant} is done.", job.Id, job.UserId, job.TenantId);
    }
}
