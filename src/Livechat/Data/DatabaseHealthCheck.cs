using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Livechat.Data;

/// <summary>Ready means the database answers a query now.</summary>
public sealed class DatabaseHealthCheck(Database database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await database.ReadAsync(async connection =>
            {
                await using var command = connection.Sql("SELECT 1");
                return await command.ExecuteScalarAsync(timeout.Token);
            }, timeout.Token);
            return HealthCheckResult.Healthy($"{database.Describe} answers");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{database.Describe} does not answer", e);
        }
    }
}
