using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

/// <summary>
/// Webhook delivery throughput: agents post messages while 1, then 8 webhooks subscribe to
/// <c>message.created</c>; a receiver on loopback answers 200 at once. Reports deliveries per second from the
/// first POST to the last delivery, and the delay from a message's 201 to its first delivery.
/// </summary>
internal static class WebhookThroughput
{
    public static async Task RunAsync(Service service, int messages, int senders)
    {
        foreach (var webhooks in new[] { 1, 8 }) await RunAsync(service, messages, senders, webhooks);
    }

    private static async Task RunAsync(Service service, int messages, int senders, int webhooks)
    {
        var received = 0;
        var arrival = new ConcurrentDictionary<string, long>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        receiver.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var messageId = JsonDocument.Parse(body).RootElement.GetProperty("data").GetProperty("id").GetString()!;
            arrival.TryAdd(messageId, Stopwatch.GetTimestamp());
            Interlocked.Increment(ref received);
            return Results.Ok();
        });
        await receiver.StartAsync();
        var url = receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var admin = Service.Admin(900_000 + webhooks);
        var ids = new List<string>();
        for (var i = 0; i < webhooks; i++)
            ids.Add((await service.PostAsync(admin, "/webhooks", $"{{\"url\": \"{url}/hook{i}\", \"events\": [\"message.created\"]}}")).GetProperty("id").GetString()!);

        var acknowledged = new ConcurrentDictionary<string, long>();
        var perSender = messages / senders;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, senders).Select(async s =>
        {
            var agent = Service.Agent(800_000 + webhooks * 100 + s);
            var session = (await service.PostAsync(agent, "/livechat/sessions", "{}")).GetProperty("id").GetString()!;
            for (var m = 0; m < perSender; m++)
            {
                var sent = await service.PostAsync(agent, $"/livechat/sessions/{session}/messages", $"{{\"message\": \"webhook bench {m}\"}}");
                acknowledged[sent.GetProperty("id").GetString()!] = Stopwatch.GetTimestamp();
            }
            await service.SendAsync(agent, HttpMethod.Patch, $"/livechat/sessions/{session}", "{\"status\": \"CLOSED\"}");
        }));
        var posted = Stopwatch.GetElapsedTime(started);
        var expected = perSender * senders * webhooks;
        var deadline = Stopwatch.StartNew();
        while (Volatile.Read(ref received) < expected && deadline.Elapsed < TimeSpan.FromMinutes(3)) await Task.Delay(5);
        var total = Stopwatch.GetElapsedTime(started);
        var delays = acknowledged.Where(a => arrival.ContainsKey(a.Key))
            .Select(a => Stopwatch.GetElapsedTime(a.Value, arrival[a.Key]).TotalMilliseconds).Order().ToList();
        var rate = received / total.TotalSeconds;

        Console.WriteLine();
        Console.WriteLine($"## Webhooks on {service.Name}: {webhooks} webhook(s), {perSender * senders} messages from {senders} agents");
        Console.WriteLine();
        Console.WriteLine($"- messages posted in {posted.TotalSeconds:0.00} s ({perSender * senders / posted.TotalSeconds:0} /s)");
        Console.WriteLine($"- {received} of {expected} deliveries in {total.TotalSeconds:0.00} s: **{rate:0} deliveries/s**");
        Console.WriteLine($"- 201 → delivery: median {Table.At(delays, 0.5):0.0} ms, p99 {Table.At(delays, 0.99):0.0} ms");
        Console.WriteLine($"RESULT webhooks={webhooks} rate={rate:0} p50={Table.At(delays, 0.5):0.0} p99={Table.At(delays, 0.99):0.0}");

        foreach (var id in ids) await service.SendAsync(admin, HttpMethod.Delete, $"/webhooks/{id}", "{}");
        await receiver.StopAsync();
    }
}
