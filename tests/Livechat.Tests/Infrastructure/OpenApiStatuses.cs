using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Livechat.Tests.Infrastructure;

/// <summary>
/// Holds every test server to its OpenAPI document: each answer to an operation of the document (method and route
/// pattern, after routing) must have a status the document lists for that operation. An answer that does not is
/// marked with <see cref="Header"/>, which <see cref="Reply.ReadAsync"/> turns into the failure of the test that
/// saw it, and is kept in <see cref="Undocumented"/>, which the server's stop turns into a failure too (for
/// answers no <see cref="Reply"/> read: streams, browsers, Node clients). So a handler answering a status its
/// document does not list fails the suite, whichever test class provokes it and in whatever order they run.
/// Every answer is also counted process-wide (<see cref="Observed"/>), for the list of documented statuses no test
/// ever saw, written when the test process ends.
/// </summary>
public sealed class OpenApiStatuses : IStartupFilter
{
    public const string Header = "X-Test-Undocumented-Status";

    /// <summary>Operation ("POST /livechat/sessions/{id}/messages") → the statuses the suite has seen it answer.</summary>
    public static ConcurrentDictionary<string, ConcurrentDictionary<int, byte>> Observed { get; } = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, HashSet<int>>> DocumentsByEnvironment = new(StringComparer.Ordinal);

    static OpenApiStatuses() => AppDomain.CurrentDomain.ProcessExit += (_, _) => WriteNeverObserved();

    /// <summary>The document this server is held to: operation → documented statuses; null until it is loaded.</summary>
    public IReadOnlyDictionary<string, HashSet<int>>? Documented { get; set; }

    /// <summary>Answers of this server whose status its document does not list.</summary>
    public ConcurrentQueue<string> Undocumented { get; } = new();

    /// <summary>The operations of an OpenAPI document and the statuses each lists.</summary>
    public static IReadOnlyDictionary<string, HashSet<int>> Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var operations = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                if (operation.Name is "parameters" or "summary" or "description" or "servers") continue;
                var statuses = operation.Value.TryGetProperty("responses", out var responses)
                    ? responses.EnumerateObject().Where(r => int.TryParse(r.Name, out _)).Select(r => int.Parse(r.Name, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet()
                    : [];
                operations[$"{operation.Name.ToUpperInvariant()} {path.Name.TrimEnd('/')}"] = statuses;
            }
        }
        return operations;
    }

    /// <summary>The server's document, fetched once per environment (it is the code's, and only the environment changes it).</summary>
    public async Task LoadAsync(HttpClient http, string environment)
    {
        if (!DocumentsByEnvironment.TryGetValue(environment, out var documented))
        {
            using var response = await http.GetAsync("/openapi/v1.json");
            response.EnsureSuccessStatusCode();
            documented = DocumentsByEnvironment.GetOrAdd(environment, Parse(await response.Content.ReadAsStringAsync()));
        }
        Documented = documented;
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            // The exception handler clears the endpoint before it writes its 500: remember the one routing chose.
            var endpoint = new RememberedEndpoint();
            context.Features.Set<IEndpointFeature>(endpoint);
            context.Response.OnStarting(() =>
            {
                Check(context, endpoint.Chosen);
                return Task.CompletedTask;
            });
            await nextMiddleware(context);
        });
        next(app);
    };

    private void Check(HttpContext context, Endpoint? endpoint)
    {
        if (endpoint is not RouteEndpoint route || route.RoutePattern.RawText is not { } pattern) return;
        var operation = $"{context.Request.Method} {pattern.TrimEnd('/')}";
        var status = context.Response.StatusCode;
        // 499 is the server's note that the client went away mid-request (an abandoned upload): no answer reached anyone.
        if (status == StatusCodes.Status499ClientClosedRequest) return;
        if (Documented is not { } documented || !documented.TryGetValue(operation, out var statuses)) return; // not an operation of the document
        Observed.GetOrAdd(operation, _ => new ConcurrentDictionary<int, byte>())[status] = 0;
        if (statuses.Contains(status)) return;
        var problem = $"{operation} answered {status}, which its OpenAPI document does not list (it lists {string.Join(", ", statuses.Order())})";
        Undocumented.Enqueue(problem);
        context.Response.Headers[Header] = problem;
    }

    /// <summary>Documented statuses of the "Testing" document that no test of this process saw, one operation a line.</summary>
    public static IEnumerable<string> NeverObserved()
    {
        if (!DocumentsByEnvironment.TryGetValue("Testing", out var documented)) yield break;
        foreach (var (operation, statuses) in documented.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            var seen = Observed.TryGetValue(operation, out var observed) ? observed.Keys.ToHashSet() : [];
            var missing = statuses.Where(s => !seen.Contains(s)).Order().ToList();
            if (missing.Count > 0) yield return $"{operation}: {string.Join(", ", missing)}";
        }
    }

    private static void WriteNeverObserved()
    {
        try
        {
            File.WriteAllLines(Path.Combine(AppContext.BaseDirectory, "openapi-statuses-never-observed.txt"), NeverObserved());
        }
        catch (IOException)
        {
            // A report only: the run's result does not depend on it.
        }
    }

    private sealed class RememberedEndpoint : IEndpointFeature
    {
        private Endpoint? current;

        public Endpoint? Chosen { get; private set; }

        public Endpoint? Endpoint
        {
            get => current;
            set
            {
                current = value;
                Chosen ??= value;
            }
        }
    }
}
