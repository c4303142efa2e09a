using Livechat;
using Livechat.Agents;
using Livechat.Api;
using Livechat.Attachments;
using Livechat.Auth;
using Livechat.Canned;
using Livechat.Labels;
using Livechat.Search;
using Livechat.Transcripts;
using Livechat.Data;
using Livechat.Messages;
using Livechat.Notifications;
using Livechat.Privacy;
using Livechat.Reading;
using Livechat.Realtime;
using Livechat.Reports;
using Livechat.Routing;
using Livechat.Sessions;
using Livechat.Tenants;
using Livechat.Tickets;
using Livechat.WebConsole;
using Livechat.Webhooks;
using Prometheus;
using Scalar.AspNetCore;

// No verb, `serve`, or only options (--urls, and what the test host passes): run the service.
// Anything else is a command-line verb (tenants, token, migrate).
if (Cli.IsServe(args))
{
    try
    {
        var app = await Program.BuildAsync(args.SkipWhile(a => a == "serve").ToArray());
        await app.RunAsync();
        return 0;
    }
    catch (Microsoft.Extensions.Options.OptionsValidationException e)
    {
        // A configuration mistake is the operator's to fix: say what, without a stack trace.
        await Console.Error.WriteLineAsync($"Livechat cannot start: {e.Message}");
        return 2;
    }
    catch (Livechat.Data.DatabaseUnavailableException e)
    {
        await Console.Error.WriteLineAsync($"Livechat cannot start: {e.Message}");
        return 3;
    }
}
return await Cli.RunAsync(args);

public partial class Program
{
    /// <summary>Builds the web app, applies migrations and, in Development, seeds the demo tenant.</summary>
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings files sit beside the binary, wherever it is started from.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder); // first: what it configures decides what gets registered below
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 64 * 1024;
        });
        builder.Logging.Configure(options => options.ActivityTrackingOptions = ActivityTrackingOptions.None);
        builder.Services.AddLivechatCore(builder.Configuration);
        builder.Services.AddLivechatAuth();
        builder.Services.AddLivechatRateLimits();
        builder.Services.AddLivechatLimits();
        builder.Services.AddWebhooks();
        builder.Services.AddAttachments();
        builder.Services.AddPrivacy();
        builder.Services.AddLivechatTracing(builder.Configuration);
        builder.Services.AddOpenApi(options => options.AddLivechatDocument());
        var health = builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [Health.ReadyTag]);
        if (builder.Configuration.GetSection(RedisOptions.Section).Get<RedisOptions>()?.Enabled == true)
            health.AddCheck<RedisHealthCheck>("redis", tags: [Health.ReadyTag]);

        var app = builder.Build();
        // Fail fast, before touching the database, when no token could ever be validated.
        _ = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>().Value;
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseEnvelopeErrors();
        app.UseHttpMetrics();
        app.UseHostHeaderCheck(); // before anything reads the host name
        app.UseConsolePages(); // the web pages: static files, before authentication (they hold no data)
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseTenants();
        app.UseHubDoor();
        app.UseRateLimiter();
        app.UseRequestTimeouts();
        app.UseMiddleware<IdempotencyMiddleware>();

        // The document is built on its first request: over a second on a busy 2-core machine since the API grew past
        // a hundred operations, which a short request time-out (Livechat__Timeouts) cut off mid-response.
        app.MapOpenApi().DisableRequestTimeout();
        app.MapScalarApiReference("/docs", options => options.WithTitle("Livechat API"));
        app.MapHealth();
        app.MapMetrics("/metrics").DisableRateLimiting().ReadOnly();
        app.MapSessions();
        app.MapMessages();
        app.MapAgents();
        app.MapUsers();
        app.MapRouting();
        app.MapTickets();
        app.MapCannedResponses();
        app.MapLabels();
        app.MapSearch();
        app.MapNotifications();
        app.MapWebhooks();
        app.MapReports();
        app.MapTranscripts();
        app.MapPrivacy();
        app.MapHub<LivechatHub>(AuthSetup.HubPath).WithHubMethods().RequireTenant().DisableRequestTimeout();
        app.MapSessionEvents();
        app.MapReading();
        app.MapTyping();
        app.MapUserStream();
        app.MapAttachments();
        if (app.Environment.IsDevelopment()) app.MapDevTokens();

        await Startup.PrepareAsync(app.Services, app.Environment, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Livechat.Startup"), CancellationToken.None);
        return app;
    }
}
