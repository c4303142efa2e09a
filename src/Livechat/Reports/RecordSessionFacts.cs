using Livechat.Changes;
using Livechat.Data;
using Livechat.Messages;
using Livechat.Sessions;

namespace Livechat.Reports;

/// <summary>
/// Records the facts the reports read (<c>session_facts</c>, docs/reports.md) in the transaction of the change
/// that made them true: a start, an assignment, a close, a rating, the first message of the session's agent.
/// Every statement is deferred (it joins the change's one round trip before the commit) and conditional, so an
/// event seen again never overwrites a fact: the first assignment, the first response and the close stay.
/// A tenant user's message never costs a statement; an agent's costs one only until this process has seen
/// that agent write in that session (<see cref="FirstResponses"/>). The fact that ends a duration writes it too, in
/// seconds (the reports sort these: ADR 0035).
/// </summary>
public sealed class RecordSessionFacts(FirstResponses firstResponses, Database database) : IChangeHandler
{
    private const string StartedSql = """
        INSERT INTO session_facts (tenant_id, session_id, started_at, queued_at, assigned_at, agent_id)
        VALUES (@tenant, @session, @at, @queued_at, @assigned_at, @agent)
        ON CONFLICT (tenant_id, session_id) DO NOTHING
        """;

    // The queue wait ends with the first assignment of a session that waited (the right-hand sides read the row as it was).
    private readonly string assignedSql = $"""
        UPDATE session_facts SET agent_id = @agent, assigned_at = COALESCE(assigned_at, @at),
            queue_wait_seconds = CASE WHEN assigned_at IS NULL THEN {SecondsBetween(database, "@at", "queued_at")} ELSE queue_wait_seconds END
        WHERE tenant_id = @tenant AND session_id = @session
        """;

    // The close also keeps the session's number of messages: final, since a closed session takes none (its row, closed
    // in this transaction, is locked against sends until the commit).
    private readonly string closedSql = $"""
        UPDATE session_facts SET closed_at = @at, resolution_seconds = {SecondsBetween(database, "@at", "started_at")},
            messages = (SELECT s.last_seq FROM chat_sessions s WHERE s.tenant_id = @tenant AND s.id = @session)
        WHERE tenant_id = @tenant AND session_id = @session AND closed_at IS NULL
        """;

    private const string RatedSql = """
        UPDATE session_facts SET rating_score = @score
        WHERE tenant_id = @tenant AND session_id = @session AND rating_score IS NULL
        """;

    /// <summary>
    /// Only the session's agent answers for it: a message of another agent (a colleague helping) is not its first response;
    /// and only a message that was stored (a send to a session that was not open made none: <see cref="MessageCreated.HappenedIf"/>).
    /// </summary>
    private readonly string firstResponseSql = $"""
        UPDATE session_facts SET first_response_at = @at, first_response_seconds = {SecondsBetween(database, "@at", "started_at")}
        WHERE tenant_id = @tenant AND session_id = @session AND agent_id = @agent AND first_response_at IS NULL
          AND {MessageCreated.HappenedSql}
        """;

    public Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken)
    {
        switch (domainEvent)
        {
            case MessageCreated { ByAgent: true, Message.Internal: false } reply when !firstResponses.Seen(reply.TenantId, reply.Message.SessionId, reply.Message.SenderId):
                scope.Defer(firstResponseSql).With("tenant", reply.TenantId).With("session", reply.Message.SessionId)
                    .With("agent", reply.Message.SenderId).With("at", reply.Message.CreatedAt).With(EventCondition.Parameter, reply.Message.Id);
                break;
            case SessionStarted { Session: var session }:
                scope.Defer(StartedSql).With("tenant", session.TenantId).With("session", session.Id).With("at", session.CreatedAt)
                    .With("queued_at", session.AgentId is null ? session.CreatedAt : (DateTimeOffset?)null)
                    .With("assigned_at", session.AgentId is null ? null : (DateTimeOffset?)session.CreatedAt).With("agent", session.AgentId);
                break;
            case SessionAssigned { Session: { AgentId: { } agent } session }:
                scope.Defer(assignedSql).With("tenant", session.TenantId).With("session", session.Id).With("agent", agent).With("at", session.UpdatedAt);
                break;
            case SessionUpdated { Session: { Status: SessionStatus.Closed } session }:
                scope.Defer(closedSql).With("tenant", session.TenantId).With("session", session.Id).With("at", session.UpdatedAt);
                break;
            case SessionRated rated:
                scope.Defer(RatedSql).With("tenant", rated.TenantId).With("session", rated.Rating.SessionId).With("score", rated.Rating.Score);
                break;
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// The seconds from <paramref name="earlier"/> to <paramref name="later"/>, to the microsecond; null if either is null (a
    /// session never queued has no queue wait). SQLite keeps times as fixed-width text (<c>yyyy-MM-ddTHH:mm:ss.ffffffZ</c>,
    /// a parameter too) and its date functions keep milliseconds: those come from <c>julianday</c> of the text cut after
    /// them (a whole number of milliseconds, rounded out of the double's last bits), the microseconds from the text.
    /// Migration 0072 works out the sessions from before it the same way.
    /// </summary>
    private static string SecondsBetween(Database database, string later, string earlier) => database.Describe == "postgres"
        ? $"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS double precision)"
        : $"""
            ((ROUND((julianday(substr({later}, 1, 23)) - julianday(substr({earlier}, 1, 23))) * 86400000) * 1000
              + CAST(substr({later}, 24, 3) AS INTEGER) - CAST(substr({earlier}, 24, 3) AS INTEGER)) / 1000000.0)
            """;
}
