using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Livechat.Tests.Infrastructure;

/// <summary>
/// The service as operators run it: <c>dotnet Livechat.dll serve</c> in its own process, so a test can kill it
/// (SIGKILL) or ask it to stop (SIGTERM) and start it again on the same database.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string> environment;
    private Process? process;

    public ServiceProcess(Dictionary<string, string> environment)
    {
        this.environment = environment;
        Port = Ports.Free();
        Http = new HttpClient { BaseAddress = BaseAddress };
    }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> output = new();

    /// <summary>What the service printed (its log), for a failing test's message.</summary>
    public string Output => string.Join('\n', output);

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public HttpClient Http { get; }

    public int? ExitCode => process is { HasExited: true } p ? p.ExitCode : null;

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Livechat.dll"), "serve", "--urls", BaseAddress.ToString().TrimEnd('/') })
            start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                using var ready = await Http.GetAsync("/health/ready");
                if (ready.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            if (process.HasExited) throw new InvalidOperationException($"The service exited with {process.ExitCode}.");
            await Task.Delay(100);
        }
        throw new InvalidOperationException("The service did not become ready.");
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        process!.Kill();
        await process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as an orchestrator stops a container; waits for the process to exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        using var wait = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(wait.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false }) await KillAsync();
        process?.Dispose();
        Http.Dispose();
    }

}
