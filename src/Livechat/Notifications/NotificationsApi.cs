using System.Globalization;
using Livechat.Api;
using Livechat.Auth;
using Livechat.Changes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace Livechat.Notifications;

public static class NotificationsApi
{
    public static RouteGroupBuilder MapNotifications(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/notifications").WithTags("Notifications").RequireTenant();

        group.MapGet("/", ListAsync)
            .WithSummary("The caller's in-app notifications, newest first; unread=true for unread ones only.")
            .WithPageQuery(defaultLimit: 20)
            .WithQuery(new QueryParameter("unread", "true: only the unread notifications.", JsonSchemaType.Boolean));
        group.MapPost("/{id}/read", MarkReadAsync)
            .WithSummary("Mark one notification read (idempotent).");
        group.MapPost("/read-all", MarkAllReadAsync)
            .WithSummary("Mark all of the caller's notifications read.");
        return group;
    }

    private static async Task<Results<OkEnvelope<IReadOnlyList<Notification>>, BadRequestError>> ListAsync(HttpRequest request, CurrentUser user,
        NotificationStore notifications, CancellationToken cancellationToken)
    {
        var unreadText = request.Query["unread"].ToString();
        var unread = false;
        if (unreadText.Length > 0 && !bool.TryParse(unreadText, out unread))
            return ApiError.BadRequest("unread", "unread must be true or false.");
        var (page, error) = PageRequest.Parse(request, defaultLimit: 20);
        if (error is not null) return error;
        var result = await notifications.ListAsync(user, unread, page!, cancellationToken);
        return result is null ? ApiError.BadRequest("cursor", "cursor is not one of your notifications.") : ApiResults.Page(result);
    }

    private static async Task<Results<OkEnvelope<Notification>, BadRequestError, NotFoundError, EmptyHttpResult>> MarkReadAsync(string id, HttpRequest request,
        CurrentUser user, NotificationStore notifications, CancellationToken cancellationToken)
    {
        if (!RouteIds.TryParse(id, out var notificationId)) return RouteIds.Malformed();
        return await notifications.MarkReadAsync(user, notificationId, Idempotency.ClaimOf(request), cancellationToken) switch
        {
            Written<Notification?>.Done { Outcome: { } notification } => ApiResults.Ok(notification, "Notification read."),
            Written<Notification?>.Done => ApiError.NotFound("Notification"),
            _ => Idempotency.AnsweredFromRecord,
        };
    }

    private static async Task<Results<OkEnvelope<ReadAllResult>, EmptyHttpResult>> MarkAllReadAsync(HttpRequest request, CurrentUser user,
        NotificationStore notifications, CancellationToken cancellationToken)
    {
        if ((await notifications.MarkAllReadAsync(user, Idempotency.ClaimOf(request), cancellationToken)).OutcomeOrNull() is not { } result)
            return Idempotency.AnsweredFromRecord;
        return ApiResults.Ok(result, string.Create(CultureInfo.InvariantCulture, $"{result.Marked} notification(s) marked read."));
    }
}
