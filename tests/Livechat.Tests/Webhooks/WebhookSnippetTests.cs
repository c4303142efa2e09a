using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests.Webhooks;

/// <summary>The verification snippets of docs/webhooks.md, as printed there, against real deliveries.</summary>
public abstract partial class WebhookSnippetTests(WebhookServer server)
{
    private static string DocBlock(string name)
    {
        var docs = File.ReadAllText(Path.Combine(Repository.Root, "docs", "webhooks.md"));
        var match = Regex.Match(docs, $"<!-- {name} -->\\s*```[a-z]+\\n(.*?)```\\s*<!-- /{name} -->", RegexOptions.Singleline);
        Assert.True(match.Success, $"docs/webhooks.md has no {name} block.");
        return match.Groups[1].Value;
    }

    private static string Normalise(string code) => string.Join('\n', code.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0));

    [Fact]
    public void TheCSharpSnippetIsTheVerifierTheTestsUse()
    {
        var source = File.ReadAllText(Path.Combine(Repository.Root, "tests", "Livechat.Tests", "Webhooks", "WebhookVerifier.cs"));
        var tested = Regex.Match(source, "// <verify-csharp>\\n(.*?)// </verify-csharp>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(Normalise(DocBlock("verify-csharp")), Normalise(tested));
    }

    [Fact]
    public async Task BothSnippetsVerifyRealDeliveriesAndRejectForgedOnes()
    {
        var admin = server.Admin(await server.NewTenantAsync());
        var url = server.Receiver.NewEndpoint();
        var (id, oldSecret) = await WebhookTests.CreateAsync(admin, url);
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        await server.Receiver.WaitAsync(url, r => r.Count == 1);
        var newSecret = (await admin.PostAsync($"/webhooks/{id}/rotate-secret", null)).AssertStatus(HttpStatusCode.Created).Data.Text("secret");
        (await admin.PostAsync($"/webhooks/{id}/ping", null)).AssertStatus(HttpStatusCode.Accepted);
        var got = await server.Receiver.WaitAsync(url, r => r.Count == 2);
        var single = got.Single(r => !r.Signature.Contains(' ', StringComparison.Ordinal));
        var rotated = got.Single(r => r.Signature.Contains(' ', StringComparison.Ordinal));
        var wrong = "whsec_" + Convert.ToBase64String(new byte[32]);

        var cases = new (string Secret, ReceivedWebhook Request, string Body, bool Expected)[]
        {
            (oldSecret, single, single.Body, true),
            (newSecret, single, single.Body, false),
            (oldSecret, single, single.Body.Replace("webhook.ping", "webhook.pong", StringComparison.Ordinal), false),
            (wrong, single, single.Body, false),
            (oldSecret, rotated, rotated.Body, true),
            (newSecret, rotated, rotated.Body, true),
            (wrong, rotated, rotated.Body, false),
        };
        var csharp = cases.Select(c => WebhookVerifier.Verify(c.Secret, c.Request.Id, c.Request.Timestamp, c.Request.Signature, c.Body)).ToList();
        var javascript = await RunJavaScriptAsync(cases.Select(c => new { secret = c.Secret, id = c.Request.Id, timestamp = c.Request.Timestamp, signature = c.Request.Signature, body = c.Body }));
        Assert.Equal(cases.Select(c => c.Expected), csharp);
        Assert.Equal(cases.Select(c => c.Expected), javascript);
    }

    private static async Task<List<bool>> RunJavaScriptAsync(object cases)
    {
        var folder = Directory.CreateTempSubdirectory("livechat-verify-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "verify.mjs"), DocBlock("verify-js"));
            await File.WriteAllTextAsync(Path.Combine(folder, "run.mjs"), """
                import { readFileSync } from "node:fs";
                import { verifyWebhook } from "./verify.mjs";
                const cases = JSON.parse(readFileSync(0, "utf8"));
                console.log(JSON.stringify(cases.map((c) => verifyWebhook(c.secret, c.id, c.timestamp, c.signature, c.body))));
                """);
            var start = new ProcessStartInfo("node", "run.mjs") { WorkingDirectory = folder, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            using var node = Process.Start(start)!;
            await node.StandardInput.WriteAsync(JsonSerializer.Serialize(cases));
            node.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var output = await node.StandardOutput.ReadToEndAsync(timeout.Token);
            await node.WaitForExitAsync(timeout.Token);
            Assert.True(node.ExitCode == 0, await node.StandardError.ReadToEndAsync());
            return JsonSerializer.Deserialize<List<bool>>(output)!;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

public sealed class WebhookSnippetTestsOnSqlite(WebhookSqliteServer server) : WebhookSnippetTests(server), IClassFixture<WebhookSqliteServer>;

public sealed class WebhookSnippetTestsOnPostgres(WebhookPostgresServer server) : WebhookSnippetTests(server), IClassFixture<WebhookPostgresServer>;
