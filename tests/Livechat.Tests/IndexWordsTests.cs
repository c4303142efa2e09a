using System.Text;
using Livechat.Messages;
using Livechat.Search;
using Microsoft.Data.Sqlite;

namespace Livechat.Tests;

/// <summary>
/// The words the send writes to <c>message_search_words</c> (<see cref="IndexWords"/>) are the words FTS5 stores: texts go
/// into a scratch FTS5 table made as migration 0090 makes <c>message_search</c>, and its vocabulary is compared with
/// this service's fold. A word FTS5 stores and the table lacks would be missing from prefix searches.
/// </summary>
public sealed class IndexWordsTests
{
    /// <summary>What the table should hold for one of FTS5's terms: the term when ASCII, its ASCII beginning and a star, or nothing.</summary>
    private static string? Expected(string term)
    {
        var head = new string([.. term.TakeWhile(c => c is >= 'a' and <= 'z' or >= '0' and <= '9')]);
        return head.Length == term.Length ? term : head.Length > 0 ? head + "*" : null;
    }

    /// <summary>FTS5's terms of each text (by its index in <paramref name="texts"/>), as <see cref="Expected"/> maps them.</summary>
    private static Dictionary<int, HashSet<string>> Fts5Entries(IReadOnlyList<string> texts)
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = """
                CREATE VIRTUAL TABLE scratch USING fts5 (body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
                CREATE VIRTUAL TABLE scratch_terms USING fts5vocab (scratch, 'instance');
                """;
            create.ExecuteNonQuery();
        }
        using (var transaction = connection.BeginTransaction())
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT INTO scratch (rowid, body) VALUES (@row, @body)";
            var row = insert.Parameters.Add("@row", SqliteType.Integer);
            var body = insert.Parameters.Add("@body", SqliteType.Text);
            for (var i = 0; i < texts.Count; i++)
            {
                (row.Value, body.Value) = (i, texts[i]);
                insert.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        var entries = texts.Select((_, i) => i).ToDictionary(i => i, _ => new HashSet<string>(StringComparer.Ordinal));
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT doc, term FROM scratch_terms";
        using var reader = read.ExecuteReader();
        while (reader.Read())
        {
            if (Expected(reader.GetString(1)) is { } entry) entries[reader.GetInt32(0)].Add(entry);
        }
        return entries;
    }

    [Fact]
    public void TheWordsOfAVariedCorpusAreExactlyTheOnesFts5Stores()
    {
        string[] texts =
        [
            "Kasir tidak bisa login, mohon bantuannya!", "Terima kasih sudah menunggu 🙏", "Pesanan #12345 belum sampai; refund-nya kapan?",
            "The refund was approved at 10:30 AM.", "Don't worry, it's O'Neil's e-mail: foo_bar@example.com", "Order 1.5kg / 2,000 IDR — 50% off!!",
            "Café au lait, s'il vous plaît", "A naïve approach", "Ångström and Øresund", "Straße, Größe, Fußball", "Łódź, Kraków, Gdańsk",
            "Crème brûlée à la française", "Zürich Müller Ærø", "İstanbul ve IŞIK", "Ǖber ǅemal ǈjubav", "x² + y³ = ½", "ﬁne ﬂour Ｋelvin",
            "\u212Am and ſtraße", "d\u0301ecomposed e\u0300 and a\u0305b", "Tiếng Việt có dấu: người, được, đường", "Привет мир and hello",
            "日本語のテキスト mixed with English", "العربية 123 ٣٤٥", "हिन्दी पाठ and text", "emoji 👍🏽 between words❤️ok 🇮🇩flag",
            "tabs\tand\nnewlines\r\nand  spaces", "UPPER lower MiXeD 42 007 3rd", "ID\u00A0nbsp and\u200Bzero\u200Dwidth", "\uD800lone surrogate",
            "caf\u00E9 vs cafe\u0301 both", "ǠǡNo", "ǖǘǚǜ", "ʼapostrophe ʻokina", "x\uE000y private", "₹500 €20 $5", "naïveté's déjà vu",
        ];
        var fts5 = Fts5Entries(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.True(fts5[i].SetEquals(IndexWords.Of(texts[i])),
                $"\"{texts[i]}\": FTS5 [{string.Join(", ", fts5[i].Order(StringComparer.Ordinal))}], IndexWords [{string.Join(", ", IndexWords.Of(texts[i]))}]");
        }
        Assert.Contains("stra*", fts5[9]); // the corpus reaches the words that go on beyond ASCII
        Assert.Contains("cafe", fts5[6]);
    }

    /// <summary>
    /// Every code point of the BMP and the SMP between ASCII letters: no entry FTS5's terms call for is missing, except
    /// beside a code point FTS5's tables (an older Unicode) do not know and so keep in a word, which .NET knows as a
    /// symbol or a mark that separates words.
    /// </summary>
    [Fact]
    public void NoWordFts5StoresBesideAnyCodePointIsMissing()
    {
        var points = Enumerable.Range(0x80, 0x20000 - 0x80).Where(c => c is < 0xD800 or > 0xDFFF).ToList();
        var texts = points.Select(c => $"a{char.ConvertFromUtf32(c)}b {char.ConvertFromUtf32(c)}x X{char.ConvertFromUtf32(c)}").ToList();
        var fts5 = Fts5Entries(texts);
        var missing = new List<string>();
        var unknownToFts5 = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            var ours = IndexWords.Of(texts[i]);
            if (fts5[i].IsSubsetOf(ours)) continue;
            // FTS5 kept the code point in a word ("a" and "b" are not words of its own), .NET separates words there.
            if (!fts5[i].Contains("a") && !IndexWords.IsTokenRune(new Rune(points[i]))) unknownToFts5++;
            else missing.Add($"U+{points[i]:X4}: FTS5 [{string.Join(", ", fts5[i])}], IndexWords [{string.Join(", ", ours)}]");
        }
        Assert.True(missing.Count == 0, string.Join("\n", missing.Take(40)));
        Assert.InRange(unknownToFts5, 0, 5000); // about 4,100 with SQLite's tables of today; all of them assigned after Unicode 6.1
    }

    [Fact]
    public void APrefixIsFoldedAsTheIndexFoldsWordsAndOneBeyondAsciiIsNone()
    {
        Assert.Equal("kasir", SearchQuery.Parse("KASIR").Query!.FoldedPrefix);
        Assert.Equal("cafe", SearchQuery.Parse("Café").Query!.FoldedPrefix);
        Assert.Equal("angstr", SearchQuery.Parse("Ångstr").Query!.FoldedPrefix);
        Assert.Null(SearchQuery.Parse("straß").Query!.FoldedPrefix);
        Assert.Null(SearchQuery.Parse("привет").Query!.FoldedPrefix);
        Assert.Null(SearchQuery.Parse("\"kasir\"").Query!.FoldedPrefix); // a phrase is no prefix
    }
}
