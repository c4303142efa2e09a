using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;

namespace Livechat.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster for one test run: <c>initdb</c> into a temporary folder, <c>pg_ctl start</c>
/// on a free loopback port (TCP only, fsync off: nothing here must survive a power cut), started on first use
/// and stopped and removed when the test process ends. Each fixture gets its own database from
/// <see cref="CreateDatabaseAsync"/>, so test classes run in parallel without seeing each other's rows.
/// PostgreSQL refuses to run as root; as root (CI) the cluster belongs to, and runs as, the <c>postgres</c> user.
/// Clean-up has two paths: <see cref="Stop"/> at ProcessExit, and a watchdog process that stops and removes the
/// cluster once this process is gone, however it ended (a test host killed by the runner runs no handler, and
/// .NET runs no finalizers at exit).
/// </summary>
public sealed class PostgresCluster
{
    private const string FolderPrefix = "livechat-pg-";
    private static readonly Lazy<PostgresCluster> Shared = new(() => Start(durable: false), LazyThreadSafetyMode.ExecutionAndPublication);
    private static int nextDatabase;

    private readonly string binaries;
    private readonly bool asPostgresUser;
    private int stopped;

    private readonly string options;

    private PostgresCluster(string binaries, bool asPostgresUser, string folder, int port, string options)
    {
        this.binaries = binaries;
        this.asPostgresUser = asPostgresUser;
        this.options = options;
        Folder = folder;
        Port = port;
    }

    /// <summary>
    /// A cluster of its own, for a test that stops and restarts the server (a database outage). It commits
    /// durably, as production does: the shared cluster's fsync=off would lose the last commits in an
    /// immediate stop, which is the test harness's loss, not the service's.
    /// </summary>
    public static PostgresCluster StartPrivate() => Start(durable: true);

    /// <summary>Stops the server as a crash would (immediate mode); <see cref="Resume"/> starts it again on the same port.</summary>
    public void Pause() =>
        RunPostgresTool(binaries, asPostgresUser, "pg_ctl", ["-D", DataFolder, "-m", "immediate", "-w", "-t", "30", "stop"]);

    public void Resume() =>
        RunPostgresTool(binaries, asPostgresUser, "pg_ctl", ["-D", DataFolder, "-l", Path.Combine(Folder, "postgres.log"), "-o", options, "-w", "-t", "60", "start"]);

    /// <summary>The cluster of this test process, started on first use; fails loudly when PostgreSQL is not installed.</summary>
    public static PostgresCluster Instance => Shared.Value;

    public string Folder { get; }

    public int Port { get; }

