using Livechat.Messages;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Livechat.Attachments;

/// <summary>
/// Scans uploads with clamd when <c>Livechat:Attachments:ClamAv</c> is set: claims the oldest <c>scanning</c>
/// upload in the database (a lease, so two instances never scan one upload at once), streams its bytes to
/// clamd, and records <c>ready</c> or <c>rejected</c> (bytes deleted). While clamd does not answer, the upload
/// stays <c>scanning</c> and is tried again every <see cref="AttachmentOptions.ScanRetrySeconds"/>.
/// </summary>
public sealed class AttachmentScanner(AttachmentStore store, IAttachmentBytes bytes, SignedUrls urls, IOptions<AttachmentOptions> options,
    TimeProvider time, ILogger<AttachmentScanner> logger) : BackgroundService
{
    /// <summary>Long enough for any scan; a scanner that dies holding a lease only delays that upload this long.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private readonly SemaphoreSlim wake = new(0, 1);
    private readonly ClamdClient? clamd = string.IsNullOrWhiteSpace(options.Value.ClamAv) ? null : ClamdClient.Parse(options.Value.ClamAv);

    public bool Enabled => clamd is not null;

    /// <summary>An upload is waiting: look now rather than at the next poll.</summary>
    public void Wake()
    {
        try { wake.Release(); } catch (SemaphoreFullException) { }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (clamd is null) return;
        var retry = TimeSpan.FromSeconds(options.Value.ScanRetrySeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNow();
                if (await store.ClaimScanAsync(now, now + Lease, stoppingToken) is not { } row)
                {
                    await wake.WaitAsync(retry, stoppingToken); // polls too: uploads another instance took in
                    continue;
                }
                if (!await ScanAsync(clamd, row, stoppingToken))
                {
                    await store.ReleaseScanAsync(row, time.GetUtcNow() + retry, stoppingToken);
                    await Task.Delay(retry, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "The attachment scanner failed; it tries again in {Seconds} s.", retry.TotalSeconds);
                await Task.Delay(retry, stoppingToken);
            }
        }
    }

    /// <summary>Scans one claimed upload; false when clamd could not be asked (it is tried again later).</summary>
    private async Task<bool> ScanAsync(ClamdClient client, Livechat.Attachments.AttachmentRow row, CancellationToken cancellationToken)
    {
        var id = row.Attachment.Id;
        bool clean;
        await using (var content = await bytes.OpenReadAsync(row.TenantId, id, cancellationToken))
        {
            if (content is null) return true; // deleted while it waited: nothing to scan
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(Lease / 2);
                clean = await client.IsCleanAsync(content, timeout.Token);
            }
            catch (Exception e) when (e is SocketException or IOException or ClamdException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                logger.LogWarning("clamd at {Clamd} could not scan attachment {Id} ({Reason}); it stays scanning and is tried again.", client, id, e.Message);
                return false;
            }
        }
        var finished = await store.FinishScanAsync(row, clean, r => AttachmentsApi.WithUrl(r.TenantId, r.Attachment, urls), cancellationToken);
        if (!clean)
        {
            logger.LogWarning("clamd found malware in attachment {Id} of tenant {Tenant}: rejected, its bytes deleted.", id, row.TenantId);
            await bytes.DeleteAsync(row.TenantId, id, CancellationToken.None);
        }
        else if (finished is null)
        {
            logger.LogInformation("Attachment {Id} was deleted while it was scanned.", id);
        }
        return true;
    }

    public override void Dispose()
    {
        wake.Dispose();
        base.Dispose();
    }
}
