using System.Text.Json;
using System.Text.Json.Nodes;

namespace Livechat.Tests.Infrastructure;

public static class SessionShape
{
    /// <summary>
    /// A ChatSession without the fields computed for the caller (<c>unread_count</c>, <c>last_message</c>,
    /// contract section 11), which only the GET endpoints carry: to compare a GET with a POST or PATCH answer.
    /// </summary>
    public static string WithoutCallerFields(this JsonElement session)
    {
        var node = JsonNode.Parse(session.GetRawText())!.AsObject();
        node.Remove("unread_count");
        node.Remove("last_message");
        return node.ToJsonString();
    }
}
