using System.Data.Common;
using Livechat.Attachments;
using Livechat.Changes;
using Livechat.Data;
using Microsoft.Extensions.Options;

namespace Livechat.Privacy;

/// <summary>What one purge deleted.</summary>
public readonly record struct PurgeCounts(int Sessions, int Messages, int Attachments)
{
    public bool IsEmpty => Sessions == 0 && Messages == 0 && Attachments == 0;

    public static PurgeCounts operator +(PurgeCounts a, PurgeCounts b) =>
        new(a.Sessions + b.Sessions, a.Messages + b.Messages, a.Attachments + b.Attachments);

    /// <summary>As the audit log's <c>target</c> shows it.</summary>
    public override string ToString() => $"sessions={Sessions} messages={Messages} attachments={Attachments}";
}

/// <summary>
/// Retention (contract section 21): deletes the sessions each tenant's <c>retention_days</c> says are closed for too long,
/// with everything that hangs off them. Every instance runs it every <see cref="RetentionOptions.IntervalSeconds"/>; the
/// database decides who deletes what. Each batch is a short transaction of its own, outside the API's writer batches on
/// PostgreSQL: it claims up to <see cref="SessionsPerBatch"/> sessions with <c>FOR UPDATE SKIP LOCKED</c> (another
/// instance's batch skips them and takes the next ones) and deletes those whose messages fit in
/// <see cref="RetentionOptions.MessagesPerBatch"/>, with one statement per table, so a session of any size goes in
/// several batches and no lock is held for long; SQLite's one writer
/// orders the batches with every other write. Counts come from what the statements deleted, so two instances
/// purging at once count each row once. A batch's files lose their rows in the batch and their bytes after its commit.
/// </summary>
public sealed class RetentionJob(Database database, WritePath writes, AttachmentRetention attachments, IOptions<RetentionOptions> options,
    TimeProvider time, ILogger<RetentionJob> logger) : BackgroundService
{
    public const int SessionsPerBatch = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A periodic timer keeps its beat while a purge runs: a tick that falls during one is not lost.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.IntervalSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await PurgeAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(e, "The retention purge failed; trying again at the next interval.");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One purge of every tenant with a retention; answers what this instance deleted, per tenant.</summary>
    public async Task<IReadOnlyDictionary<long, PurgeCounts>> PurgeAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.Now();
        var purged = new Dictionary<long, PurgeCounts>();
        foreach (var (tenantId, days) in await TenantsWithRetentionAsync(cancellationToken))
        {
            var cutoff = now - TimeSpan.FromSeconds((double)days * settings.SecondsPerDay);
            var total = new PurgeCounts();
            while (true)
            {
                var (batch, files) = await database.WriteApartAsync((connection, transaction) =>
                    PurgeBatchAsync(new ChangeScope(connection, transaction, now), tenantId, cutoff, settings.MessagesPerBatch, cancellationToken), cancellationToken);
                await attachments.DeleteBytesAsync(tenantId, files);
                if (batch.IsEmpty) break;
                total += batch;
                PrivacyMetrics.Purged.WithLabels("sessions").Inc(batch.Sessions);
                PrivacyMetrics.Purged.WithLabels("messages").Inc(batch.Messages);
                PrivacyMetrics.Purged.WithLabels("attachments").Inc(batch.Attachments);
                await Task.Delay(settings.PauseMilliseconds, cancellationToken); // real time: the pause is for the database, not the calendar
            }
            if (total.IsEmpty) continue;
            purged[tenantId] = total;
            // What this instance deleted, in one row per tenant and purge (another instance's batches write their own).
            await writes.RunAsync(_ => Task.FromResult(Change.Of(0, new Audited(tenantId, AuditActor.Service, "retention.purged", total.ToString()))), cancellationToken);
            logger.LogInformation("Retention purged tenant {Tenant}: {Counts}.", tenantId, total);
        }
        return purged;
    }

    private Task<List<(long TenantId, int Days)>> TenantsWithRetentionAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql("SELECT tenant_id, retention_days FROM tenant_settings WHERE retention_days IS NOT NULL ORDER BY tenant_id");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var tenants = new List<(long, int)>();
            while (await reader.ReadAsync(cancellationToken)) tenants.Add((reader.GetInt64(0), reader.GetInt32(1)));
            return tenants;
        }, cancellationToken);

    /// <summary>
    /// One batch: claims the tenant's sessions closed longest before <paramref name="cutoff"/> (up to
    /// <see cref="SessionsPerBatch"/>, locked for this transaction; on PostgreSQL those another instance holds are
    /// skipped, not waited for), keeps the oldest whose messages fit in <paramref name="budget"/>, and deletes them
    /// with set-based statements. A session larger than the budget loses its oldest messages instead, batch by batch,
    /// and goes once they are gone.
    /// </summary>
    internal static async Task<(PurgeCounts Counts, List<Guid> Files)> PurgeBatchAsync(ChangeScope scope, long tenantId, DateTimeOffset cutoff, int budget,
        CancellationToken cancellationToken)
    {
        var claimed = await ClaimAsync(scope, tenantId, cutoff, cancellationToken);
        if (claimed.Count == 0) return (new PurgeCounts(), []);
        var chosen = new List<Guid>();
        var messages = 0L;
        foreach (var (id, lastSeq) in claimed)
        {
            if (chosen.Count > 0 && messages + lastSeq > budget) break;
            chosen.Add(id);
            messages += lastSeq;
        }
        var files = new List<Guid>(await AttachmentRetention.DeleteRowsOfSessionsAsync(scope, tenantId, chosen, cancellationToken));
        if (messages > budget)
        {
            // One session larger than a batch: its oldest messages now, the rest (and the session) in the next batches.
            var deleted = await Forgetting.ForgetMessagesAsync(scope, tenantId, new ForgottenMessages.OldestOf(chosen[0]), budget, cancellationToken);
            if (deleted == budget) return (new PurgeCounts(0, deleted, files.Count), files);
            var gone = await Forgetting.DeleteSessionsAsync(scope, tenantId, chosen, cancellationToken);
            return (new PurgeCounts(gone, deleted, files.Count), files);
        }
        var forgotten = await Forgetting.ForgetMessagesAsync(scope, tenantId, new ForgottenMessages.OfSessions(chosen), budget, cancellationToken);
        var sessions = await Forgetting.DeleteSessionsAsync(scope, tenantId, chosen, cancellationToken);
        return (new PurgeCounts(sessions, forgotten, files.Count), files);
    }

    /// <summary>The tenant's sessions closed longest before <paramref name="cutoff"/> (the report facts' index of closes), with their message counts.</summary>
    private static async Task<List<(Guid Id, long LastSeq)>> ClaimAsync(ChangeScope scope, long tenantId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var skipLocked = scope.Connection is Npgsql.NpgsqlConnection ? "FOR UPDATE OF s SKIP LOCKED" : "";
        await using var command = scope.Sql($"""
            SELECT s.id, s.last_seq FROM session_facts f
            JOIN chat_sessions s ON s.tenant_id = f.tenant_id AND s.id = f.session_id
            WHERE f.tenant_id = @tenant AND f.closed_at IS NOT NULL AND f.closed_at < @cutoff AND s.status = 'CLOSED'
            ORDER BY f.closed_at LIMIT @take
            {skipLocked}
            """).With("tenant", tenantId).With("cutoff", cutoff).With("take", SessionsPerBatch);
        var sessions = new List<(Guid, long)>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) sessions.Add((reader.GetId(0), reader.GetInt64(1)));
        return sessions;
    }
}
