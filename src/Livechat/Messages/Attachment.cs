using System.Data.Common;
using System.Text.Json.Serialization;
using Livechat.Data;

namespace Livechat.Messages;

public static class AttachmentStatus
{
    public const string Ready = "ready";
    public const string Scanning = "scanning";
    public const string Rejected = "rejected";
}

/// <summary>
/// An uploaded file (contract section 15). Staged until a message takes it; <see cref="Url"/>, a signed link to
/// its bytes, is present only when it is <c>ready</c>. Declared here, below the Attachments feature, because a
/// message carries its attachments (<see cref="ChatMessage.Attachments"/>); uploading, storing, scanning and
/// serving them is the Attachments feature's (ADR 0031, 0034).
/// </summary>
public sealed record Attachment(
    Guid Id,
    Guid SessionId,
    long UploaderId,
    string FileName,
    string ContentType,
    long Size,
    string Sha256,
    string Status,
    DateTimeOffset CreatedAt)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Url { get; init; }
}

/// <summary>
/// Signed download links (contract section 15), made by the Attachments feature (its <c>SignedUrls</c>), which
/// holds the key: a message's attachments get theirs through this, so Messages never names that feature.
/// </summary>
public interface IAttachmentLinks
{
    /// <summary>The link to the bytes of attachment <paramref name="id"/> of <paramref name="tenantId"/>, valid for <paramref name="lifetime"/> (default 15 minutes).</summary>
    string UrlFor(long tenantId, Guid id, TimeSpan? lifetime = null);
}

/// <summary>The attachments of messages: the columns of their wire shape, and how a message takes its staged uploads.</summary>
public static class MessageAttachments
{
    /// <summary>At most this many files in one message (contract section 15).</summary>
    public const int MaxPerMessage = 10;

    /// <summary>How long the links in a webhook payload work (contract section 15): a receiver may process it later.</summary>
    public static readonly TimeSpan WebhookLinkLifetime = TimeSpan.FromHours(24);

    /// <summary>The columns <see cref="Read"/> reads, in its order (an attachment's wire shape).</summary>
    public const string Columns = "id, session_id, uploader_id, file_name, content_type, size, sha256, status, created_at";

    /// <summary>An attachment from <see cref="Columns"/>, which start at column <paramref name="first"/>.</summary>
    public static Attachment Read(DbDataReader reader, int first) =>
        new(reader.GetId(first), reader.GetId(first + 1), reader.GetInt64(first + 2), reader.GetString(first + 3), reader.GetString(first + 4),
            reader.GetInt64(first + 5), reader.GetString(first + 6), reader.GetString(first + 7), reader.GetTime(first + 8));

    /// <summary>The ids a send names, as the parameters <c>@a0</c> .. <c>@a9</c> (unused ones null): one SQL text for any count.</summary>
    public static readonly string IdList = string.Join(", ", Enumerable.Range(0, MaxPerMessage).Select(i => $"@a{i}"));

    public static DbCommand WithIds(this DbCommand command, IReadOnlyList<Guid> ids)
    {
        for (var i = 0; i < MaxPerMessage; i++) command.With($"a{i}", i < ids.Count ? ids[i] : (Guid?)null);
        return command;
    }
}
