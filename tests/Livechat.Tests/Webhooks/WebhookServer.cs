using Livechat.Tests.Infrastructure;

namespace Livechat.Tests.Webhooks;

/// <summary>
/// A server whose webhooks may call loopback (the receiver runs there), retry at once (the schedule scaled to
/// zero) and time out after 2 s, with a receiver beside it.
/// </summary>
public abstract class WebhookServer : LivechatServer
{
    protected WebhookServer(DatabaseProvider provider) : base(provider)
    {
        Settings["Livechat:Webhooks:AllowPrivateNetworks"] = "true";
        Settings["Livechat:Webhooks:FirstRetryMilliseconds"] = "0";
        Settings["Livechat:Webhooks:PollMilliseconds"] = "50";
        Settings["Livechat:Webhooks:TimeoutSeconds"] = "2";
        Settings["Livechat:Webhooks:LeaseSeconds"] = "4";
    }

    public WebhookReceiver Receiver { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    /// <summary>A SUPPORT_ADMIN of <paramref name="tenantId"/>.</summary>
    public Caller Admin(long tenantId) => new(this, NewUserId(), tenantId, ["SUPPORT_ADMIN"]);
}

public sealed class WebhookSqliteServer() : WebhookServer(DatabaseProvider.Sqlite);

public sealed class WebhookPostgresServer() : WebhookServer(DatabaseProvider.Postgres);
