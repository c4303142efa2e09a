using System.Net;
using System.Net.Sockets;

namespace Livechat.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on loopback in front of a test server, so a test can drop the network under a browser: <see cref="Cut"/>
/// closes every open connection and refuses new ones until <see cref="Restore"/>, as a train going into a tunnel does.
/// </summary>
public sealed class CuttableProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly Uri target;
    private readonly Lock gate = new();
    private readonly List<Socket> open = [];
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;
    private volatile bool cut;

    public CuttableProxy(Uri target)
    {
        this.target = target;
        listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        accepting = Task.Run(AcceptAsync);
    }

    public Uri Address { get; }

    public void Cut()
    {
        cut = true;
        lock (gate)
        {
            foreach (var socket in open) socket.Dispose();
            open.Clear();
        }
    }

    public void Restore() => cut = false;

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            if (cut)
            {
                client.Dispose();
                continue;
            }
            _ = Task.Run(() => PairAsync(client));
        }
    }

    private async Task PairAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(target.Host, target.Port, stop.Token);
            lock (gate)
            {
                open.Add(client);
                open.Add(server);
            }
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        finally
        {
            lock (gate)
            {
                open.Remove(client);
                open.Remove(server);
            }
            client.Dispose();
            server.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, stop.Token);
                if (read == 0) return;
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        Cut();
        await accepting;
        stop.Dispose();
    }
}
