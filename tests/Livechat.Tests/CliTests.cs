using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>The command line, run as operators run it: the built Livechat.dll in its own process.</summary>
public sealed class CliTests(SqliteServer server) : IClassFixture<SqliteServer>, IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("livechat-cli-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    private Dictionary<string, string?> Environment(bool withKey = true) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["DOTNET_ENVIRONMENT"] = null,
        ["Livechat__Database__ConnectionString"] = $"Data Source={Path.Combine(folder, "cli.db")}",
        ["Livechat__Auth__SigningKey"] = withKey ? LivechatServer.SigningKey : null,
        ["Livechat__Auth__Issuer"] = LivechatServer.Issuer,
        ["Livechat__Auth__Audience"] = LivechatServer.Audience,
    };

    private static async Task<(int Exit, string Out, string Error)> RunAsync(Dictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Livechat.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment)
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task TenantsCanBeAddedListedAndDeactivated()
    {
        var env = Environment();
        var added = await RunAsync(env, "tenants", "add", "--id", "7", "--name", "Koperasi Maju", "--domain", "maju.example.test");
        Assert.True(added.Exit == 0, added.Error);
        Assert.Contains("Added tenant 7", added.Out, StringComparison.Ordinal);

        var duplicate = await RunAsync(env, "tenants", "add", "--id", "7", "--name", "Again");
        Assert.NotEqual(0, duplicate.Exit);
        Assert.Contains("already exists", duplicate.Error, StringComparison.Ordinal);

        var list = await RunAsync(env, "tenants", "list");
        Assert.Equal(0, list.Exit);
        Assert.Contains("7\tyes\tmaju.example.test\tKoperasi Maju", list.Out, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync(env, "tenants", "deactivate", "--id", "7")).Exit);
        Assert.Contains("7\tno\t", (await RunAsync(env, "tenants", "list")).Out, StringComparison.Ordinal);

        var unknown = await RunAsync(env, "tenants", "deactivate", "--id", "99");
        Assert.NotEqual(0, unknown.Exit);
        Assert.Contains("no tenant with id 99", unknown.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tenants add --name NoId", "--id")]
    [InlineData("tenants add --id -4 --name Negative", "--id")]
    [InlineData("tenants add --id 5 --name", "--name")]
    [InlineData("tenants add --id 5 --name Shop --domain not_a_host!", "--domain")]
    [InlineData("token --user abc --tenant 1 --role SUPPORT_AGENT", "abc")]
    [InlineData("token --user 1 --tenant 1 --role SUPPORT_AGENT --ttl forever", "--ttl")]
    [InlineData("token --user 1 --role SUPPORT_AGENT", "--tenant")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task BadArgumentsFailWithAClearMessage(string arguments, string mentioned)
    {
        var result = await RunAsync(Environment(), arguments.Split(' '));
        Assert.NotEqual(0, result.Exit);
        Assert.Contains(mentioned, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenPrintsAJwtTheServiceAccepts()
    {
        var tenant = await server.NewTenantAsync();
        var result = await RunAsync(Environment(), "token", "--user", "31", "--tenant", tenant.ToString(System.Globalization.CultureInfo.InvariantCulture), "--role", "SUPPORT_AGENT", "--ttl", "10m");
        Assert.True(result.Exit == 0, result.Error);
        var token = result.Out.Trim();
        Assert.Equal(3, token.Split('.').Length);

        var reply = await server.SendAsync(HttpMethod.Post, "/livechat/sessions", token, tenant.ToString(System.Globalization.CultureInfo.InvariantCulture), "{}");
        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(31, reply.Data.GetProperty("agent_id").GetInt64());
    }

    [Fact]
    public async Task TokenWithANameCarriesIt()
    {
        var tenant = (await server.NewTenantAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var result = await RunAsync(Environment(), "token", "--user", "32", "--tenant", tenant, "--role", "SUPPORT_AGENT", "--name", "Ann Agent");
        Assert.True(result.Exit == 0, result.Error);
        var reply = await server.SendAsync(HttpMethod.Get, "/livechat/users/32", result.Out.Trim(), tenant);
        Assert.Equal("Ann Agent", reply.AssertStatus(HttpStatusCode.OK).Data.GetProperty("name").GetString());
    }

    [Fact]
    public async Task TokenWithoutASigningKeyFails()
    {
        var result = await RunAsync(Environment(withKey: false), "token", "--user", "1", "--tenant", "1", "--role", "SUPPORT_AGENT");
        Assert.NotEqual(0, result.Exit);
        Assert.Contains("SigningKey", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateCreatesTheSchemaAndIsSafeToRepeat()
    {
        var first = await RunAsync(Environment(), "migrate");
        Assert.True(first.Exit == 0, first.Error);
        Assert.Contains("up to date", first.Out, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync(Environment(), "migrate")).Exit);
        Assert.Equal(0, (await RunAsync(Environment(), "tenants", "list")).Exit);
    }

    [Fact]
    public async Task MigrateAndTenantVerbsWorkAgainstPostgres()
    {
        var (database, connectionString) = await PostgresCluster.Instance.CreateDatabaseAsync();
        try
        {
            var env = Environment();
            env["Livechat__Database__Provider"] = "postgres";
            env["Livechat__Database__ConnectionString"] = connectionString;

            // Several instances migrating at once wait on the advisory lock instead of racing to create the schema.
            var migrations = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => RunAsync(env, "migrate")));
            foreach (var migrated in migrations) Assert.True(migrated.Exit == 0, migrated.Error);
            Assert.Contains("up to date", migrations[0].Out, StringComparison.Ordinal);

            var added = await RunAsync(env, "tenants", "add", "--id", "8", "--name", "Koperasi Postgres", "--domain", "pg.example.test");
            Assert.True(added.Exit == 0, added.Error);
            var list = await RunAsync(env, "tenants", "list");
            Assert.Equal(0, list.Exit);
            Assert.Contains("8\tyes\tpg.example.test\tKoperasi Postgres", list.Out, StringComparison.Ordinal);
        }
        finally
        {
            await PostgresCluster.Instance.DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task MigrateWaitsForAnUnreachableDatabaseThenFailsWithAClearMessage()
    {
        var port = Ports.Free(); // nobody listens there now: connection refused, as while a database container starts

        var env = Environment();
        env["Livechat__Database__Provider"] = "postgres";
        env["Livechat__Database__ConnectionString"] = $"Host=127.0.0.1;Port={port};Username=livechat;Password=secret-password;Database=livechat";
        env["Livechat__Database__StartupRetrySeconds"] = "2";
        var started = Stopwatch.StartNew();
        var result = await RunAsync(env, "migrate");

        Assert.NotEqual(0, result.Exit);
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(2), $"gave up after {started.Elapsed}");
        Assert.Contains($"postgres at 127.0.0.1:{port}/livechat", result.Error, StringComparison.Ordinal);
        Assert.Contains("did not answer within 2 s", result.Error, StringComparison.Ordinal);
        Assert.Contains("does not answer yet", result.Out + result.Error, StringComparison.Ordinal); // each wait is logged
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-password", result.Out + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePostgresProviderWithASqliteConnectionStringSaysWhatToSet()
    {
        var env = Environment();
        env["Livechat__Database__Provider"] = "postgres";
        var result = await RunAsync(env, "migrate");
        Assert.NotEqual(0, result.Exit);
        Assert.Contains("Livechat:Database:ConnectionString is not a PostgreSQL", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServingInProductionWithoutAKeyStopsWithAClearMessage()
    {
        var result = await RunAsync(Environment(withKey: false), "serve", "--urls", "http://127.0.0.1:0");
        Assert.NotEqual(0, result.Exit);
        Assert.Contains("Livechat__Auth__SigningKey", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeListensOnTheGivenUrls()
    {
        var port = Ports.Free();

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Livechat.dll"));
        foreach (var arg in new[] { "serve", "--urls", $"http://127.0.0.1:{port}" }) start.ArgumentList.Add(arg);
        foreach (var (key, value) in Environment()) { if (value is null) start.Environment.Remove(key); else start.Environment[key] = value; }
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            HttpStatusCode? status = null;
            for (var attempt = 0; attempt < 100 && status is null; attempt++)
            {
                try { status = (await http.GetAsync("/health/ready")).StatusCode; }
                catch (HttpRequestException) { await Task.Delay(100); }
            }
            Assert.Equal(HttpStatusCode.OK, status);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
