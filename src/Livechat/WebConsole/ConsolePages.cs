using System.Globalization;
using System.Text.Json;
using Livechat.Api;
using Livechat.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace Livechat.WebConsole;

/// <summary>
/// Contract section 14: the agent desk (<c>/console/</c>) and the customer page (<c>/chat/</c>), plain files in
/// <c>wwwroot</c> served by the service itself, each with a Content-Security-Policy that allows only the
/// service's own scripts (no inline script, no third-party origin). <c>/</c> leads to the desk.
/// </summary>
public static class ConsolePages
{
    /// <summary>What the pages may load and talk to: only this origin, no inline script, no plugins, no framing.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseConsolePages(this IApplicationBuilder app)
    {
        var environment = app.ApplicationServices.GetRequiredService<IWebHostEnvironment>();
        var files = environment.WebRootFileProvider;
        var config = PagesConfig(environment.IsDevelopment(), app.ApplicationServices.GetRequiredService<Changes.PushedEventNames>());
        // Redirects and files, not endpoints: none of this is part of the API (nor of its OpenAPI document).
        app.Use((http, next) => BeforeStaticFilesAsync(http, next, files, config));
        app.UseDefaultFiles(new DefaultFilesOptions { RedirectToAppendTrailingSlash = false });
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = file => Protect(file.Context.Response),
        });
        return app;
    }

    /// <summary>
    /// <c>/</c> and the page folders without their slash redirect, <c>/shared/config.js</c> is written here, and
    /// <c>/favicon.ico</c> is the SVG icon; everything else goes on to the static files.
    /// </summary>
    private static Task BeforeStaticFilesAsync(HttpContext http, RequestDelegate next, IFileProvider files, string config)
    {
        var request = http.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)) return next(http);
        if (request.Path == "/")
        {
            http.Response.Redirect("/console/");
            return Task.CompletedTask;
        }
        if (request.Path == "/shared/config.js")
        {
            Protect(http.Response);
            http.Response.ContentType = "text/javascript; charset=utf-8";
            return HttpMethods.IsGet(request.Method) ? http.Response.WriteAsync(config, http.RequestAborted) : Task.CompletedTask;
        }
        // Browsers ask for /favicon.ico when a page names no icon (the API's docs page, a JSON response).
        if (request.Path == "/favicon.ico") request.Path = "/favicon.svg";
        // "/console" to "/console/", relative: the framework's own redirect is built from the Host header, so a
        // hostile Host would choose where the browser goes next.
        if (request.Path.Value is { Length: > 1 } path && !path.EndsWith('/') && files.GetFileInfo(path + "/index.html").Exists)
        {
            http.Response.Redirect(request.PathBase.Add(path + "/").ToUriComponent() + request.QueryString.ToUriComponent(), permanent: true);
            return Task.CompletedTask;
        }
        return next(http);
    }

    private static void Protect(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // No bundler, no fingerprints: the browser asks again (cheaply, with ETag) so an update shows at once.
        headers.CacheControl = "no-cache";
    }

    /// <summary>
    /// <c>/shared/config.js</c>, the one page file the service writes: what this deployment offers the pages. The
    /// sign-in page imports it to know whether the Development form exists, instead of probing <c>/dev/token</c>,
    /// a request that fails (and says so in the browser's console) everywhere else. The per-user stream's event
    /// names come from the events' own declarations, so a page never listens for a stale list.
    /// </summary>
    private static string PagesConfig(bool development, Changes.PushedEventNames events) =>
        "// Written by the service (WebConsole/ConsolePages.cs) for this deployment.\n"
        + $"export const devSignIn = {(development ? "true" : "false")};\n"
        + $"export const streamEvents = [{string.Join(", ", events.Names.Select(name => $"\"{name}\""))}];\n";

    /// <summary>
    /// <c>GET /dev/token</c> (the roles the form offers) and <c>POST /dev/token {user_id, role,
    /// tenant_id}</c>: a token signed with the configured key, for a chosen user. Mapped in Development only;
    /// anywhere else the path is the envelope's 404 like any unknown route.
    /// </summary>
    public static IEndpointRouteBuilder MapDevTokens(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/dev/token").WithTags("Development").DisableRateLimiting();
        group.MapGet("/", () => ApiResults.Ok(new DevTokenForm([Roles.SupportAgent, "TENANT_ADMIN", "TENANT_USER"]), "Development: POST here to mint a token."))
            .WithSummary("Development only: tells the sign-in page that it may mint tokens.");
        group.MapPost("/", Mint)
            .WithSummary("Development only: mint a token for a user id, a role and a tenant.");
        return routes;
    }

    private static Results<CreatedEnvelope<DevToken>, BadRequestError, ConflictError> Mint(JsonBody<DevTokenRequest> body, IOptions<AuthOptions> auth, TimeProvider time)
    {
        var root = body.RootElement;
        if (PositiveInteger(root, "user_id") is not { } userId)
            return ApiError.BadRequest("user_id", "user_id must be a positive integer.");
        if (PositiveInteger(root, "tenant_id") is not { } tenantId)
            return ApiError.BadRequest("tenant_id", "tenant_id must be a positive integer.");
        if (body.GetString("role") is not { } role || role.Length is 0 or > 64 || !role.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            return ApiError.BadRequest("role", "role must be a role name such as SUPPORT_AGENT or TENANT_ADMIN.");
        if (string.IsNullOrEmpty(auth.Value.SigningKey))
            return ApiError.Conflict("request", "This service validates tokens of an OpenID Connect authority: it cannot mint any.");
        var lifetime = TimeSpan.FromHours(12);
        var now = time.GetUtcNow();
        var token = TokenIssuer.Issue(auth.Value, userId, [tenantId], [role], lifetime, now);
        return ApiResults.Created(new DevToken(token, userId, tenantId, role, now + lifetime), "Development token minted.");
    }

    private static long? PositiveInteger(JsonElement root, string property)
    {
        if (root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number > 0)
            return number;
        if (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number) && number > 0)
            return number;
        return null;
    }
}

public sealed record DevTokenForm(IReadOnlyList<string> Roles);

public sealed record DevTokenRequest(long UserId, string Role, long TenantId);

public sealed record DevToken(string Token, long UserId, long TenantId, string Role, DateTimeOffset ExpiresAt);
