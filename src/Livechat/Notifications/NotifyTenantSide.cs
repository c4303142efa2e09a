using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;

namespace Livechat.Notifications;

/// <summary>
/// An agent's reply notifies the tenant side, in the reply's transaction, with one set-based insert.
/// Recipients: the tenant users who take part in the session (started it or wrote in it); while none has,
/// the tenant's most recently seen users, at most <see cref="MaxFallbackRecipients"/>, so the first reply to
/// a session an agent opened still reaches someone without writing a row for every user of a large tenant.
/// Only for a reply that was stored (<see cref="MessageCreated.HappenedIf"/>): a planned reply to a session
/// that had closed notifies nobody.
/// </summary>
public sealed class NotifyTenantSide(KnownParticipants participants) : IChangeHandler
{
    public const int MaxFallbackRecipients = 50;

    private static readonly string Insert = $"""
        INSERT INTO notifications ({NotificationStore.Columns})
        SELECT livechat_uuidv7(@now), @tenant, recipient.user_id, '{NotificationTypes.LivechatReply}', @session, @message, @preview, @now, NULL
        """;

    private static readonly string Sql = $"""
        {Insert}
        FROM (
            SELECT user_id FROM session_participants WHERE tenant_id = @tenant AND session_id = @session
            UNION ALL
            SELECT user_id FROM (
                SELECT user_id FROM tenant_users
                WHERE tenant_id = @tenant
                  AND NOT EXISTS (SELECT 1 FROM session_participants WHERE tenant_id = @tenant AND session_id = @session)
                ORDER BY last_seen_at DESC, user_id
                LIMIT {MaxFallbackRecipients}
            ) fallback
        ) recipient
        WHERE {MessageCreated.HappenedSql}
        RETURNING id, user_id
        """;

    /// <summary>
    /// The same insert for a session this process has seen a participant of: participation is never removed,
    /// so the fallback would find nothing, and the statement leaves it out. That half cost a reply's insert
    /// about a third of its time on PostgreSQL even when it found nothing (its sort is set up either way).
    /// </summary>
    private static readonly string ParticipantsSql = $"""
        {Insert}
        FROM session_participants recipient WHERE recipient.tenant_id = @tenant AND recipient.session_id = @session AND {MessageCreated.HappenedSql}
        RETURNING id, user_id
        """;

    public Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        if (domainEvent is not MessageCreated { ByAgent: true, Message.Internal: false } reply) return Task.CompletedTask; // a note notifies nobody
        var message = reply.Message;
        var preview = MessageRules.Preview(message.Message);
        // Deferred: it joins the change's one round trip before the commit; the rows it returns are announced.
        scope.DeferQuery(participants.AnyIn(reply.TenantId, message.SessionId) ? ParticipantsSql : Sql, async (reader, ct) =>
            {
                while (await reader.ReadAsync(ct))
                {
                    scope.Announce(new NotificationCreated(new Notification(reader.GetId(0), reply.TenantId, reader.GetInt64(1), NotificationTypes.LivechatReply,
                        message.SessionId, message.Id, preview, message.CreatedAt, null)));
                }
            })
            .With("now", message.CreatedAt).With("tenant", reply.TenantId).With("session", message.SessionId)
            .With("message", message.Id).With("preview", preview).With(EventCondition.Parameter, message.Id);
        return Task.CompletedTask;
    }
}
