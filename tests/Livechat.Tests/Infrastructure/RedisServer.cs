using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Livechat.Tests.Infrastructure;

/// <summary>
/// A real redis-server from PATH on a free loopback port, one per test process, with no persistence. It is
/// stopped when the process exits. Missing binaries fail loudly: scripts/test installs them.
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

        var start = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes" })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { process.Kill(); } catch (InvalidOperationException) { }
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
