using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests;

/// <summary>
/// The TypeScript client (clients/typescript), checked rather than hoped: its generated types are what openapi-typescript
/// makes of this service's own document, the package and its contract check compile (the generated shapes assigned to
/// the seed's own types), and the built client drives a live service (start, send, walk pages, stream and resume).
/// </summary>
public abstract partial class TypeScriptClientTests(LivechatServer server)
{
    /// <summary>Set to 1 to write the regenerated types over the committed ones instead of failing on a difference.</summary>
    public const string UpdateVariable = "LIVECHAT_UPDATE_CLIENT_TYPES";

    protected static string Package
    {
        get
        {
            var folder = Path.Combine(Repository.Root, "clients", "typescript");
            Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "openapi-fetch")),
                "Run `npm ci --prefix clients/typescript` (scripts/test does) to install the client's packages.");
            return folder;
        }
    }

    /// <summary>dist/, built once per test run (both databases' tests use it).</summary>
    private static readonly Lazy<Task> Built = new(() => NodeAsync(Package, "node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"));

    protected static async Task<string> NodeAsync(string folder, params string[] args)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var errors = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        Assert.True(process.ExitCode == 0, $"node {string.Join(' ', args)} exited {process.ExitCode}:\n{await output}\n{await errors}");
        return await output;
    }

    [Fact]
    public async Task TheClientStartsAChatSendsWalksThePagesAndResumesTheStream()
    {
        await Built.Value;
        var agent = server.Agent(await server.NewTenantAsync());
        var output = await NodeAsync(Package, "test/live.mjs", server.BaseAddress.ToString().TrimEnd('/'), agent.Token,
            agent.TenantId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;

        // The service's own view: the seven messages the client sent, in order, and nothing of the refused one.
        var session = result.GetProperty("session").GetString()!;
        var sent = result.GetProperty("sent").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(7, sent.Count);
        var stored = await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=100");
        stored.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(sent, stored.Data.EnumerateArray().Select(m => m.Text("id")).ToList());
        Assert.All(stored.Data.EnumerateArray(), m => Assert.Equal(agent.UserId, m.GetProperty("sender_id").GetInt64()));
        // Every one came over the stream once, the sixth after a cut connection resumed with the fifth's event id.
        Assert.Equal(sent, result.GetProperty("streamed").EnumerateArray().Select(e => e.GetString()!).ToList());
        Assert.Matches(@"^\d+-\d+$", result.GetProperty("resumedWith").GetString());
    }
}

public sealed partial class TypeScriptClientTestsOnSqlite(SqliteServer server) : TypeScriptClientTests(server), IClassFixture<SqliteServer>
{
    private readonly SqliteServer server = server;

    [Fact]
    public async Task TheCommittedTypesAreWhatOpenApiTypescriptMakesOfTheServicesDocument()
    {
        var package = Package;
        var folder = Directory.CreateTempSubdirectory("livechat-openapi-").FullName;
        try
        {
            using var response = await server.Http.GetAsync("/openapi/v1.json");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var document = Path.Combine(folder, "openapi.json");
            await File.WriteAllTextAsync(document, await response.Content.ReadAsStringAsync());
            var generated = Path.Combine(folder, "schema.ts");
            await NodeAsync(package, "node_modules/openapi-typescript/bin/cli.js", document, "-o", generated);

            var committed = Path.Combine(package, "src", "schema.ts");
            if (Environment.GetEnvironmentVariable(UpdateVariable) == "1") File.Copy(generated, committed, overwrite: true);
            var expected = await File.ReadAllTextAsync(generated);
            var actual = await File.ReadAllTextAsync(committed);
            Assert.True(expected == actual,
                $"clients/typescript/src/schema.ts is not what the service's /openapi/v1.json generates; run " +
                $"`{UpdateVariable}=1 dotnet test Livechat.slnx -c Release --filter FullyQualifiedName~TypeScriptClientTestsOnSqlite` and commit it. " +
                $"First difference at line {FirstDifference(expected, actual)}.");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task ThePackageAndTheGeneratedShapesAssignedToTheSeedsTypesCompile()
    {
        // check/contract.ts assigns the generated ChatSession, ChatMessage, Pagination and envelopes to the seed's own.
        Assert.True(File.Exists(Path.Combine(Package, "check", "contract.ts")));
        await NodeAsync(Package, "node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json");
    }

    [Fact]
    public async Task TheContractCheckFailsWhenTheDocumentDriftsFromTheSeed()
    {
        // Positive control for the check above: the committed types with a session's status widened to any string,
        // as the document said before it listed OPEN and CLOSED, no longer compile against the seed.
        var package = Package;
        var folder = Path.Combine(package, "drift-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "src"));
        try
        {
            var schema = await File.ReadAllTextAsync(Path.Combine(package, "src", "schema.ts"));
            var widened = SessionStatus().Replace(schema, "status: string;", 1);
            Assert.NotEqual(schema, widened);
            await File.WriteAllTextAsync(Path.Combine(folder, "src", "schema.ts"), widened);
            foreach (var file in new[] { "index.ts", "envelope.ts", "stream.ts" })
                File.Copy(Path.Combine(package, "src", file), Path.Combine(folder, "src", file));
            Directory.CreateDirectory(Path.Combine(folder, "check"));
            foreach (var file in Directory.GetFiles(Path.Combine(package, "check")))
                File.Copy(file, Path.Combine(folder, "check", Path.GetFileName(file)));
            await File.WriteAllTextAsync(Path.Combine(folder, "tsconfig.json"),
                "{ \"extends\": \"../tsconfig.json\", \"compilerOptions\": { \"noEmit\": true }, \"include\": [\"src\", \"check\"] }");
            var failure = await Assert.ThrowsAsync<Xunit.Sdk.TrueException>(() => NodeAsync(package, "node_modules/typescript/bin/tsc", "-p", folder));
            Assert.Contains("check/contract.ts", failure.Message, StringComparison.Ordinal);
            Assert.Contains("'status'", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task TheSeedTypesTheCheckUsesAreTheSeedsOwn()
    {
        var seedFolder = Path.GetFullPath(Path.Combine(Repository.Root, "..", "shared", "seed"));
        Assert.True(Directory.Exists(seedFolder), $"The seed is read from {seedFolder} (shared/ beside the checkout).");
        var blocks = Directory.GetFiles(seedFolder)
            .Select(file => TypeScriptBlock().Match(File.ReadAllText(file)))
            .Where(m => m.Success && m.Groups[1].Value.Contains("interface ChatSession", StringComparison.Ordinal))
            .Select(m => m.Groups[1].Value)
            .ToList();
        var block = Assert.Single(blocks);
        var copy = await File.ReadAllTextAsync(Path.Combine(Package, "check", "seed.ts"));
        Assert.True(copy.EndsWith(block, StringComparison.Ordinal), "clients/typescript/check/seed.ts must end with the seed's TypeScript block, verbatim.");
    }

    private static int FirstDifference(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            if (a[i] != b[i]) return i + 1;
        return Math.Min(a.Length, b.Length) + 1;
    }

    [GeneratedRegex("```ts\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex TypeScriptBlock();

    [GeneratedRegex("status: \"OPEN\" \\| \"CLOSED\";")]
    private static partial Regex SessionStatus();
}

public sealed class TypeScriptClientTestsOnPostgres(PostgresServer server) : TypeScriptClientTests(server), IClassFixture<PostgresServer>;
