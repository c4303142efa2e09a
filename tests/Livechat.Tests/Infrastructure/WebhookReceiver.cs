using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Livechat.Tests.Infrastructure;

/// <summary>One request a receiver got: the Standard Webhooks headers, the raw body, and when.</summary>
public sealed record ReceivedWebhook(string Path, string Id, string Timestamp, string Signature, string Body, DateTimeOffset At)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
    public string Type => Json.GetProperty("type").GetString()!;
}

/// <summary>How a receiver answers one request: a status after an optional delay, with an optional Retry-After.</summary>
public sealed record ScriptedAnswer(int Status, TimeSpan Delay = default, string? RetryAfter = null);

/// <summary>
/// A tenant's endpoint on loopback (Kestrel): records every request and answers as scripted per path, with
/// the attempt number of that event at that path (1 for the first request of a webhook-id).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Func<ReceivedWebhook, int, ScriptedAnswer>> scripts = new();
    private readonly ConcurrentDictionary<(string, string), int> attempts = new();
    private readonly ConcurrentDictionary<string, int> inFlight = new();
    private WebApplication? app;
    private int overlaps;

    public ConcurrentQueue<ReceivedWebhook> Requests { get; } = new();

    /// <summary>How many times a request arrived while another one with the same webhook-id was still being answered.</summary>
    public int Overlaps => Volatile.Read(ref overlaps);

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        receiver.app = builder.Build();
        receiver.app.MapPost("/{**path}", receiver.HandleAsync);
        await receiver.app.StartAsync();
        receiver.BaseAddress = new Uri(receiver.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    /// <summary>A fresh path on this receiver answering with <paramref name="script"/> (200 by default).</summary>
    public string NewEndpoint(Func<ReceivedWebhook, int, ScriptedAnswer>? script = null)
    {
        var path = "hook-" + Guid.NewGuid().ToString("N");
        scripts[path] = script ?? ((_, _) => new ScriptedAnswer(200));
        return new Uri(BaseAddress, path).ToString();
    }

    public void Script(string url, Func<ReceivedWebhook, int, ScriptedAnswer> script) => scripts[PathOf(url)] = script;

    public List<ReceivedWebhook> At(string url) => Requests.Where(r => r.Path == PathOf(url)).ToList();

    /// <summary>Waits until the requests at <paramref name="url"/> satisfy <paramref name="done"/>.</summary>
    public async Task<List<ReceivedWebhook>> WaitAsync(string url, Func<List<ReceivedWebhook>, bool> done, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var got = At(url);
            if (done(got)) return got;
            if (DateTime.UtcNow > until)
                throw new Xunit.Sdk.XunitException($"The receiver got {got.Count} request(s) at {url}: {string.Join(", ", got.Select(r => r.Type))}");
            await Task.Delay(20);
        }
    }

    /// <summary>The requests of one event type at <paramref name="url"/>, once at least <paramref name="count"/> arrived.</summary>
    public async Task<List<ReceivedWebhook>> WaitForAsync(string url, string type, int count = 1) =>
        (await WaitAsync(url, got => got.Count(r => r.Type == type) >= count)).Where(r => r.Type == type).ToList();

    private static string PathOf(string url) => new Uri(url).AbsolutePath.TrimStart('/');

    private async Task HandleAsync(HttpContext http, string path)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync();
        var request = new ReceivedWebhook(path, http.Request.Headers["webhook-id"].ToString(), http.Request.Headers["webhook-timestamp"].ToString(),
            http.Request.Headers["webhook-signature"].ToString(), body, DateTimeOffset.UtcNow);
        Requests.Enqueue(request);
        var attempt = attempts.AddOrUpdate((path, request.Id), 1, (_, n) => n + 1);
        if (inFlight.AddOrUpdate(request.Id, 1, (_, n) => n + 1) > 1) Interlocked.Increment(ref overlaps);
        try
        {
            var answer = scripts.TryGetValue(path, out var script) ? script(request, attempt) : new ScriptedAnswer(404);
            if (answer.Delay > TimeSpan.Zero) await Task.Delay(answer.Delay, http.RequestAborted);
            if (answer.RetryAfter is not null) http.Response.Headers.RetryAfter = answer.RetryAfter;
            http.Response.StatusCode = answer.Status;
        }
        catch (OperationCanceledException)
        {
            // the sender gave up (its timeout)
        }
        finally
        {
            inFlight.AddOrUpdate(request.Id, 0, (_, n) => n - 1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (app is null) return;
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
