namespace Livechat.Messages;

/// <summary>
/// Who reads which messages (contract section 16), written once: agents read every message of their tenant's
/// sessions; a tenant user reads them all but the internal notes. Every read of messages for a caller (pages and
/// their cursors, the per-session stream and its replay, <c>last_message</c>, unread counts, read marks) takes
/// its SQL from here, and every push of a note is <c>AgentsOnly</c> (<see cref="Changes.Push"/>).
/// </summary>
public static class MessageVisibility
{
    /// <summary>The condition on messages <paramref name="alias"/> that a caller may read, as <c> AND ...</c>, empty for agents.</summary>
    public static string Condition(bool isAgent, string alias) => isAgent ? "" : $" AND NOT {alias}.internal";

    /// <summary>
    /// How many of a session's messages after <paramref name="seq"/> the caller may not read, as a scalar: 0 for agents,
    /// the notes after it for a tenant user (a range of the partial index that holds only notes).
    /// </summary>
    public static string HiddenAfter(bool isAgent, string tenant, string session, string seq) => isAgent
        ? "0"
        : $"(SELECT COUNT(*) FROM chat_messages n WHERE n.tenant_id = {tenant} AND n.session_id = {session} AND n.internal AND n.seq > {seq})";

    /// <summary>
    /// The newest message of a session at or before <paramref name="seq"/> that the caller may read, as a scalar of
    /// <paramref name="column"/> (null when there is none): what a read mark on a note shows a tenant user.
    /// </summary>
    public static string NewestReadable(bool isAgent, string column, string tenant, string session, string seq) => $"""
        (SELECT v.{column} FROM chat_messages v WHERE v.tenant_id = {tenant} AND v.session_id = {session} AND v.seq <= {seq}{Condition(isAgent, "v")}
         ORDER BY v.seq DESC LIMIT 1)
        """;
}
