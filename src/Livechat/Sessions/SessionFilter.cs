using System.Data.Common;
using System.Text;
using Livechat.Data;

namespace Livechat.Sessions;

/// <summary>
/// The filters of <c>GET /livechat/sessions</c> (contract section 18), combined with AND. Each is served by an
/// index that leads with <c>tenant_id</c> and keeps the list's newest-first order (migration 0080; the plans are in
/// docs/scaling.md): status, agent, customer, queued and the <c>created_at</c> range by an index of
/// <c>chat_sessions</c>, a label by <c>session_labels</c>' index on <c>(tenant_id, label, session_id)</c>.
/// </summary>
public sealed record SessionFilter(string? Status = null, long? AgentId = null, long? CustomerId = null, string? Label = null, bool? Queued = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null)
{
    /// <summary>The conditions after the tenant's (each begins with AND), or empty.</summary>
    public string Sql
    {
        get
        {
            var sql = new StringBuilder();
            if (Status is not null) sql.Append(" AND status = @status");
            if (AgentId is not null) sql.Append(" AND agent_id = @agent_id");
            if (CustomerId is not null) sql.Append(" AND customer_id = @customer_id");
            if (Label is not null)
                sql.Append(" AND EXISTS (SELECT 1 FROM session_labels l WHERE l.tenant_id = chat_sessions.tenant_id AND l.label = @label AND l.session_id = chat_sessions.id)");
            if (Queued is { } queued) sql.Append(queued ? " AND queued_at IS NOT NULL" : " AND queued_at IS NULL");
            if (From is not null) sql.Append(" AND created_at >= @from");
            if (To is not null) sql.Append(" AND created_at < @to");
            return sql.ToString();
        }
    }

    public DbCommand Bind(DbCommand command)
    {
        if (Status is not null) command.With("status", Status);
        if (AgentId is not null) command.With("agent_id", AgentId.Value);
        if (CustomerId is not null) command.With("customer_id", CustomerId.Value);
        if (Label is not null) command.With("label", Label);
        if (From is not null) command.With("from", From.Value);
        if (To is not null) command.With("to", To.Value);
        return command;
    }
}
