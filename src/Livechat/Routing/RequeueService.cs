using Microsoft.Extensions.Options;

namespace Livechat.Routing;

/// <summary>
/// No stranded chats: every instance looks, a few times per <see cref="RoutingOptions.RequeueAfterSeconds"/>,
/// for agents that have been OFFLINE that long and gives their sessions back to the queue. Instances that look
/// at once do not requeue a chat twice: each session row is moved by one conditional UPDATE.
/// </summary>
public sealed class RequeueService(DeskStore desk, IOptions<RoutingOptions> options, TimeProvider time, ILogger<RequeueService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RequeueCheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var requeued = await desk.RequeueDepartedAsync(stoppingToken);
                if (requeued > 0) logger.LogInformation("Requeued {Count} session(s) of agents that went offline.", requeued);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not requeue the sessions of agents that went offline.");
            }
        }
    }
}
