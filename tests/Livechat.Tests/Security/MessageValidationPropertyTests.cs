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
/// answers 201 exactly when the contract's rule holds (at least one visible character, at most 5,000 scalar values, no control
/// character but tab, CR and LF, valid UTF-16) and 400 <c>errors.message</c> otherwise; every accepted text
/// comes back verbatim from the 201 and from the list.
/// </summary>
public sealed class MessageValidationPropertyTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    /// <summary>The rule, written independently of the service's code.</summary>
    private static bool Acceptable(string text)
    {
        var scalars = 0;
        var index = 0;
        var visible = false;
        while (index < text.Length)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var used) != System.Buffers.OperationStatus.Done) return false;
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.Control && rune.Value is not ('\t' or '\r' or '\n')) return false;
            visible |= Shows(rune);
            scalars++;
            index += used;
        }
        return visible && scalars <= 5000;
    }

    /// <summary>
    /// Not white space, not a control or format character, not one of Unicode's default-ignorable code
    /// points (fillers, variation selectors, tags...), not the blank braille pattern.
    /// </summary>
    private static bool Shows(Rune rune)
    {
        if (Rune.IsWhiteSpace(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format) return false;
        int[][] ignorable =
        [
            [0x00AD, 0x00AD], [0x034F, 0x034F], [0x061C, 0x061C], [0x115F, 0x1160], [0x17B4, 0x17B5], [0x180B, 0x180F], [0x200B, 0x200F],
            [0x202A, 0x202E], [0x2060, 0x206F], [0x2800, 0x2800], [0x3164, 0x3164], [0xFE00, 0xFE0F], [0xFEFF, 0xFEFF], [0xFFA0, 0xFFA0],
            [0xFFF0, 0xFFF8], [0x1BCA0, 0x1BCA3], [0x1D173, 0x1D17A], [0xE0000, 0xE0FFF],
        ];
        return !ignorable.Any(range => rune.Value >= range[0] && rune.Value <= range[1]);
    }

    /// <summary>Pieces chosen to hit every clause of the rule, in any mix.</summary>
    private static readonly string[] Pieces =
    [
        "a", "Z", "0", " ", "  ", "\t", "\r", "\n", "\r\n", "\u00A0", "\u2003", "\u3000", "\u2028", "\u0085", "\u200B", "\uFEFF", "\u2060", "\u3164", "\uFFA0", "\u034F",
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
