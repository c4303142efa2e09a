using Livechat.Api;
using Livechat.Auth;

namespace Livechat.Reports;

/// <summary>Contract section 20: the reports a team lead reads, for agents and the tenant's SUPPORT_ADMIN (docs/reports.md).</summary>
public static class ReportsApi
{
    public static RouteGroupBuilder MapReports(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat/reports").WithTags("Reports").RequireTenant()
            .AddEndpointFilter(async (context, next) =>
                context.HttpContext.Features.Get<CurrentUser>() is { IsAgent: true } || context.HttpContext.User.IsInRole(Roles.SupportAdmin)
                    ? await next(context)
                    : ApiError.Forbidden("Only support agents and the tenant's SUPPORT_ADMIN may read reports."));

        group.MapGet("/summary", SummaryAsync)
            .WithSummary("The figures over the sessions of a range: started, closed, messages, first response, resolution and queue wait (p50, p90), ratings. format=csv for CSV.")
            .Produces<ApiResponse<ReportFigures>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status403Forbidden);
        group.MapGet("/agents", AgentsAsync)
            .WithSummary("The same figures per agent, over the sessions each was assigned last. format=csv for CSV.")
            .Produces<ApiResponse<AgentFigures[]>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status403Forbidden);
        group.MapGet("/daily", DailyAsync)
            .WithSummary("The same figures per day of tz, every day of the range. format=csv for CSV.")
            .Produces<ApiResponse<DailyFigures[]>>()
            .Produces<ApiResponse<object>>(StatusCodes.Status400BadRequest)
            .Produces<ApiResponse<object>>(StatusCodes.Status403Forbidden);
        return group;
    }

    private static async Task<IResult> SummaryAsync(HttpRequest request, CurrentUser user, ReportStore reports, CancellationToken cancellationToken)
    {
        var (query, error) = ReportQuery.Parse(request.Query);
        if (error is not null) return error;
        var summary = await reports.SummaryAsync(user.TenantId, query!, cancellationToken);
        return query!.Csv ? ReportCsv.Result("summary", ReportCsv.Write([summary])) : ApiResults.Ok(summary);
    }

    private static async Task<IResult> AgentsAsync(HttpRequest request, CurrentUser user, ReportStore reports, CancellationToken cancellationToken)
    {
        var (query, error) = ReportQuery.Parse(request.Query);
        if (error is not null) return error;
        var rows = await reports.AgentsAsync(user.TenantId, query!, cancellationToken);
        return query!.Csv ? ReportCsv.Result("agents", ReportCsv.Write(rows, ("agent_id", row => row.AgentId))) : ApiResults.Ok(rows);
    }

    private static async Task<IResult> DailyAsync(HttpRequest request, CurrentUser user, ReportStore reports, CancellationToken cancellationToken)
    {
        var (query, error) = ReportQuery.Parse(request.Query);
        if (error is not null) return error;
        var rows = await reports.DailyAsync(user.TenantId, query!, cancellationToken);
        return query!.Csv ? ReportCsv.Result("daily", ReportCsv.Write(rows, ("date", row => row.Date))) : ApiResults.Ok(rows);
    }
}