    private string DataFolder => Path.Combine(Folder, "data");

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    /// <summary>A new empty database; returns its name and connection string.</summary>
    public async Task<(string Name, string ConnectionString)> CreateDatabaseAsync()
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"livechat_{Environment.ProcessId}_{Interlocked.Increment(ref nextDatabase)}");
        await AdminAsync($"CREATE DATABASE {name}");
        return (name, ConnectionString(name));
    }

    /// <summary>Drops a database even while connections to it are still open (a disposed pool may still hold some).</summary>
    public Task DropDatabaseAsync(string name) => AdminAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");

    /// <summary>Runs one statement as the superuser, for set-up that the service itself never does.</summary>
    public async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static PostgresCluster Start(bool durable)
    {
        var binaries = FindBinaries() ?? throw new InvalidOperationException(
            "The PostgreSQL tests need initdb and pg_ctl (on PATH or in /usr/lib/postgresql/*/bin). " +
            "Install PostgreSQL (Debian/Ubuntu: apt-get install postgresql); scripts/test does it when run as root.");
        var asPostgresUser = !OperatingSystem.IsWindows() && geteuid() == 0;
        RemoveAbandonedClusters(binaries, asPostgresUser);

        var folder = Directory.CreateTempSubdirectory(FolderPrefix).FullName;
        File.WriteAllText(Path.Combine(folder, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (asPostgresUser) Run("chown", ["-R", "postgres:postgres", folder]);
        var data = Path.Combine(folder, "data");
        RunPostgresTool(binaries, asPostgresUser, "initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"]);

        // A free port can be taken between the probe and the start; try a few.
        for (var attempt = 1; ; attempt++)
        {
            var port = Ports.Free();
            var options = string.Create(CultureInfo.InvariantCulture,
                $"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c max_connections=300")
                + (durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
            try
            {
                RunPostgresTool(binaries, asPostgresUser, "pg_ctl", ["-D", data, "-l", Path.Combine(folder, "postgres.log"), "-o", options, "-w", "-t", "60", "start"]);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                continue;
            }
            var cluster = new PostgresCluster(binaries, asPostgresUser, folder, port, options);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Stop();
            StartWatchdog(binaries, asPostgresUser, folder);
            return cluster;
        }
    }

    /// <summary>Stops the server and removes its folder. Idempotent and never throws: it runs at process exit or from a finalizer.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref stopped, 1) == 1) return;
        StopAndRemove(binaries, asPostgresUser, Folder);
    }

    /// <summary>
    /// A detached shell that waits for this process to end, then stops the server and removes its folder.
    /// It checks /proc (or signal 0) once a second, so it costs nothing while tests run.
    /// </summary>
    private static void StartWatchdog(string binaries, bool asPostgresUser, string folder)
    {
        const string script = "exec </dev/null >/dev/null 2>&1; while [ -d \"/proc/$0\" ] || kill -0 \"$0\"; do sleep 1; done; " +
            "\"$1\" -D \"$2/data\" -m immediate -w stop; rm -rf \"$2\"";
        string[] args = ["-c", script, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), Path.Combine(binaries, "pg_ctl"), folder];
        var start = asPostgresUser ? new ProcessStartInfo("runuser") : new ProcessStartInfo("/bin/sh");
        if (asPostgresUser) foreach (var arg in (string[])["-u", "postgres", "--", "/bin/sh"]) start.ArgumentList.Add(arg);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.UseShellExecute = false;
        using var watchdog = Process.Start(start); // not waited for: it outlives this process on purpose
    }

    private static void StopAndRemove(string binaries, bool asPostgresUser, string folder)
    {
        try
        {
            if (File.Exists(Path.Combine(folder, "data", "postmaster.pid")))
                RunPostgresTool(binaries, asPostgresUser, "pg_ctl", ["-D", Path.Combine(folder, "data"), "-m", "immediate", "-w", "-t", "20", "stop"]);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            // Already stopped, or gone with its folder: nothing left to stop.
        }
        try { Directory.Delete(folder, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Clusters left behind by test processes that were killed (no ProcessExit): stop and remove them.</summary>
    private static void RemoveAbandonedClusters(string binaries, bool asPostgresUser)
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            var owner = Path.Combine(folder, "owner.pid");
            if (!File.Exists(owner) || !int.TryParse(File.ReadAllText(owner), CultureInfo.InvariantCulture, out var pid) || IsAlive(pid)) continue;
            StopAndRemove(binaries, asPostgresUser, folder);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The folder holding initdb and pg_ctl: PATH first, then Debian's versioned folders, newest first.</summary>
    private static string? FindBinaries()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).ToList();
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.EnumerateDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), CultureInfo.InvariantCulture, out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        }
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }


    private static void RunPostgresTool(string binaries, bool asPostgresUser, string tool, IEnumerable<string> args)
    {
        var path = Path.Combine(binaries, tool);
        if (asPostgresUser) Run("runuser", ["-u", "postgres", "--", path, .. args]);
        else Run(path, args);
    }

    /// <summary>Runs a tool to its end; a failure says what ran and what it printed.</summary>
    private static void Run(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        // Read both streams while it runs (a full pipe would block it); the postmaster pg_ctl leaves behind writes
        // to its log file, not to these pipes, but do not wait for them to close on success anyway.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', start.ArgumentList)} did not finish in 90 s.");
        }
        if (process.ExitCode == 0) return;
        Task.WaitAll([output, error], TimeSpan.FromSeconds(5));
        throw new InvalidOperationException($"{file} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): " +
            $"{(output.IsCompleted ? output.Result : "")} {(error.IsCompleted ? error.Result : "")}");
    }

    [DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();
}
