using System.IO.Compression;
using System.Text;

namespace Livechat.Attachments;

/// <summary>
/// Decides a file's type from its bytes, never from the client's Content-Type or the file's name (contract
/// section 15). No signature library is served here (the one on NuGet, Mime-Detective 0.0.6-beta5, is an
/// abandoned pre-release), so this is a small allow-list: the magic numbers of the image types and PDF, the
/// zip's own table of contents for the Office Open XML formats, and valid UTF-8 without NUL for text.
/// </summary>
public static class FileTypes
{
    public const string Png = "image/png";
    public const string Jpeg = "image/jpeg";
    public const string Gif = "image/gif";
    public const string WebP = "image/webp";
    public const string Pdf = "application/pdf";
    public const string Text = "text/plain";
    public const string Csv = "text/csv";
    public const string Docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    public const string Xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    public const string Pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

    public static readonly IReadOnlyList<string> All = [Png, Jpeg, Gif, WebP, Pdf, Text, Csv, Docx, Xlsx, Pptx];

    /// <summary>Shown in the browser (inline); every other type is served as a download.</summary>
    public static bool IsInline(string contentType) => contentType is Png or Jpeg or Gif or WebP or Pdf;

    /// <summary>The number of leading bytes <see cref="Detect"/> looks at.</summary>
    public const int PrefixLength = 512;

    /// <summary>A zip (the Office formats are): <see cref="Detect"/> then needs its stored bytes.</summary>
    public static bool IsZip(ReadOnlySpan<byte> prefix) => prefix.StartsWith("PK\x03\x04"u8);

    /// <summary>
    /// The type of a file from its first bytes, whether it is all valid UTF-8 without NUL, and, for a zip, its
    /// stored bytes (seekable, disposed here); null when it is none of the known types.
    /// </summary>
    public static string? Detect(ReadOnlySpan<byte> prefix, bool isText, string fileName, Stream? zip)
    {
        if (prefix.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return Png;
        if (prefix.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return Jpeg;
        if (prefix.StartsWith("GIF87a"u8) || prefix.StartsWith("GIF89a"u8)) return Gif;
        if (prefix.Length >= 12 && prefix.StartsWith("RIFF"u8) && prefix[8..12].SequenceEqual("WEBP"u8)) return WebP;
        if (prefix.StartsWith("%PDF-"u8)) return Pdf;
        if (IsZip(prefix)) return zip is null ? null : OfficeType(zip);
        if (isText && !LooksLikeMarkupOrScript(prefix))
            return fileName.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? Csv : Text;
        return null;
    }

    /// <summary>
    /// Text that a browser or a shell would run: HTML, SVG and XML start with <c>&lt;</c>, scripts with <c>#!</c>.
    /// Served as a download with nosniff they would be harmless, but the contract refuses them outright.
    /// </summary>
    private static bool LooksLikeMarkupOrScript(ReadOnlySpan<byte> prefix)
    {
        if (prefix.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) prefix = prefix[3..]; // a byte order mark
        var start = prefix.TrimStart(" \t\r\n\f"u8);
        return start.StartsWith("<"u8) || start.StartsWith("#!"u8);
    }

    /// <summary>docx, xlsx or pptx by the zip's central directory: the content-types part and the main part.</summary>
    private static string? OfficeType(Stream stored)
    {
        try
        {
            using var zip = new ZipArchive(stored, ZipArchiveMode.Read, leaveOpen: false);
            if (zip.GetEntry("[Content_Types].xml") is null) return null;
            if (zip.GetEntry("word/document.xml") is not null) return Docx;
            if (zip.GetEntry("xl/workbook.xml") is not null) return Xlsx;
            if (zip.GetEntry("ppt/presentation.xml") is not null) return Pptx;
            return null;
        }
        catch (InvalidDataException)
        {
            return null; // not a readable zip
        }
    }

    /// <summary>
    /// The client's name, kept for people: no folders (either slash), no control characters, at most 255 bytes of
    /// UTF-8 (cut at a character's boundary). An empty result becomes <c>file</c>.
    /// </summary>
    public static string SanitizeFileName(string? name)
    {
        name ??= "";
        var cut = Math.Max(name.LastIndexOf('/'), name.LastIndexOf('\\'));
        if (cut >= 0) name = name[(cut + 1)..];
        var kept = new StringBuilder(name.Length);
        var bytes = 0;
        foreach (var rune in name.EnumerateRunes())
        {
            if (Rune.IsControl(rune) || rune.Value is 0x2028 or 0x2029 or 0x202E or 0x202D or 0x2066 or 0x2067 or 0x2068 or 0x2069) continue;
            if (bytes + rune.Utf8SequenceLength > 255) break;
            bytes += rune.Utf8SequenceLength;
            kept.Append(rune.ToString());
        }
        var result = kept.ToString().Trim();
        return result is "" or "." or ".." ? "file" : result;
    }
}
