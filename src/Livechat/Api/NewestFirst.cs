using System.Data.Common;
using Livechat.Data;

namespace Livechat.Api;

/// <summary>
/// Keyset pagination for the lists shown newest first (sessions, tickets, notifications), ordered by
/// <c>(created_at, id)</c> descending. <c>forward</c> walks to older rows, <c>backward</c> to newer ones.
/// Each such table has an index on <c>(tenant_id, ..., created_at DESC, id DESC)</c> that serves it.
/// </summary>
public static class NewestFirst
{
    /// <param name="scope">Who may see the rows (<c>tenant_id = @tenant ...</c>); the cursor must be a row in it.</param>
    /// <param name="filter">Extra conditions of this list (a status), or empty.</param>
    /// <returns>The page, or null when the cursor names no row in <paramref name="scope"/>.</returns>
    public static async Task<Page<T>?> PageAsync<T>(DbConnection connection, string table, string columns, string scope, string filter,
        Action<DbCommand> bind, PageRequest page, Func<DbDataReader, T> read, Func<T, Guid> idOf, CancellationToken cancellationToken)
    {
        var keyset = "";
        object? cursorAt = null;
        if (page.Cursor is { } cursor)
        {
            await using var find = connection.Sql($"SELECT created_at FROM {table} WHERE {scope} AND id = @cursor").With("cursor", cursor);
            bind(find);
            cursorAt = await find.ExecuteScalarAsync(cancellationToken);
            if (cursorAt is null) return null;
            keyset = page.Backward ? "AND (created_at, id) > (@cursor_at, @cursor)" : "AND (created_at, id) < (@cursor_at, @cursor)";
        }
        var order = page.Backward ? "created_at ASC, id ASC" : "created_at DESC, id DESC";
        await using var command = connection.Sql($"SELECT {columns} FROM {table} WHERE {scope} {filter} {keyset} ORDER BY {order} LIMIT @take")
            .With("cursor", page.Cursor).With("cursor_at", cursorAt).With("take", page.Limit + 1);
        bind(command);
        var rows = new List<T>(page.Limit + 1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) rows.Add(read(reader));
        return page.ToPage(rows, idOf);
    }
}
