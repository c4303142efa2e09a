using Livechat.Api;
using Microsoft.Extensions.Options;

namespace Livechat.Webhooks;

public static class WebhookSetup
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.MaxConcurrencyPerTenant <= o.MaxConcurrency,
                "Livechat:Webhooks:MaxConcurrencyPerTenant must not be greater than Livechat:Webhooks:MaxConcurrency.")
            .ValidateOnStart();
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookCatalogue>();
        // Its change handler (WebhookEventHandler) and the hint it keeps (WebhookTenants) are in the write path's one list (Startup).
        services.AddJsonTypes(WebhookJsonContext.Default);
        services.AddHostedService<WebhookDispatcher>();
        services.AddHttpClient(WebhookDispatcher.HttpClientName, client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan; // the dispatcher times each attempt itself
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Livechat-Webhooks/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var settings = provider.GetRequiredService<IOptions<WebhookOptions>>().Value;
                return new SocketsHttpHandler
                {
                    // A redirect could lead anywhere, including into our own network: never followed.
                    AllowAutoRedirect = false,
                    // A proxy would make the connect-time address check judge the proxy, not the receiver.
                    UseProxy = false,
                    UseCookies = false,
                    ConnectTimeout = TimeSpan.FromSeconds(settings.TimeoutSeconds),
                    PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                    ConnectCallback = (context, cancellationToken) => NetworkGuard.ConnectAsync(context, settings.AllowPrivateNetworks, cancellationToken),
                };
            })
            // Webhook URLs may carry a tenant's tokens in their query: the client's own request logging stays off.
            .RemoveAllLoggers();
        return services;
    }
}
