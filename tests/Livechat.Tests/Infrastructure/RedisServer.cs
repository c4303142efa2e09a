using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Livechat.Tests.Infrastructure;

/// <summary>
/// A real redis-server from PATH on a free loopback port, one per test process, with no persistence. It is
/// stopped when the process exits, however it exits. Missing binaries fail loudly: scripts/test installs them.
/// </summary>
public static class RedisServer
{
    private static readonly Lazy<(Process Process, int Port)> Instance = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Configuration => $"127.0.0.1:{Instance.Value.Port}";

    private static (Process, int) Start()
    {
        var binary = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/usr/bin")
            .Select(folder => Path.Combine(folder, "redis-server")).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed: run scripts/test, or apt-get install redis-server.");
        var port = Ports.Free();

        // Through a small shell that also watches this process: a test host the runner kills runs no exit
        // handler, and a redis-server must not outlive the run that started it.
        const string script = "\"$0\" --port \"$1\" --bind 127.0.0.1 --save '' --appendonly no --protected-mode yes >/dev/null 2>&1 & server=$!; " +
            "while kill -0 \"$2\" 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 1; done; kill $server 2>/dev/null";
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var arg in new[] { "-c", script, binary, port.ToString(System.Globalization.CultureInfo.InvariantCulture), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        };

        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return (process, port);
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        throw new InvalidOperationException($"redis-server did not listen on port {port}.");
    }
}
