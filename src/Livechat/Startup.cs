using Livechat.Agents;
using Livechat.Attachments;
using Livechat.Auth;
using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;
using Livechat.Api;
using Livechat.Notifications;
using Livechat.Reading;
using Livechat.Realtime;
using Livechat.Reports;
using Livechat.Routing;
using Livechat.Sessions;
using Livechat.Tenants;
using Livechat.Tickets;
using Livechat.Webhooks;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Livechat;

public static class Startup
{
    /// <summary>Storage and the feature stores, shared by the web app and the command-line verbs.</summary>
    public static IServiceCollection AddLivechatCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System); // a test may have put a fake clock first
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TenantOptions>().BindConfiguration(TenantOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PresenceOptions>().BindConfiguration(PresenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => Database.Create(sp.GetRequiredService<IOptions<DatabaseOptions>>()));
        // The wire format, and each feature's shapes in it (compile-time JSON contexts, no reflection).
        services.AddWireJson()
            .AddJsonTypes(AgentsJson.Default).AddJsonTypes(MessagesJson.Default).AddJsonTypes(SessionsJson.Default)
            .AddJsonTypes(TicketsJson.Default).AddJsonTypes(NotificationsJson.Default).AddJsonTypes(ReadingJson.Default)
            .AddJsonTypes(ReportsJson.Default).AddJsonTypes(RealtimeJson.Default).AddJsonTypes(Livechat.Canned.CannedJson.Default).AddJsonTypes(Livechat.Labels.LabelsJson.Default)
            .AddJsonTypes(Livechat.Search.SearchJson.Default).AddJsonTypes(Livechat.Transcripts.TranscriptsJson.Default).AddJsonTypes(Livechat.Privacy.PrivacyJson.Default).AddJsonTypes(Livechat.WebConsole.WebConsoleJson.Default);
        // The write path: handlers that commit with a change (ChangeHandlersInOrder), sinks that hear of it after the commit.
        services.AddSingleton<WritePath>();
        services.TryAddSingleton(sp => new ChangeHandlers(ChangeHandlersInOrder(sp)));
        services.AddSingleton<WebhookTenants>();
        services.AddSingleton<IEventSink, MessageMetrics>();
        services.AddSingleton<KnownParticipants>();
        services.AddSingleton<IEventSink>(sp => sp.GetRequiredService<KnownParticipants>());
        services.AddSingleton<FirstResponses>();
        services.AddSingleton<IEventSink>(sp => sp.GetRequiredService<FirstResponses>());
        services.AddSingleton<ReportStore>();
        services.AddSingleton<IEventSink>(sp => sp.GetRequiredService<RealtimePublisher>());
        services.AddSingleton<TenantStore>();
        services.AddSingleton<TenantDirectory>();
        services.AddSingleton<AgentStore>();
        services.AddSingleton<ICallerLog>(sp => sp.GetRequiredService<AgentStore>());
        services.AddSingleton<SessionStore>();
        services.AddOptions<RoutingOptions>().BindConfiguration(RoutingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CapacityOptions>().BindConfiguration(CapacityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AgentSlots>();
        services.AddSingleton<DeskStore>();
        services.AddHostedService<RequeueService>();
        services.AddSingleton<MessageStore>();
        services.AddSingleton<TicketStore>();
        services.AddSingleton<Livechat.Canned.CannedStore>();
        services.AddSingleton<Livechat.Labels.LabelStore>();
        services.AddSingleton<Livechat.Search.SearchStore>();
        services.AddSingleton<Livechat.Search.SearchBackfill>();
        services.AddHostedService(sp => sp.GetRequiredService<Livechat.Search.SearchBackfill>());
        services.AddSingleton<Livechat.Search.SearchUpkeep>();
        services.AddHostedService(sp => sp.GetRequiredService<Livechat.Search.SearchUpkeep>());
        services.AddSingleton<Livechat.Transcripts.TranscriptStore>();
        services.AddSingleton<NotificationStore>();
        services.AddHostedService<IdempotencyJanitor>();
        services.AddOptions<RealtimeOptions>().BindConfiguration(RealtimeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SessionStreams>();
        services.AddSingleton<AgentConnections>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentConnections>());
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<EventLog>();
        services.AddHostedService(sp => sp.GetRequiredService<EventLog>());
        services.AddSingleton<UserStreams>();
        services.AddSingleton<LocalDelivery>();
        services.AddHostedService(sp => sp.GetRequiredService<LocalDelivery>());
        services.AddSingleton<ReadMarkers>();
        // The typing clock is its own service so tests can fake it without faking the whole server's time.
        services.TryAddKeyedSingleton<TimeProvider>(TypingIndicators.ClockKey, (sp, _) => sp.GetRequiredService<TimeProvider>());
        services.AddSingleton<TypingIndicators>();
        services.AddSingleton<RealtimePublisher>();
        // Every webhook type the features declare, in the catalogue's order (contract section 13).
        services.AddSingleton(new DeclaredWebhookTypes(
            [SessionStarted.WebhookType, SessionUpdated.WebhookType, SessionRated.WebhookType, MessageCreated.WebhookType, MessageCreated.NoteWebhookType, MessagesRead.WebhookType, TicketOpened.WebhookType]));
        // Every event clients hear, as each declares itself: the pages listen for these names.
        services.AddSingleton(new PushedEventNames(new[]
        {
            MessageCreated.Name, SessionStarted.Name, SessionUpdated.Name, SessionAssigned.Name, NotificationCreated.Name,
            PresenceUpdated.Name, MessagesRead.Name, TypingChanged.Name, AttachmentUpdated.Name, SessionRated.Name,
        }.Distinct().ToList()));
        services.AddSingleton<OpenHubConnections>();
        services.AddSingleton<HubConnectionOwners>();
        services.AddHostedService(sp => sp.GetRequiredService<OpenHubConnections>());
        services.AddHostedService(sp => sp.GetRequiredService<RealtimePublisher>());
        // The publisher sends through the hub context; the command-line verbs get it too and never start it.
        services.AddLogging(logging => logging.AddFilter(HubCallLogging.DispatcherCategory, LogLevel.Critical));
        // No SignalR backplane: every hub send is to this instance's own connections, from the one ordered log of
        // events that reaches every instance (Realtime/EventLog.cs, ADR 0024).
        services.AddSignalR(options =>
            {
                options.MaximumReceiveMessageSize = 32 * 1024;
                options.AddFilter<HubCallLogging>(); // first: it also logs the rate limit's refusals
                options.AddFilter<HubRateLimitFilter>();
            })
            .AddJsonProtocol();
        // The hub's payloads in the wire format, with every feature's shapes: the HTTP options' resolvers, in their order.
        services.AddOptions<JsonHubProtocolOptions>().Configure<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>((hub, http) =>
        {
            Json.Configure(hub.PayloadSerializerOptions);
            // Before the hub's own reflection-based default, as the HTTP options have them.
            var chain = hub.PayloadSerializerOptions.TypeInfoResolverChain;
            var at = 0;
            foreach (var resolver in http.Value.SerializerOptions.TypeInfoResolverChain) chain.Insert(at++, resolver);
        });
        return services;
    }

    /// <summary>
    /// Every change handler, in the order each event meets them: the one place that lists them (a test may
    /// register its own <see cref="ChangeHandlers"/> first, this list with a fault added).
    /// </summary>
    public static IReadOnlyList<IChangeHandler> ChangeHandlersInOrder(IServiceProvider services) =>
    [
        // A reply notifies the tenant side (deferred: the rows it returns are announced).
        ActivatorUtilities.CreateInstance<NotifyTenantSide>(services),
        new NotifyAgents(),
        // A refused chat gets a ticket, a routing change moves the queue (these read and write as they go).
        new TicketForRefusedChat(),
        ActivatorUtilities.CreateInstance<QueueRouting>(services),
        // A sent message moves its sender's read marker.
        new MoveSendersMarker(),
        // The facts the reports read, recorded as they happen.
        ActivatorUtilities.CreateInstance<RecordSessionFacts>(services),
        // An administrative action's row in the audit log commits with it (contract section 21).
        new Livechat.Privacy.RecordAudit(),
        // Every webhook-bearing event (the ones the handlers above raised too) goes to the outbox.
        ActivatorUtilities.CreateInstance<WebhookEventHandler>(services),
        // Last: who hears of a session's event, read after every other handler, so it sees whoever they added.
        new SessionAudiences(),
    ];

    /// <summary>
    /// Migrates the database, then, in Development only, makes the first minute easy: tenant 1 ("Demo")
    /// when there is no tenant, and a ready agent token with a curl line in the log.
    /// </summary>
    public static async Task PrepareAsync(IServiceProvider services, IHostEnvironment environment, ILogger logger, CancellationToken cancellationToken)
    {
        var database = services.GetRequiredService<Database>();
        await Migrations.ApplyAsync(database, logger, cancellationToken);
        if (!environment.IsDevelopment()) return;

        var tenants = services.GetRequiredService<TenantStore>();
        if ((await tenants.ListAsync(cancellationToken)).Count == 0)
        {
            await tenants.AddAsync(1, "Demo", null, cancellationToken);
            logger.LogInformation("Development: created tenant 1 \"Demo\".");
        }
        var auth = services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (string.IsNullOrEmpty(auth.SigningKey)) return;
        var time = services.GetRequiredService<TimeProvider>();
        var token = TokenIssuer.Issue(auth, 1, [1], [Roles.SupportAgent], TimeSpan.FromHours(12), time.GetUtcNow());
        // The curl line needs the address Kestrel really bound, known only once the server has started.
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        var server = services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>();
        lifetime.ApplicationStarted.Register(() =>
        {
            var url = server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://localhost:5080";
            logger.LogInformation("Development: an agent token (user 1, tenant 1, 12 h): export TOKEN={Token}", token);
            logger.LogInformation("Development: start a session with: curl -s -X POST {Url}/livechat/sessions -H \"Authorization: Bearer $TOKEN\" -H \"X-Tenant-ID: 1\" -H \"Content-Type: application/json\" -d '{{}}'", url);
        });
    }
}
