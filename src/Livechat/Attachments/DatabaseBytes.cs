using Livechat.Messages;
using Livechat.Data;

namespace Livechat.Attachments;

/// <summary>
/// Bytes in PostgreSQL itself, so every instance reads what any instance wrote with nothing else to run:
/// rows of <see cref="ChunkSize"/> in <c>attachment_chunks</c>, written in one transaction of their own per
/// upload (outside the API's writer batches), and read back one row at a time through a seekable stream.
/// Why rows and not large objects: docs/decisions/0027-attachments.md.
/// </summary>
public sealed class DatabaseBytes(Database database) : IAttachmentBytes
{
    public const int ChunkSize = 256 * 1024;

    public Task WriteAsync(long tenantId, Guid id, Stream source, CancellationToken cancellationToken) =>
        // A failure (the client went away, the file is too large) throws out of the transaction: it rolls back,
        // and nothing of the upload was ever visible.
        database.WriteApartAsync(async (connection, transaction) =>
        {
            var chunk = new byte[ChunkSize];
            for (var seq = 0; ; seq++)
            {
                var filled = 0;
                int read;
                while (filled < ChunkSize && (read = await source.ReadAsync(chunk.AsMemory(filled), cancellationToken)) > 0) filled += read;
                if (filled == 0) break;
                await using var insert = connection.Sql("""
                    INSERT INTO attachment_chunks (tenant_id, attachment_id, seq, data) VALUES (@tenant, @id, @seq, @data)
                    """, transaction)
                    .With("tenant", tenantId).With("id", id).With("seq", seq).With("data", new ArraySegment<byte>(chunk, 0, filled));
                await insert.ExecuteNonQueryAsync(cancellationToken);
                if (filled < ChunkSize) break;
            }
            return true;
        }, cancellationToken);

    public async Task<Stream?> OpenReadAsync(long tenantId, Guid id, CancellationToken cancellationToken)
    {
        var length = await database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql("""
                SELECT count(*), coalesce(sum(octet_length(data)), 0) FROM attachment_chunks WHERE tenant_id = @tenant AND attachment_id = @id
                """).With("tenant", tenantId).With("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return reader.GetInt64(0) == 0 ? (long?)null : reader.GetInt64(1);
        }, cancellationToken);
        return length is { } size ? new ChunkStream(database, tenantId, id, size) : null;
    }

    public Task DeleteAsync(long tenantId, Guid id, CancellationToken cancellationToken) =>
        database.WriteApartAsync(async (connection, transaction) =>
        {
            await using var delete = connection.Sql("DELETE FROM attachment_chunks WHERE tenant_id = @tenant AND attachment_id = @id", transaction)
                .With("tenant", tenantId).With("id", id);
            return await delete.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>A read-only, seekable view of one attachment's chunks: each read fetches at most the chunk it falls in.</summary>
    private sealed class ChunkStream(Database database, long tenantId, Guid id, long length) : Stream
    {
        private byte[]? chunk;
        private long chunkSeq = -1;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= length || buffer.IsEmpty) return 0;
            var seq = Position / ChunkSize;
            if (seq != chunkSeq)
            {
                chunk = await database.ReadAsync(async connection =>
                {
                    await using var command = connection.Sql("""
                        SELECT data FROM attachment_chunks WHERE tenant_id = @tenant AND attachment_id = @id AND seq = @seq
                        """).With("tenant", tenantId).With("id", id).With("seq", (int)seq);
                    return await command.ExecuteScalarAsync(cancellationToken) as byte[]
                        ?? throw new IOException($"Attachment {id} lost its chunk {seq} while it was read.");
                }, cancellationToken);
                chunkSeq = seq;
            }
            var offset = (int)(Position - seq * ChunkSize);
            var count = Math.Min(buffer.Length, chunk!.Length - offset);
            chunk.AsMemory(offset, count).CopyTo(buffer);
            Position += count;
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => length + offset,
        };

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get; set; }
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
