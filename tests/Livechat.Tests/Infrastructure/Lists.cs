using System.Net;
using System.Text.Json;

namespace Livechat.Tests.Infrastructure;

/// <summary>Reading list replies: ids, cursors, and walking every page of a newest-first list.</summary>
public static class Lists
{
    public static List<string> Ids(this Reply reply) => reply.Data.EnumerateArray().Select(item => item.GetProperty("id").GetString()!).ToList();

    public static string? Cursor(this Reply reply, string name) =>
        reply.Pagination.TryGetProperty(name, out var value) ? value.GetString() : null;

    /// <summary>Follows <c>next_cursor</c> from the first page of <paramref name="path"/> (which has a query) to the end.</summary>
    public static async Task<List<JsonElement>> WalkAsync(this Caller caller, string path)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var reply = (await caller.GetAsync(cursor is null ? path : $"{path}&cursor={cursor}")).AssertStatus(HttpStatusCode.OK);
            items.AddRange(reply.Data.EnumerateArray());
            cursor = reply.Cursor("next_cursor");
            Assert.Equal(cursor is not null, reply.Pagination.GetProperty("has_next").GetBoolean());
            if (cursor is null) return items;
        }
        throw new Xunit.Sdk.XunitException($"{path} has no last page.");
    }

    public static string Text(this JsonElement element, string property) => element.GetProperty(property).GetString()!;
}
