using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Livechat.Data;

public static class DbErrors
{
    /// <summary>A unique constraint said no: another request won a race the database was asked to referee.</summary>
    public static bool IsUniqueViolation(this DbException exception) => exception switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
