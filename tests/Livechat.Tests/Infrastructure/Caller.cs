using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Livechat.Tests.Infrastructure;

/// <summary>A user with a token (with a <c>name</c> claim when given), acting in one tenant: what a logged-in frontend is.</summary>
public sealed class Caller(Func<HttpClient> http, long userId, long tenantId, string[] roles, string? name = null)
{
    public Caller(LivechatServer server, long userId, long tenantId, string[] roles, string? name = null) : this(() => server.Http, userId, tenantId, roles, name) { }

    /// <summary>The same caller talking to the service as its own process.</summary>
    public Caller(ServiceProcess process, long userId, long tenantId, string[] roles, string? name = null) : this(() => process.Http, userId, tenantId, roles, name) { }

    public long UserId { get; } = userId;
    public long TenantId { get; } = tenantId;
    public string Token { get; } = LivechatServer.Token(userId, [tenantId], roles, name: name);

    public Task<Reply> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<Reply> PostAsync(string path, object? body) => SendAsync(HttpMethod.Post, path, body);

    public Task<Reply> PutAsync(string path, object? body) => SendAsync(HttpMethod.Put, path, body);

    public Task<Reply> PatchAsync(string path, object? body) => SendAsync(HttpMethod.Patch, path, body);

    /// <summary>Sends <paramref name="body"/> as JSON (a string is sent as it is, for malformed input).</summary>
    public async Task<Reply> SendAsync(HttpMethod method, string path, object? body, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        request.Headers.Add("X-Tenant-ID", TenantId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            var json = body as string ?? JsonSerializer.Serialize(body);
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        configure?.Invoke(request);
        using var response = await http().SendAsync(request);
        return await Reply.ReadAsync(response);
    }

    // Shorthands for the common steps of a test.

    public async Task<string> StartSessionAsync(long? agentId = null)
    {
        var reply = await PostAsync("/livechat/sessions", agentId is null ? new { } : new { agent_id = agentId });
        reply.AssertStatus(HttpStatusCode.Created);
        return reply.Data.GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> SendMessageAsync(string sessionId, string text)
    {
        var reply = await PostAsync($"/livechat/sessions/{sessionId}/messages", new { message = text });
        reply.AssertStatus(HttpStatusCode.Created);
        return reply.Data;
    }

    public async Task GoOnlineAsync()
    {
        var reply = await PutAsync("/livechat/agents/me/presence", new { status = "ONLINE" });
        reply.AssertStatus(HttpStatusCode.OK);
    }
}

/// <summary>A response read as the contract's envelope.</summary>
public sealed class Reply
{
    public required HttpStatusCode Status { get; init; }
    public required JsonElement Body { get; init; }
    public required string Text { get; init; }
    public required HttpResponseHeaders Headers { get; init; }
    public string? ContentType { get; init; }

    public JsonElement Data => Body.GetProperty("data");
    public JsonElement Meta => Body.GetProperty("meta");
    public JsonElement Errors => Body.GetProperty("errors");
    public JsonElement Pagination => Meta.GetProperty("pagination");

    public static async Task<Reply> ReadAsync(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues(OpenApiStatuses.Header, out var undocumented))
            throw new Xunit.Sdk.XunitException(undocumented.First());
        var text = await response.Content.ReadAsStringAsync();
        JsonElement body = default;
        // 204 is the one answer without an envelope: there is nothing to read.
        if (response.StatusCode != HttpStatusCode.NoContent || text.Length > 0)
        {
            try
            {
                body = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                throw new Xunit.Sdk.XunitException($"{(int)response.StatusCode} with a body that is not JSON: {text}");
            }
        }
        return new Reply
        {
            Status = response.StatusCode,
            Body = body,
            Text = text,
            Headers = response.Headers,
            ContentType = response.Content.Headers.ContentType?.MediaType,
        };
    }

    public Reply AssertStatus(HttpStatusCode expected)
    {
        Assert.True(Status == expected, $"Expected {(int)expected}, got {(int)Status}: {Text}");
        Envelope.AssertShape(this);
        return this;
    }

    /// <summary>Asserts a failure envelope with <paramref name="field"/> among the errors.</summary>
    public Reply AssertError(HttpStatusCode expected, string field)
    {
        AssertStatus(expected);
        Assert.True(Errors.TryGetProperty(field, out var messages), $"Expected errors.{field}: {Text}");
        Assert.True(messages.GetArrayLength() > 0);
        Assert.All(messages.EnumerateArray(), m => Assert.False(string.IsNullOrWhiteSpace(m.GetString())));
        return this;
    }
}

public static class Envelope
{
    /// <summary>Contract section 2: every body has exactly these members, consistent with the status.</summary>
    public static void AssertShape(Reply reply)
    {
        var body = reply.Body;
        Assert.Equal("application/json", reply.ContentType);
        Assert.Equal(JsonValueKind.Object, body.ValueKind);
        var names = body.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.True(names.SetEquals(["success", "message", "data", "meta", "errors"]), $"Envelope members: {string.Join(",", names)}");
        var success = (int)reply.Status is >= 200 and < 300;
        Assert.Equal(success, body.GetProperty("success").GetBoolean());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("message").GetString()));
        var meta = body.GetProperty("meta");
        Assert.False(string.IsNullOrEmpty(meta.GetProperty("request_id").GetString()));
        Assert.Matches(Formats.Timestamp, meta.GetProperty("timestamp").GetString()!);
        if (success)
        {
            Assert.Equal(JsonValueKind.Null, body.GetProperty("errors").ValueKind);
        }
        else
        {
            Assert.Equal(JsonValueKind.Null, body.GetProperty("data").ValueKind);
            Assert.Equal(JsonValueKind.Object, body.GetProperty("errors").ValueKind);
            Assert.NotEmpty(body.GetProperty("errors").EnumerateObject());
        }
        // A replay (Idempotency-Key) is the first response's body byte for byte, request id included; the
        // header names the request that got it.
        if (!reply.Headers.Contains("Idempotent-Replayed"))
            Assert.Equal(meta.GetProperty("request_id").GetString(), reply.Headers.GetValues("X-Request-ID").Single());
    }
}

public static class Formats
{
    public const string Timestamp = @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$";
    public const string UuidV7 = "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";
}
