using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;
using Livechat.Sessions;

namespace Livechat.Notifications;

/// <summary>
/// Agents get notifications too (contract section 18), in the change's transaction, announced after its commit:
/// a tenant user's message notifies the session's agent (the one it has when the message is stored; a queued
/// session's customer notifies nobody), and a session assigned to an agent by routing or by a colleague notifies
/// that agent (not one that took it itself: its own start, its own claim).
/// </summary>
public sealed class NotifyAgents : IChangeHandler
{
    // One statement, deferred into the change's round trip; it reads the agent from the session row the send just
    // bumped, and writes nothing for a message that was not stored (MessageCreated.HappenedIf).
    private static readonly string MessageSql = $"""
        INSERT INTO notifications ({NotificationStore.Columns})
        SELECT livechat_uuidv7(@now), @tenant, s.agent_id, '{NotificationTypes.LivechatMessage}', @session, @message, @preview, @now, NULL
        FROM chat_sessions s
        WHERE s.tenant_id = @tenant AND s.id = @session AND s.agent_id IS NOT NULL AND {MessageCreated.HappenedSql}
        RETURNING id, user_id
        """;

    private static readonly string AssignedSql = $"""
        INSERT INTO notifications ({NotificationStore.Columns})
        VALUES (livechat_uuidv7(@now), @tenant, @agent, '{NotificationTypes.LivechatAssigned}', @session, NULL, @preview, @now, NULL)
        RETURNING id, user_id
        """;

    public Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        switch (domainEvent)
        {
            case MessageCreated { ByAgent: false } customer:
            {
                var message = customer.Message;
                Defer(scope, MessageSql, customer.TenantId, NotificationTypes.LivechatMessage, message.SessionId, message.Id, MessageRules.Preview(message.Message),
                        message.CreatedAt)
                    .With(EventCondition.Parameter, message.Id);
                break;
            }
            case SessionAssigned { Session.AgentId: { } agent } assigned when assigned.By != agent:
            {
                var session = assigned.Session;
                var preview = session.CustomerName is { } name ? $"New chat with {name}" : "A chat was assigned to you";
                Defer(scope, AssignedSql, session.TenantId, NotificationTypes.LivechatAssigned, session.Id, null, preview, scope.Now).With("agent", agent);
                break;
            }
        }
        return Task.CompletedTask;
    }

    private static System.Data.Common.DbCommand Defer(ChangeScope scope, string sql, long tenantId, string type, Guid sessionId, Guid? messageId, string preview,
        DateTimeOffset now) =>
        scope.DeferQuery(sql, async (reader, ct) =>
            {
                while (await reader.ReadAsync(ct))
                    scope.Announce(new NotificationCreated(new Notification(reader.GetId(0), tenantId, reader.GetInt64(1), type, sessionId, messageId, preview, now, null)));
            })
            .With("now", now).With("tenant", tenantId).With("session", sessionId).With("message", messageId).With("preview", preview);
}
