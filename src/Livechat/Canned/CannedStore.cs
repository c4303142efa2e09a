using System.Data.Common;
using Livechat.Agents;
using Livechat.Api;
using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Canned;

public abstract record CannedUpdateOutcome
{
    public sealed record Updated(CannedResponse Response) : CannedUpdateOutcome;
    public sealed record NotFound : CannedUpdateOutcome;
    public sealed record ShortcutTaken : CannedUpdateOutcome;
}

/// <summary>
/// The tenant's canned responses. A shortcut is unique in the tenant, and the unique index
/// <c>(tenant_id, shortcut)</c> decides it: two concurrent creates of one shortcut cannot both commit.
/// </summary>
public sealed class CannedStore(Database database, WritePath writes, TimeProvider time)
{
    private const string Columns = "id, shortcut, title, body, created_by, created_at, updated_at";

    /// <summary>Creates a canned response; null (in the outcome) when the tenant has the shortcut already.</summary>
    public Task<Written<CannedResponse?>> CreateAsync(CurrentUser agent, string shortcut, string title, string body, AuditActor actor, IdempotencyClaim? claim,
        CancellationToken cancellationToken) =>
        writes.RunAsync<CannedResponse?>(async scope =>
        {
            // ON CONFLICT makes a taken shortcut an answer, not an error: a concurrent create waits for the winner's
            // commit, then inserts nothing.
            await using var command = scope.Sql($"""
                INSERT INTO canned_responses (tenant_id, id, shortcut, title, title_words, body, created_by, created_at, updated_at)
                VALUES (@tenant, @id, @shortcut, @title, @words, @body, @agent, @now, @now)
                ON CONFLICT (tenant_id, shortcut) DO NOTHING
                RETURNING {Columns}
                """)
                .With("tenant", agent.TenantId).With("id", Guid.CreateVersion7(scope.Now)).With("shortcut", shortcut).With("title", title)
                .With("words", CannedText.Words(title)).With("body", body).With("agent", agent.UserId).With("now", scope.Now);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken)) return Change.Of<CannedResponse?>(null);
            var created = Read(reader);
            return Change.Of<CannedResponse?>(created, Audit(agent.TenantId, actor, "canned_response.created", created.Id));
        }, claim, cancellationToken);

    public Task<CannedResponse?> FindAsync(long tenantId, Guid id, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {Columns} FROM canned_responses WHERE tenant_id = @tenant AND id = @id")
                .With("tenant", tenantId).With("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }, cancellationToken);

    /// <summary>
    /// What a session of the tenant gives the placeholders, or null when the tenant has no such session. The customer
    /// is the session's creator when a tenant user started it (a tenant user who starts a session takes part in it).
    /// </summary>
    public Task<RenderValues?> RenderValuesAsync(long tenantId, Guid sessionId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"""
                SELECT CASE WHEN EXISTS (SELECT 1 FROM session_participants p
                                         WHERE p.tenant_id = s.tenant_id AND p.session_id = s.id AND p.user_id = s.created_by)
                            THEN {UserNames.Of("s.tenant_id", "s.created_by")} END,
                       {UserNames.Of("s.tenant_id", "s.agent_id")}
                FROM chat_sessions s WHERE s.tenant_id = @tenant AND s.id = @session
                """).With("tenant", tenantId).With("session", sessionId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? new RenderValues(sessionId, reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1))
                : null;
        }, cancellationToken);

    /// <summary>
    /// In shortcut order, with keyset pagination on the shortcut (unique in the tenant). <paramref name="query"/>
    /// matches the start of the shortcut or of any word of the title, case-insensitive (<see cref="CannedText.Words"/>).
    /// Null when the cursor is not a canned response of the tenant.
    /// </summary>
    public Task<Page<CannedResponse>?> ListAsync(long tenantId, string? query, PageRequest page, CancellationToken cancellationToken) =>
        database.ReadAsync<Page<CannedResponse>?>(async connection =>
        {
            string? after = null;
            if (page.Cursor is { } cursor)
            {
                await using var find = connection.Sql("SELECT shortcut FROM canned_responses WHERE tenant_id = @tenant AND id = @cursor")
                    .With("tenant", tenantId).With("cursor", cursor);
                if (await find.ExecuteScalarAsync(cancellationToken) is not string shortcut) return null;
                after = shortcut;
            }
            var words = query is null ? "" : CannedText.Words(query);
            var search = query is null ? ""
                : words.Length == 0 ? @"AND shortcut LIKE @prefix ESCAPE '\'"
                : @"AND (shortcut LIKE @prefix ESCAPE '\' OR title_words LIKE @words ESCAPE '\')";
            var keyset = after is null ? "" : page.Backward ? "AND shortcut < @after" : "AND shortcut > @after";
            await using var command = connection.Sql($"""
                SELECT {Columns} FROM canned_responses
                WHERE tenant_id = @tenant {search} {keyset}
                ORDER BY shortcut {(page.Backward ? "DESC" : "ASC")} LIMIT @take
                """)
                .With("tenant", tenantId).With("after", after).With("take", page.Limit + 1)
                .With("prefix", query is null ? null : CannedText.EscapeLike(query.ToLowerInvariant()) + "%")
                .With("words", "%" + CannedText.EscapeLike(words) + "%");
            var rows = new List<CannedResponse>(page.Limit + 1);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) rows.Add(Read(reader));
            return page.ToPage(rows, r => r.Id);
        }, cancellationToken);

    /// <summary>Changes the fields that are not null, in one statement (a concurrent change of another field is kept).</summary>
    public async Task<CannedUpdateOutcome> UpdateAsync(long tenantId, Guid id, string? shortcut, string? title, string? body, AuditActor actor,
        CancellationToken cancellationToken)
    {
        try
        {
            return await writes.RunAsync<CannedUpdateOutcome>(async scope =>
            {
                var (connection, transaction) = (scope.Connection, scope.Transaction);
                await using (var command = connection.Sql($"""
                    UPDATE canned_responses
                    SET shortcut = COALESCE(@shortcut, shortcut), title = COALESCE(@title, title), title_words = COALESCE(@words, title_words),
                        body = COALESCE(@body, body), updated_at = @now
                    WHERE tenant_id = @tenant AND id = @id
                      AND NOT EXISTS (SELECT 1 FROM canned_responses other
                                      WHERE other.tenant_id = @tenant AND other.shortcut = @shortcut AND other.id <> @id)
                    RETURNING {Columns}
                    """, transaction)
                    .With("shortcut", shortcut).With("title", title).With("words", title is null ? null : CannedText.Words(title)).With("body", body)
                    .With("now", time.Now()).With("tenant", tenantId).With("id", id))
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                {
                    if (await reader.ReadAsync(cancellationToken))
                        return Change.Of<CannedUpdateOutcome>(new CannedUpdateOutcome.Updated(Read(reader)), Audit(tenantId, actor, "canned_response.updated", id));
                }
                await using var exists = connection.Sql("SELECT 1 FROM canned_responses WHERE tenant_id = @tenant AND id = @id", transaction)
                    .With("tenant", tenantId).With("id", id);
                return Change.Of<CannedUpdateOutcome>(await exists.ExecuteScalarAsync(cancellationToken) is null ? new CannedUpdateOutcome.NotFound() : new CannedUpdateOutcome.ShortcutTaken());
            }, cancellationToken);
        }
        catch (DbException e) when (e.IsUniqueViolation())
        {
            // A concurrent create or rename took the shortcut after this statement looked: the index decided.
            return new CannedUpdateOutcome.ShortcutTaken();
        }
    }

    public Task<bool> DeleteAsync(long tenantId, Guid id, AuditActor actor, CancellationToken cancellationToken) =>
        writes.RunAsync(async scope =>
        {
            await using var command = scope.Sql("DELETE FROM canned_responses WHERE tenant_id = @tenant AND id = @id")
                .With("tenant", tenantId).With("id", id);
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1
                ? Change.Of(true, Audit(tenantId, actor, "canned_response.deleted", id))
                : Change.Of(false);
        }, cancellationToken);

    /// <summary>A canned response changed: the audit log's row commits with it (contract section 21).</summary>
    private static Audited Audit(long tenantId, AuditActor actor, string action, Guid id) => new(tenantId, actor, action, $"canned_response:{id}");

    private static CannedResponse Read(DbDataReader reader) =>
        new(reader.GetId(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetTime(5), reader.GetTime(6));
}
