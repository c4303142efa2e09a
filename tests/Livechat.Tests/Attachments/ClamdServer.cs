using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests.Attachments;

/// <summary>
/// A real clamd (Debian's clamav-daemon; scripts/test installs it) on a loopback port, in a temporary folder,
/// whose signature database holds only the EICAR test file's hash: signature downloads are not reachable here,
/// and a tiny database loads in a moment. Ready once it answers <c>PING</c> with <c>PONG</c>.
/// </summary>
public sealed class ClamdServer : IAsyncDisposable
{
    /// <summary>The EICAR file's MD5, size and a name: an <c>.hdb</c> signature clamd matches by hash.</summary>
    private const string EicarSignature = "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature";

    private readonly string folder = Directory.CreateTempSubdirectory("livechat-clamd-").FullName;
    private Process? process;

    public ClamdServer(int? port = null) => Port = port ?? Ports.Free();

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public async Task StartAsync()
    {
        var binary = new[] { "/usr/sbin/clamd", "/usr/bin/clamd" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("clamd is not installed: run scripts/test, or apt-get install clamav-daemon.");
        var database = Directory.CreateDirectory(Path.Combine(folder, "db")).FullName;
        await File.WriteAllTextAsync(Path.Combine(database, "test.hdb"), EicarSignature + "\n");
        var config = Path.Combine(folder, "clamd.conf");
        await File.WriteAllTextAsync(config, $"""
            Foreground yes
            TCPSocket {Port}
            TCPAddr 127.0.0.1
            DatabaseDirectory {database}
            TemporaryDirectory {folder}
            LogFile {Path.Combine(folder, "clamd.log")}
            """);

        // Through a small shell that also watches this process: a test host the runner kills runs no exit handler,
        // and a clamd must not outlive the run that started it.
        const string script = "\"$0\" -c \"$1\" >/dev/null 2>&1 & server=$!; " +
            "while kill -0 \"$2\" 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 1; done; kill $server 2>/dev/null";
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var arg in new[] { "-c", script, binary, config, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(arg);
        process = Process.Start(start)!;

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) break;
            if (await PingAsync()) return;
            await Task.Delay(100);
        }
        var log = Path.Combine(folder, "clamd.log");
        throw new InvalidOperationException($"clamd did not answer PING on {Address}: {(File.Exists(log) ? await File.ReadAllTextAsync(log) : "no log")}");
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("zPING\0"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).TrimEnd('\0') == "PONG";
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync();
            process.Dispose();
        }
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
