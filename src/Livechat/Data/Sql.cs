using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Livechat.Data;

/// <summary>Small helpers that keep SQL call sites short and provider-neutral.</summary>
public static class DbCommandExtensions
{
    public static DbCommand Sql(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        DbCommand command;
        if (connection is SqliteKeptConnection kept)
        {
            command = kept.Rent(sql); // SQLite's connections keep their commands prepared: disposing one gives it back
        }
        else
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
        }
        command.Transaction = transaction;
        return command;
    }

    /// <summary>
    /// PostgreSQL: a read-only transaction whose statements are planned for their own parameters, every time
    /// (<c>plan_cache_mode = force_custom_plan</c>), with <paramref name="settings"/> more <c>SET LOCAL</c>s. Npgsql
    /// prepares a statement run often, and PostgreSQL may then keep one plan for any parameters, which suits neither a
    /// report's range of days nor a search's words (ADR 0042, docs/search.md). The settings end with the transaction.
    /// </summary>
    public static async Task<DbTransaction> BeginPlannedPerQueryAsync(this NpgsqlConnection connection, System.Data.IsolationLevel isolation,
        string settings, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(isolation, cancellationToken);
        await using var set = connection.CreateCommand();
        set.Transaction = transaction;
        set.CommandText = $"SET TRANSACTION READ ONLY; SET LOCAL plan_cache_mode = force_custom_plan{settings}";
        await set.ExecuteNonQueryAsync(cancellationToken);
        return transaction;
    }

    /// <summary>
    /// Adds a named parameter. SQLite keeps ids and timestamps as text (see the schema), so they are
    /// converted here, once, for every statement; PostgreSQL takes them as <c>uuid</c> and <c>timestamptz</c>.
    /// A null is sent to PostgreSQL with the type of <typeparamref name="T"/> (a <c>long?</c> is a null
    /// <c>bigint</c>), so the server never has to guess the type of an untyped null.
    /// </summary>
    public static DbCommand With<T>(this DbCommand command, string name, T value)
    {
        var parameter = command.CreateParameter();
        if (command is SqliteCommand)
        {
            // With its prefix the name is found in one lookup; without it Microsoft.Data.Sqlite tries the bare name
            // and then all three prefixes (to rule out ambiguity), each a native call with the name re-encoded,
            // for every parameter on every statement of the command.
            parameter.ParameterName = name.StartsWith('@') ? name : "@" + name;
            parameter.Value = ForSqlite(value) ?? DBNull.Value;
        }
        else
        {
            parameter.ParameterName = name;
            parameter.Value = (object?)value ?? DBNull.Value;
            if (value is null && parameter is NpgsqlParameter typed && PostgresTypeOf(typeof(T)) is { } type) typed.NpgsqlDbType = type;
        }
        command.Parameters.Add(parameter);
        return command;
    }

    /// <summary><c>@p0, @p1, ...</c>: <paramref name="count"/> parameters named from <paramref name="prefix"/>, for an <c>IN (...)</c>; <see cref="WithList"/> binds them.</summary>
    public static string InList(string prefix, int count) => string.Join(", ", Enumerable.Range(0, count).Select(i => $"@{prefix}{i}"));

    /// <summary>Binds <paramref name="values"/> as the parameters of <see cref="InList"/> with the same <paramref name="prefix"/>.</summary>
    public static DbCommand WithList<T>(this DbCommand command, string prefix, IReadOnlyList<T> values)
    {
        for (var i = 0; i < values.Count; i++) command.With($"{prefix}{i}", values[i]);
        return command;
    }

    private static NpgsqlTypes.NpgsqlDbType? PostgresTypeOf(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(Guid) => NpgsqlTypes.NpgsqlDbType.Uuid,
        var t when t == typeof(string) => NpgsqlTypes.NpgsqlDbType.Text,
        var t when t == typeof(long) => NpgsqlTypes.NpgsqlDbType.Bigint,
        var t when t == typeof(int) => NpgsqlTypes.NpgsqlDbType.Integer,
        var t when t == typeof(bool) => NpgsqlTypes.NpgsqlDbType.Boolean,
        var t when t == typeof(DateTimeOffset) || t == typeof(DateTime) => NpgsqlTypes.NpgsqlDbType.TimestampTz,
        _ => null,
    };

    /// <summary>An id read with ExecuteScalar: PostgreSQL returns a <see cref="Guid"/>, SQLite its text.</summary>
    public static Guid ToId(object value) => value is Guid id ? id : Guid.Parse((string)value);

    /// <summary>
    /// The text SQLite keeps a time as, <c>yyyy-MM-ddTHH:mm:ss.ffffffZ</c> (fixed width, so text order is time
    /// order). Cut from the round-trip format, which .NET writes without parsing a pattern: the custom pattern
    /// was a visible cost of every write, which binds several times.
    /// </summary>
    public static string SqliteTimestamp(DateTimeOffset value) => string.Create(27, value.UtcDateTime, static (text, utc) =>
    {
        // "O" of a UTC time is yyyy-MM-ddTHH:mm:ss.fffffffZ: keep six of its seven fraction digits (truncated, as "ffffff" does).
        Span<char> roundTrip = stackalloc char[28];
        if (!utc.TryFormat(roundTrip, out var written, "O", CultureInfo.InvariantCulture) || written != 28)
            throw new FormatException("A UTC time did not format to its 28-character round-trip form.");
        roundTrip[..26].CopyTo(text);
        text[26] = 'Z';
    });

    private static object? ForSqlite<T>(T value) => value switch
    {
        Guid id => id.ToString("D"),
        DateTimeOffset time => SqliteTimestamp(time),
        _ => value,
    };

    public static Guid GetId(this DbDataReader reader, int ordinal) => reader.GetGuid(ordinal);

    public static DateTimeOffset GetTime(this DbDataReader reader, int ordinal) =>
        reader.GetFieldValue<DateTimeOffset>(ordinal).ToUniversalTime();

    public static DateTimeOffset? GetTimeOrNull(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetTime(ordinal);

    public static long? GetInt64OrNull(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);
}
