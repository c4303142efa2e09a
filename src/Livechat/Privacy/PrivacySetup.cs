namespace Livechat.Privacy;

public static class PrivacySetup
{
    /// <summary>Retention, erasure and the audit log (contract section 21). The audit log's handler is in <see cref="Startup.ChangeHandlersInOrder"/>.</summary>
    public static IServiceCollection AddPrivacy(this IServiceCollection services)
    {
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SettingsStore>();
        services.AddSingleton<AuditStore>();
        services.AddSingleton<ErasureStore>();
        services.AddSingleton<ErasureWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ErasureWorker>());
        services.AddSingleton<RetentionJob>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionJob>());
        return services;
    }
}
