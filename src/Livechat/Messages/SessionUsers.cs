using System.Data.Common;

namespace Livechat.Messages;

/// <summary>
/// Who hears a session's events on the per-user streams, as SQL: here, in the lowest feature that reads it (a
/// message's insert returns these columns; Realtime/SessionAudience.cs reads them for other events).
/// </summary>
public static class SessionUsers
{
    /// <summary>
    /// The users a session's events are for on their per-user streams, as two columns any statement can return
    /// (over <c>@tenant</c> and <c>@session</c>): the session's agent, and its tenant-side participants as one list
    /// (<c>string_agg</c>, which both databases have). A message's insert returns them, so its audience costs no
    /// statement; other events read them on their own (Realtime/SessionAudience.cs). Read by <see cref="Read"/>.
    /// </summary>
    public const string Columns = """
        (SELECT agent_id FROM chat_sessions WHERE tenant_id = @tenant AND id = @session),
        (SELECT string_agg(CAST(user_id AS TEXT), ',') FROM session_participants WHERE tenant_id = @tenant AND session_id = @session)
        """;

    /// <summary>The users of <see cref="Columns"/>, which start at column <paramref name="first"/>.</summary>
    public static IReadOnlyList<long> Read(DbDataReader reader, int first)
    {
        var users = new List<long>(2);
        if (!reader.IsDBNull(first)) users.Add(reader.GetInt64(first));
        AddParticipants(reader, first + 1, users);
        return users;
    }

    /// <summary>The participants a <c>string_agg(CAST(user_id AS TEXT), ',')</c> column holds (none when it is null), added to <paramref name="users"/>.</summary>
    public static void AddParticipants(DbDataReader reader, int column, List<long> users)
    {
        if (reader.IsDBNull(column)) return;
        foreach (var user in reader.GetString(column).Split(','))
            users.Add(long.Parse(user, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture));
    }
}
