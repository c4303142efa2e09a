using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Livechat.Attachments;

/// <summary>clamd answered, but with an error (its stream size limit, a broken database): the scan is tried again later.</summary>
public sealed class ClamdException(string reply) : Exception($"clamd answered: {reply}");

/// <summary>
/// clamd's <c>INSTREAM</c> over TCP (clamd(8)): <c>zINSTREAM\0</c>, then chunks each led by its length as a 4-byte
/// big-endian number, then a zero length; clamd answers <c>stream: OK</c> or <c>stream: NAME FOUND</c>, ending
/// in NUL. No client library is served here (no nClam on NuGet), and the protocol is this small.
/// </summary>
public sealed class ClamdClient(string host, int port)
{
    private const int ChunkSize = 64 * 1024;

    public static ClamdClient Parse(string hostAndPort)
    {
        var colon = hostAndPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostAndPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new FormatException("Livechat:Attachments:ClamAv must be host:port.");
        return new ClamdClient(hostAndPort[..colon].Trim('[', ']'), port);
    }

    public override string ToString() => $"{host}:{port}";

    /// <summary>True when clamd found nothing; false when it found something. Throws when clamd cannot be asked.</summary>
    public async Task<bool> IsCleanAsync(Stream content, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(host, port, cancellationToken);
        await using var stream = client.GetStream();
        await stream.WriteAsync("zINSTREAM\0"u8.ToArray(), cancellationToken);
        var buffer = new byte[4 + ChunkSize];
        int read;
        while ((read = await content.ReadAsync(buffer.AsMemory(4, ChunkSize), cancellationToken)) > 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)read);
            await stream.WriteAsync(buffer.AsMemory(0, 4 + read), cancellationToken);
        }
        BinaryPrimitives.WriteUInt32BigEndian(buffer, 0);
        await stream.WriteAsync(buffer.AsMemory(0, 4), cancellationToken);

        var reply = (await ReadReplyAsync(stream, cancellationToken)).Trim();
        if (reply.EndsWith("FOUND", StringComparison.Ordinal)) return false;
        if (reply.EndsWith("OK", StringComparison.Ordinal)) return true;
        throw new ClamdException(reply);
    }

    private static async Task<string> ReadReplyAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var reply = new List<byte>();
        var one = new byte[256];
        while (reply.Count < 4096)
        {
            var read = await stream.ReadAsync(one, cancellationToken);
            if (read == 0) break;
            var end = Array.IndexOf(one, (byte)0, 0, read);
            reply.AddRange(one.AsSpan(0, end < 0 ? read : end).ToArray());
            if (end >= 0) break;
        }
        if (reply.Count == 0) throw new IOException("clamd closed the connection without an answer.");
        return Encoding.UTF8.GetString([.. reply]);
    }
}
