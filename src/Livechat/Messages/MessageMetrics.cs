using Livechat.Api;
using Livechat.Changes;

namespace Livechat.Messages;

/// <summary>Counts committed messages by the sender's side (<c>livechat_messages_sent_total</c>).</summary>
public sealed class MessageMetrics : IEventSink
{
    public void Publish(DomainEvent domainEvent)
    {
        if (domainEvent is MessageCreated created) LivechatMetrics.MessagesSent.WithLabels(created.ByAgent ? "agent" : "tenant_user").Inc();
    }
}
