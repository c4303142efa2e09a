using Livechat.Changes;
using Livechat.Data;
using Livechat.Sessions;

namespace Livechat.Labels;

/// <summary>
/// Sessions' labels (contract section 18). A session's labels live twice, written by the one change below:
/// on its row (<c>chat_sessions.labels</c>, what every read of a session shows without a join) and one row
/// each in <c>session_labels</c> (what the list filter and the tenant's label counts read through an index).
/// </summary>
public sealed class LabelStore(Database database, WritePath writes)
{
    /// <summary>
    /// Replaces a session's labels with <paramref name="labels"/> (normalised, merged and sorted by the caller);
    /// null when the tenant has no such session. The same labels again change nothing and raise nothing.
    /// </summary>
    public Task<ChatSession?> ReplaceAsync(long tenantId, Guid sessionId, IReadOnlyList<string> labels, CancellationToken cancellationToken) =>
        writes.RunAsync<ChatSession?>(async scope =>
        {
            var column = SessionRows.LabelsColumn(labels);
            ChatSession? session = null;
            // The row decides: of two concurrent replaces, the second waits for the first's row lock (PostgreSQL)
            // or the one writer (SQLite), then compares with what the first wrote.
            await using (var update = scope.Sql($"""
                UPDATE chat_sessions SET labels = @labels
                WHERE tenant_id = @tenant AND id = @id AND labels IS DISTINCT FROM @labels
                RETURNING {SessionRows.Columns}
                """).With("tenant", tenantId).With("id", sessionId).With("labels", column))
            await using (var reader = await update.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken)) session = SessionRows.Read(reader);
            }
            if (session is null) return Change.Of(await SessionRows.FindAsync(scope, tenantId, sessionId, cancellationToken)); // the same labels, or none such

            await using (var clear = scope.Sql("DELETE FROM session_labels WHERE tenant_id = @tenant AND session_id = @id")
                .With("tenant", tenantId).With("id", sessionId))
            {
                await clear.ExecuteNonQueryAsync(cancellationToken);
            }
            if (labels.Count > 0)
            {
                var values = string.Join(", ", labels.Select((_, i) => $"(@tenant, @id, @label{i})"));
                await using var insert = scope.Sql($"INSERT INTO session_labels (tenant_id, session_id, label) VALUES {values}")
                    .With("tenant", tenantId).With("id", sessionId);
                for (var i = 0; i < labels.Count; i++) insert.With($"label{i}", labels[i]);
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
            return Change.Of<ChatSession?>(session, new SessionUpdated(session));
        }, cancellationToken, orderKey: sessionId);

    /// <summary>The tenant's labels in order, each with the number of sessions that carry it.</summary>
    public Task<List<TenantLabel>> ListAsync(long tenantId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql("""
                SELECT label, COUNT(*) FROM session_labels WHERE tenant_id = @tenant GROUP BY label ORDER BY label
                """).With("tenant", tenantId);
            var labels = new List<TenantLabel>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) labels.Add(new TenantLabel(reader.GetString(0), reader.GetInt64(1)));
            return labels;
        }, cancellationToken);
}
