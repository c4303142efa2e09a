using System.Globalization;
using System.Net;
using System.Text;
using CsCheck;
using Livechat.Tests.Infrastructure;

namespace Livechat.Tests.Security;

/// <summary>
/// Property-based input validation (API4/API8: what the service accepts is exactly what the rule says).
/// For generated strings, deliberately rich in the edge cases (white space of every kind, control
/// characters, lone and reversed surrogates, emoji, lengths around 5,000 Unicode scalar values), the service
/// answers 201 exactly when the contract's rule holds (not blank, at most 5,000 scalar values, no control
/// character but tab, CR and LF, valid UTF-16) and 400 <c>errors.message</c> otherwise; every accepted text
/// comes back verbatim from the 201 and from the list.
/// </summary>
public sealed class MessageValidationPropertyTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    /// <summary>The rule, written independently of the service's code.</summary>
    private static bool Acceptable(string text)
    {
        if (text.All(char.IsWhiteSpace)) return false;
        var scalars = 0;
        var index = 0;
        while (index < text.Length)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var used) != System.Buffers.OperationStatus.Done) return false;
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.Control && rune.Value is not ('\t' or '\r' or '\n')) return false;
            scalars++;
            index += used;
        }
        return scalars <= 5000;
    }

    /// <summary>Pieces chosen to hit every clause of the rule, in any mix.</summary>
    private static readonly string[] Pieces =
    [
        "a", "Z", "0", " ", "  ", "\t", "\r", "\n", "\r\n", "\u00A0", "\u2003", "\u3000", "\u2028", "\u0085", "\u200B", "\uFEFF",
        "\u0000", "\u0001", "\u001B", "\u007F", "\u009F", "\uD800", "\uDBFF", "\uDC00", "\uDFFF", "😀", "👩‍👩‍👧", "é", "e\u0301", "\u202E",
        "中", "'", "\"", "\\", "<", "%", "{", "}",
    ];

    private static readonly Gen<string> Short = Gen.Int[0, Pieces.Length - 1].Array[0, 12].Select(ix => string.Concat(ix.Select(i => Pieces[i])));

    /// <summary>Around the length limit: a filler (one or two UTF-16 units per scalar) plus a short tail.</summary>
    private static readonly Gen<string> NearTheLimit =
        Gen.Select(Gen.OneOf("x", "😀", "é", " "), Gen.Int[4990, 5010], Short,
            (filler, count, tail) => string.Concat(Enumerable.Repeat(filler, count - Math.Min(count, tail.Length))) + tail);

    private static readonly Gen<string> Texts = Gen.Frequency<string>((6, Short), (1, NearTheLimit), (1, Gen.String[0, 40]));

    private static string Show(string text) =>
        text.Length > 60 ? $"{text.Length} units: {Escape(text[..30])}…{Escape(text[^30..])}" : Escape(text);

    private static string Escape(string text) =>
        string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:X4}"));

    [Fact]
    public async Task TheServiceAcceptsExactlyTheTextsTheRuleAllowsAndReturnsThemVerbatim()
    {
        var agent = server.Agent(await server.NewTenantAsync());
        var session = await agent.StartSessionAsync();
        var accepted = 0;
        var refused = 0;
        // One thread: each sample is an HTTP call and the newest message must be this sample's.
        await Texts.SampleAsync(async text =>
        {
            var reply = await agent.PostAsync($"/livechat/sessions/{session}/messages", $"{{\"message\":{RawJson.Quote(text)}}}");
            if (Acceptable(text))
            {
                Assert.True(reply.Status == HttpStatusCode.Created, $"refused {Show(text)}: {reply.Text}");
                reply.AssertStatus(HttpStatusCode.Created);
                Assert.True(text == reply.Data.Text("message"), $"not verbatim: {Show(text)}");
                var newest = (await agent.GetAsync($"/livechat/sessions/{session}/messages?limit=1&direction=backward")).AssertStatus(HttpStatusCode.OK);
                Assert.Equal(reply.Data.ToString(), newest.Data[0].ToString());
                Interlocked.Increment(ref accepted);
            }
            else
            {
                Assert.True(reply.Status == HttpStatusCode.BadRequest, $"accepted {Show(text)}: {reply.Text}");
                reply.AssertError(HttpStatusCode.BadRequest, "message");
                Interlocked.Increment(ref refused);
            }
        }, iter: 100, threads: 1, print: Show);
        // The generator is only useful if it exercises both answers.
        Assert.True(accepted >= 10 && refused >= 10, $"accepted {accepted}, refused {refused}");
    }
}
