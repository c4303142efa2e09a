using Microsoft.Data.Sqlite;

namespace Livechat.Data;

/// <summary>
/// The SQLite writer's one connection, which keeps its commands. Microsoft.Data.Sqlite compiles a command's
/// SQL again for every new command object (statement preparation was the largest single cost of a message
/// write in a profile), and the writer runs the same few dozen statements all day: here each SQL text gets
/// one command that stays prepared, and <see cref="DbCommandExtensions.Sql"/> hands it out again once the
/// last user disposed it. Only the writer loop uses this connection, one write after the other, so a command
/// is in use at most by the statements of one write (a second use of the same text while the first is still
/// open, a deferred statement for instance, gets a fresh command of its own).
/// </summary>
internal sealed class SqliteWriterConnection(string connectionString) : SqliteConnection(connectionString)
{
    /// <summary>Distinct statements kept at most; SQL built with varying text beyond this is compiled each time.</summary>
    private const int MaxKept = 256;

    private readonly Dictionary<string, KeptCommand> kept = new(StringComparer.Ordinal);

    public SqliteCommand Rent(string sql)
    {
        if (kept.TryGetValue(sql, out var command))
        {
            if (command.InUse) return CreateCommand();
            command.InUse = true;
            return command;
        }
        if (kept.Count >= MaxKept) return CreateCommand();
        command = new KeptCommand(sql, this) { InUse = true };
        kept.Add(sql, command);
        return command;
    }

    /// <summary>
    /// Before each batch: every kept command is free again. A write that failed half-way may have left one
    /// rented (a deferred statement it never ran), and nothing of an earlier batch runs any more.
    /// </summary>
    public void ReleaseAll()
    {
        foreach (var command in kept.Values) command.Release();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var command in kept.Values) command.DisposeStatements();
            kept.Clear();
        }
        base.Dispose(disposing);
    }

    /// <summary>A command that disposing gives back (parameters cleared, statements kept prepared) instead of ending.</summary>
    private sealed class KeptCommand : SqliteCommand
    {
        public KeptCommand(string sql, SqliteConnection connection) : base(sql, connection)
        {
        }

        public bool InUse { get; set; }

        public void Release()
        {
            Parameters.Clear();
            Transaction = null;
            InUse = false;
        }

        public void DisposeStatements() => base.Dispose(true);

        protected override void Dispose(bool disposing)
        {
            if (disposing) Release();
            else base.Dispose(disposing);
        }
    }
}
