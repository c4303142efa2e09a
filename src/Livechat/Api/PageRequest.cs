using System.Globalization;

namespace Livechat.Api;

/// <summary>
/// The query of a list endpoint: <c>limit</c> (1..100), <c>cursor</c> (an id of that list) and
/// <c>direction</c> (<c>forward</c>, the default, or <c>backward</c>). Parsing is strict so that a typo
/// gets a 400 naming the field instead of a silently different page.
/// </summary>
public sealed record PageRequest(int Limit, Guid? Cursor, bool Backward)
{
    public const int MaxLimit = 100;

    public static (PageRequest? Page, BadRequestError? Error) Parse(HttpRequest request, int? defaultLimit)
    {
        var query = request.Query;
        int limit;
        var limitText = query["limit"].ToString();
        if (limitText.Length == 0 && defaultLimit is { } fallback)
        {
            limit = fallback;
        }
        else if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit)
        {
            return (null, ApiError.BadRequest("limit", $"limit is required and must be an integer from 1 to {MaxLimit}."));
        }

        Guid? cursor = null;
        var cursorText = query["cursor"].ToString();
        if (cursorText.Length > 0)
        {
            if (!RouteIds.TryParse(cursorText, out var id))
                return (null, ApiError.BadRequest("cursor", "cursor must be an id taken from meta.pagination."));
            cursor = id;
        }

        var direction = query["direction"].ToString();
        if (direction.Length > 0 && direction is not ("forward" or "backward"))
            return (null, ApiError.BadRequest("direction", "direction must be 'forward' or 'backward'."));

        return (new PageRequest(limit, cursor, direction == "backward"), null);
    }

    /// <summary>
    /// Builds the pagination block from a page fetched with one row more than asked (that row only tells
    /// whether there is more). <paramref name="rows"/> is in fetch order: away from the cursor.
    /// </summary>
    public Page<T> ToPage<T>(List<T> rows, Func<T, Guid> idOf)
    {
        var more = rows.Count > Limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        if (Backward) rows.Reverse();
        // Forward: more rows after the page, and rows before it iff we came from a cursor. Backward: mirrored.
        var hasNext = Backward ? Cursor is not null : more;
        var hasPrev = Backward ? more : Cursor is not null;
        if (rows.Count == 0)
        {
            // An empty page has no item to point from: the caller keeps the cursor it has.
            return new Page<T>(rows, new Pagination(null, null, false, false, Limit));
        }
        return new Page<T>(rows, new Pagination(
            hasNext ? idOf(rows[^1]).ToString() : null,
            hasPrev ? idOf(rows[0]).ToString() : null,
            hasNext, hasPrev, Limit));
    }
}
