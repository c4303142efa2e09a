using Microsoft.Data.Sqlite;

namespace Livechat.Data;

/// <summary>
/// A SQLite connection that keeps its commands. Microsoft.Data.Sqlite compiles a command's SQL again for every
/// new command object (statement preparation was the largest single cost of a message write and of a read in
/// a profile), and the service runs the same few dozen statements all day: here each SQL text gets one
/// command that stays prepared, and <see cref="DbCommandExtensions.Sql"/> hands it out again once its user
/// disposed it. A connection is used by one caller at a time (the writer loop, or one read), so a command is
/// in use at most by the statements of one write or read; a second use of the same text while the first is
/// still open (a deferred statement, a nested query) gets a fresh command of its own. A read connection goes
/// back to its pool when disposed (<paramref name="giveBack"/>), still open and still prepared.
/// </summary>
internal sealed class SqliteKeptConnection(string connectionString, Func<SqliteKeptConnection, bool>? giveBack = null) : SqliteConnection(connectionString)
{
    /// <summary>Distinct statements kept at most; SQL built with varying text beyond this is compiled each time.</summary>
    private const int MaxKept = 256;

    private readonly Dictionary<string, KeptCommand> kept = new(StringComparer.Ordinal);

    /// <summary>A command for <paramref name="sql"/>: the kept one if it is free, a fresh one otherwise.</summary>
    public SqliteCommand Rent(string sql)
    {
        if (kept.TryGetValue(sql, out var command))
        {
            if (command.InUse) return new SqliteCommand(sql, this);
            command.InUse = true;
            return command;
        }
        if (kept.Count >= MaxKept) return new SqliteCommand(sql, this);
        command = new KeptCommand(sql, this) { InUse = true };
        kept.Add(sql, command);
        return command;
    }

    /// <summary>
    /// Before each batch (and when a read gives it back): every kept command is free again. A write that failed
    /// half-way may have left one rented (a deferred statement it never ran), and nothing earlier runs any more.
    /// </summary>
    public void ReleaseAll()
    {
        foreach (var command in kept.Values) command.Release();
    }

    /// <summary>Closes it for good, whatever its pool: its statements, then the connection.</summary>
    public void Retire()
    {
        giveBack = null;
        Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && giveBack is { } pool && State == System.Data.ConnectionState.Open)
        {
            // Back to the pool, open and prepared; a full pool says no, and the connection closes.
            ReleaseAll();
            if (pool(this)) return;
        }
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
