using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>
/// Traces, as an operator's collector receives them (docs/observability.md): the service runs as its own process with
/// the standard <c>OTEL_*</c> variables pointing at an OTLP/HTTP receiver on loopback, and the spans of one real
/// request must form one tree, request → write batch → commit and publish, with the request id and the tenant and
/// never the message's text or the token; a webhook attempt is a span of its own with its outcome.
/// </summary>
public abstract class TracingTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly string folder = Directory.CreateTempSubdirectory("livechat-tracing-").FullName;
    private string? postgresDatabase;
    private Dictionary<string, string> environment = null!;
    private OtlpReceiver collector = null!;
    private WebhookReceiver receiver = null!;

    public async Task InitializeAsync()
    {
        string connectionString;
        if (provider == DatabaseProvider.Sqlite) connectionString = $"Data Source={Path.Combine(folder, "livechat.db")}";
        else (postgresDatabase, connectionString) = await PostgresCluster.Instance.CreateDatabaseAsync();
        collector = await OtlpReceiver.StartAsync();
        receiver = await WebhookReceiver.StartAsync();
        environment = ResilienceTests.Environment(provider, connectionString);
        environment["Livechat__Webhooks__AllowPrivateNetworks"] = "true";
        environment["Livechat__Webhooks__PollMilliseconds"] = "20";
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseAddress.ToString().TrimEnd('/');
        environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        environment["OTEL_BSP_SCHEDULE_DELAY"] = "100"; // export every 100 ms rather than every 5 s
    }

    public async Task DisposeAsync()
    {
        await collector.DisposeAsync();
        await receiver.DisposeAsync();
        if (postgresDatabase is not null) await PostgresCluster.Instance.DropDatabaseAsync(postgresDatabase);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string token, string path, object body, string? requestId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Tenant-ID", "1");
        if (requestId is not null) request.Headers.Add("X-Request-ID", requestId);
        using var response = await http.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"{path}: {response.StatusCode}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data").Clone();
    }

    [Fact]
    public async Task ASendIsOneTreeFromTheRequestThroughItsWriteBatchToCommitAndPublishAndTheWebhookAttemptIsASpanWithItsOutcome()
    {
        await using var service = new ServiceProcess(environment);
        await service.StartAsync();
        await ResilienceTests.AddTenantAsync(environment);
        var agent = LivechatServer.Token(7, [1], [Roles.SupportAgent]);
        var admin = LivechatServer.Token(8, [1], ["SUPPORT_ADMIN"]);
        await PostAsync(service.Http, admin, "/webhooks", new { url = receiver.NewEndpoint(), events = new[] { "message.created" } });
        var session = (await PostAsync(service.Http, agent, "/livechat/sessions", new { })).GetProperty("id").GetString();
        var requestId = "trace-" + Guid.NewGuid().ToString("N");
        const string text = "a text no span may carry";
        await PostAsync(service.Http, agent, $"/livechat/sessions/{session}/messages", new { message = text }, requestId);

        await Eventually.Async(() =>
        {
            var spans = collector.Spans.ToList();
            var request = Assert.Single(spans, s => s.Attributes.GetValueOrDefault("livechat.request_id") == requestId);
            Assert.Equal("1", request.Attributes.GetValueOrDefault("livechat.tenant_id"));
            var trace = spans.Where(s => s.TraceId == request.TraceId).ToList();
            // The batch that wrote the message is the request's child, and the message's publish is the batch's.
            var publish = Assert.Single(trace, s => s.Name == "publish" && s.Attributes.GetValueOrDefault("livechat.event") == "MessageCreated");
            var batch = Assert.Single(trace, s => s.SpanId == publish.ParentSpanId);
            Assert.Equal("write batch", batch.Name);
            Assert.Equal(request.SpanId, batch.ParentSpanId);
            Assert.True(int.Parse(batch.Attributes.GetValueOrDefault("livechat.batch.writes") ?? "0", System.Globalization.CultureInfo.InvariantCulture) >= 1);
            Assert.Contains(trace, s => s.Name == "commit" && s.ParentSpanId == batch.SpanId);
            if (provider == DatabaseProvider.Postgres)
                Assert.Contains(trace, s => s.ParentSpanId == batch.SpanId && s.Attributes.Keys.Any(k => k.StartsWith("db.", StringComparison.Ordinal)));

            var attempt = Assert.Single(spans, s => s.Name == "webhook attempt");
            Assert.Equal("succeeded", attempt.Attributes.GetValueOrDefault("livechat.webhook.outcome"));
            Assert.Equal("200", attempt.Attributes.GetValueOrDefault("http.response.status_code"));
            Assert.Contains(spans, s => s.ParentSpanId == attempt.SpanId && s.TraceId == attempt.TraceId); // the HttpClient's POST

            // Never a message's text or a token in an attribute.
            Assert.DoesNotContain(spans, s => s.Attributes.Values.Any(v => v.Contains(text, StringComparison.Ordinal) || v.Contains(agent, StringComparison.Ordinal)));
            return Task.CompletedTask;
        }, seconds: 30);
    }
}

public sealed class TracingTestsOnSqlite() : TracingTests(DatabaseProvider.Sqlite);

public sealed class TracingTestsOnPostgres() : TracingTests(DatabaseProvider.Postgres);
