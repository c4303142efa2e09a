using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Livechat.Tests.Infrastructure;

/// <summary>A hub connection made with the official .NET SignalR client, recording every event it receives.</summary>
public sealed class HubClient : IAsyncDisposable
{
    private static readonly string[] Events = ["messageCreated", "sessionUpdated", "sessionAssigned", "notificationCreated", "presenceUpdated", "messagesRead", "typing"];
    private readonly ConcurrentDictionary<string, Channel<JsonElement>> received = new();

    private HubClient(HubConnection connection)
    {
        Connection = connection;
        foreach (var name in Events)
        {
            var channel = Channel.CreateUnbounded<JsonElement>();
            received[name] = channel;
            connection.On<JsonElement>(name, payload => channel.Writer.TryWrite(payload.Clone()));
        }
    }

    public HubConnection Connection { get; }

    public static async Task<HubClient> ConnectAsync(LivechatServer server, Caller caller, HttpTransportType transport = HttpTransportType.WebSockets,
        bool skipNegotiation = false) =>
        await ConnectAsync(server, caller.Token, caller.TenantId.ToString(System.Globalization.CultureInfo.InvariantCulture), transport, skipNegotiation);

    /// <summary>Connected once <c>StartAsync</c> returned; <paramref name="skipNegotiation"/> needs WebSockets.</summary>
    public static async Task<HubClient> ConnectAsync(LivechatServer server, string token, string tenant, HttpTransportType transport = HttpTransportType.WebSockets,
        bool skipNegotiation = false)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, $"livechat/hub?tenant_id={tenant}"), options =>
            {
                options.AccessTokenProvider = () => Task.FromResult<string?>(token);
                options.Transports = transport;
                options.SkipNegotiation = skipNegotiation;
            })
            .Build();
        var client = new HubClient(connection);
        await connection.StartAsync();
        return client;
    }

    /// <summary>The next <paramref name="name"/> event, or a failure after <paramref name="seconds"/>.</summary>
    public async Task<JsonElement> NextAsync(string name, int seconds = 10)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            return await received[name].Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"No {name} event within {seconds} s.");
        }
    }

    /// <summary>The next <paramref name="name"/> event that matches, skipping others.</summary>
    public async Task<JsonElement> NextAsync(string name, Func<JsonElement, bool> matches, int seconds = 10)
    {
        while (true)
        {
            var next = await NextAsync(name, seconds);
            if (matches(next)) return next;
        }
    }

    /// <summary>
    /// Waits for the first <paramref name="control"/> event that <paramref name="isControl"/> accepts, then answers the
    /// <paramref name="forbidden"/> events that came before it (other <paramref name="control"/> events are skipped
    /// unless <paramref name="control"/> is <paramref name="forbidden"/>). The service sends a connection's events in
    /// the order of its log and the client runs its handlers one at a time in that order: once the control has
    /// arrived, whatever an earlier action sent is here, so a test proves an event did not come without waiting.
    /// </summary>
    public async Task<List<JsonElement>> BeforeAsync(string forbidden, string control, Func<JsonElement, bool> isControl, int seconds = 10)
    {
        var before = new List<JsonElement>();
        while (true)
        {
            var next = await NextAsync(control, seconds);
            if (isControl(next)) break;
            if (control == forbidden) before.Add(next);
        }
        if (control != forbidden) before.AddRange(Drain(forbidden));
        return before;
    }

    /// <summary>Events of <paramref name="name"/> received so far and not yet read.</summary>
    public List<JsonElement> Drain(string name)
    {
        var items = new List<JsonElement>();
        while (received[name].Reader.TryRead(out var item)) items.Add(item);
        return items;
    }

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}
