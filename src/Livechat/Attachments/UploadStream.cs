using System.Security.Cryptography;
using System.Text;

namespace Livechat.Attachments;

/// <summary>The file is larger than the limit: the upload stops reading, and its store throws its bytes away.</summary>
public sealed class FileTooLargeException() : IOException("The file is larger than the limit.");

/// <summary>
/// Reads a file part through to a store, learning on the way what the upload needs without holding it: its
/// size (over <c>maxBytes</c> it throws <see cref="FileTooLargeException"/>, so nothing past the limit is read),
/// its SHA-256, its first bytes (for the type), and whether it is all UTF-8 without NUL (for text).
/// </summary>
public sealed class UploadStream(Stream source, long maxBytes) : Stream
{
    private readonly IncrementalHash sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Decoder utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
    private readonly byte[] prefix = new byte[FileTypes.PrefixLength];
    private readonly char[] decoded = new char[16 * 1024];
    private int prefixLength;
    private bool finished;

    public long Length64 { get; private set; }

    public bool IsText { get; private set; } = true;

    public ReadOnlySpan<byte> Prefix => prefix.AsSpan(0, prefixLength);

    /// <summary>Lower-case hex, once the stream has been read to its end.</summary>
    public string Sha256 { get; private set; } = "";

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Never ask for more than one byte past the limit: a file of maxBytes + 1 is refused having read just that.
        var room = maxBytes + 1 - Length64;
        if (room < buffer.Length) buffer = buffer[..(int)Math.Max(1, room)];
        var read = await source.ReadAsync(buffer, cancellationToken);
        Inspect(buffer.Span[..read]);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Inspect(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            if (finished) return;
            finished = true;
            if (IsText) Decode([], flush: true);
            Sha256 = Convert.ToHexStringLower(sha256.GetHashAndReset());
            return;
        }
        Length64 += bytes.Length;
        if (Length64 > maxBytes) throw new FileTooLargeException();
        sha256.AppendData(bytes);
        if (prefixLength < prefix.Length)
        {
            var take = Math.Min(prefix.Length - prefixLength, bytes.Length);
            bytes[..take].CopyTo(prefix.AsSpan(prefixLength));
            prefixLength += take;
        }
        if (IsText)
        {
            if (bytes.Contains((byte)0)) IsText = false;
            else Decode(bytes, flush: false);
        }
    }

    private void Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        try
        {
            // Only validity matters: decode in pieces the size of the scratch buffer and throw the characters away.
            while (true)
            {
                utf8.Convert(bytes, decoded, flush, out var used, out _, out var completed);
                bytes = bytes[used..];
                if (completed || bytes.IsEmpty) break;
            }
        }
        catch (DecoderFallbackException)
        {
            IsText = false;
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => Length64; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) sha256.Dispose();
        base.Dispose(disposing);
    }
}
