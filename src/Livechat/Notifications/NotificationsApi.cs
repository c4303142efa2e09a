using System.Globalization;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Changes;

namespace Livechat.Notifications;

public static class NotificationsApi
{
    public static RouteGroupBuilder MapNotifications(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/notifications").WithTags("Notifications").RequireTenant();

        group.MapGet("/", ListAsync)
            .WithSummary("The caller's in-app notifications, newest first; unread=true for unread ones only.")
            .Produces<ApiResponse<Notification[]>>();
        group.MapPost("/{id}/read", MarkReadAsync)
            .WithSummary("Mark one notification read (idempotent).")
            .Produces<ApiResponse<Notification>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status404NotFound);
        group.MapPost("/read-all", MarkAllReadAsync)
            .WithSummary("Mark all of the caller's notifications read.")
            .Produces<ApiResponse<ReadAllResult>>();
        return group;
    }

    private static async Task<IResult> ListAsync(HttpRequest request, CurrentUser user, NotificationStore notifications, CancellationToken cancellationToken)
    {
        var unreadText = request.Query["unread"].ToString();
        var unread = false;
        if (unreadText.Length > 0 && !bool.TryParse(unreadText, out unread))
            return ApiResults.Error(ApiError.BadRequest("unread", "unread must be true or false."));
        var (page, error) = PageRequest.Parse(request, defaultLimit: 20);
        if (error is not null) return ApiResults.Error(error);
        var result = await notifications.ListAsync(user, unread, page!, cancellationToken);
        return result is null ? ApiResults.Error(ApiError.BadRequest("cursor", "cursor is not one of your notifications.")) : ApiResults.Page(result);
    }

    private static async Task<IResult> MarkReadAsync(string id, HttpRequest request, CurrentUser user, NotificationStore notifications, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var notificationId)) return ApiResults.Error(RouteIds.Malformed());
        return await notifications.MarkReadAsync(user, notificationId, Idempotency.ClaimOf(request), cancellationToken) switch
        {
            Written<Notification?>.Done { Outcome: { } notification } => ApiResults.Ok(notification, "Notification read."),
            Written<Notification?>.Done => ApiResults.Error(ApiError.NotFound("Notification")),
            _ => Idempotency.AnsweredFromRecord,
        };
    }

    private static async Task<IResult> MarkAllReadAsync(HttpRequest request, CurrentUser user, NotificationStore notifications, CancellationToken cancellationToken)
    {
        if ((await notifications.MarkAllReadAsync(user, Idempotency.ClaimOf(request), cancellationToken)).OutcomeOrNull() is not { } result)
            return Idempotency.AnsweredFromRecord;
        return ApiResults.Ok(result, string.Create(CultureInfo.InvariantCulture, $"{result.Marked} notification(s) marked read."));
    }
}
