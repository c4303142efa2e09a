using System.Net;
using System.Net.Sockets;

namespace Livechat.Tests.Infrastructure;

public static class Ports
{
    /// <summary>A loopback port free right now (another process may still take it before it is used: callers retry or fail loudly).</summary>
    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
