using Microsoft.Extensions.Options;

namespace Livechat.Attachments;

/// <summary>
/// Deletes staged uploads that no message took within <see cref="StagedLifetime"/> (contract section 15), with
/// their bytes, and frees their quota. Every instance runs it; the rows decide, so two sweeps never free twice.
/// </summary>
public sealed class StagedCleanup(AttachmentStore store, IAttachmentBytes bytes, IOptions<AttachmentOptions> options, TimeProvider time,
    ILogger<StagedCleanup> logger) : BackgroundService
{
    public static readonly TimeSpan StagedLifetime = TimeSpan.FromHours(24);
    private const int Batch = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.CleanupIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                await SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Deleting expired staged attachments failed; trying again at the next sweep.");
            }
        }
    }

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var expired = await store.DeleteStagedBeforeAsync(time.GetUtcNow() - StagedLifetime, Batch, cancellationToken);
            foreach (var (tenant, id) in expired) await bytes.DeleteAsync(tenant, id, CancellationToken.None);
            if (expired.Count > 0) logger.LogInformation("Deleted {Count} staged attachment(s) no message took within 24 h.", expired.Count);
            if (expired.Count < Batch) return;
        }
    }
}
