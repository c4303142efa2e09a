namespace Livechat.Attachments;

/// <summary>
/// Where an upload's bytes live (<c>Livechat:Attachments:Store</c>): <see cref="DiskBytes"/> or
/// <see cref="DatabaseBytes"/>. The metadata is always the <c>attachments</c> table (<see cref="AttachmentStore"/>).
/// </summary>
public interface IAttachmentBytes
{
    /// <summary>
    /// Streams <paramref name="source"/> to its end into the file of (<paramref name="tenantId"/>, <paramref name="id"/>);
    /// when this returns the bytes are durable. When it throws (the client went away, the file is too large),
    /// nothing of it is left.
    /// </summary>
    Task WriteAsync(long tenantId, Guid id, Stream source, CancellationToken cancellationToken);

    /// <summary>The stored bytes, readable and seekable (for Range requests); null when there are none.</summary>
    Task<Stream?> OpenReadAsync(long tenantId, Guid id, CancellationToken cancellationToken);

    /// <summary>Deletes the bytes; deleting bytes that are not there is fine.</summary>
    Task DeleteAsync(long tenantId, Guid id, CancellationToken cancellationToken);
}
