using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Attachments;

/// <summary>
/// Deleting a message or a session deletes its files (contract sections 15 and 21): the rows, with their quota,
/// in the change that deletes the messages, and the bytes once it has committed. A crash in between leaves
/// bytes without a row, which nothing serves (ADR 0027). Retention and erasure (section 21) call the
/// <see cref="ChangeScope"/> forms in their own changes; the others run a change of their own.
/// </summary>
public sealed class AttachmentRetention(WritePath writes, IAttachmentBytes bytes)
{
    /// <summary>In <paramref name="scope"/>: deletes the attachments of these messages; returns their ids, whose bytes go after the commit.</summary>
    public static async Task<IReadOnlyList<Guid>> DeleteRowsOfMessagesAsync(ChangeScope scope, long tenantId, IReadOnlyCollection<Guid> messageIds,
        CancellationToken cancellationToken)
    {
        var ids = new List<Guid>();
        foreach (var messageId in messageIds)
            ids.AddRange(await IdsAsync(scope, "SELECT id FROM attachments WHERE tenant_id = @tenant AND message_id = @of", tenantId, messageId, cancellationToken));
        foreach (var id in ids) await AttachmentStore.DeleteRowAsync(scope, tenantId, id, cancellationToken);
        return ids;
    }

    /// <summary>In <paramref name="scope"/>: deletes every attachment of the session, sent or staged; returns their ids, whose bytes go after the commit.</summary>
    public static Task<IReadOnlyList<Guid>> DeleteRowsOfSessionAsync(ChangeScope scope, long tenantId, Guid sessionId, CancellationToken cancellationToken) =>
        DeleteRowsOfSessionsAsync(scope, tenantId, [sessionId], cancellationToken);

    /// <summary>In <paramref name="scope"/>: deletes every attachment of these sessions, sent or staged, with one query to find them; returns their ids.</summary>
    public static async Task<IReadOnlyList<Guid>> DeleteRowsOfSessionsAsync(ChangeScope scope, long tenantId, IReadOnlyList<Guid> sessionIds, CancellationToken cancellationToken)
    {
        var ids = new List<Guid>();
        await using (var command = scope.Sql($"SELECT id FROM attachments WHERE tenant_id = @tenant AND session_id IN ({DbCommandExtensions.InList("s", sessionIds.Count)})")
            .With("tenant", tenantId).WithList("s", sessionIds))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetId(0));
        }
        foreach (var id in ids) await AttachmentStore.DeleteRowAsync(scope, tenantId, id, cancellationToken);
        return ids;
    }

    /// <summary>In <paramref name="scope"/>: deletes up to <paramref name="take"/> files one user uploaded, sent or staged (an erasure); returns their ids.</summary>
    public static async Task<IReadOnlyList<Guid>> DeleteRowsOfUploaderAsync(ChangeScope scope, long tenantId, long userId, int take, CancellationToken cancellationToken)
    {
        var ids = new List<Guid>();
        await using (var command = scope.Sql("SELECT id FROM attachments WHERE tenant_id = @tenant AND uploader_id = @user LIMIT @take")
            .With("tenant", tenantId).With("user", userId).With("take", take))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetId(0));
        }
        foreach (var id in ids) await AttachmentStore.DeleteRowAsync(scope, tenantId, id, cancellationToken);
        return ids;
    }

    /// <summary>After the commit that deleted their rows: the bytes.</summary>
    public async Task DeleteBytesAsync(long tenantId, IEnumerable<Guid> ids)
    {
        foreach (var id in ids) await bytes.DeleteAsync(tenantId, id, CancellationToken.None);
    }

    /// <summary>Deletes the files of these messages (rows and bytes) in a change of its own; returns how many.</summary>
    public async Task<int> DeleteOfMessagesAsync(long tenantId, IReadOnlyCollection<Guid> messageIds, CancellationToken cancellationToken)
    {
        var ids = await writes.RunAsync(async scope => Change.Of(await DeleteRowsOfMessagesAsync(scope, tenantId, messageIds, cancellationToken)), cancellationToken);
        await DeleteBytesAsync(tenantId, ids);
        return ids.Count;
    }

    /// <summary>Deletes the files of a session (rows and bytes) in a change of its own; returns how many.</summary>
    public async Task<int> DeleteOfSessionAsync(long tenantId, Guid sessionId, CancellationToken cancellationToken)
    {
        var ids = await writes.RunAsync(async scope => Change.Of(await DeleteRowsOfSessionAsync(scope, tenantId, sessionId, cancellationToken)), cancellationToken);
        await DeleteBytesAsync(tenantId, ids);
        return ids.Count;
    }

    private static async Task<List<Guid>> IdsAsync(ChangeScope scope, string sql, long tenantId, Guid of, CancellationToken cancellationToken)
    {
        var ids = new List<Guid>();
        await using var command = scope.Sql(sql).With("tenant", tenantId).With("of", of);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetId(0));
        return ids;
    }
}
