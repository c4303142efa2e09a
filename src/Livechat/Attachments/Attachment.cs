using System.Text.Json.Serialization;
using Livechat.Changes;

namespace Livechat.Attachments;

public static class AttachmentStatus
{
    public const string Ready = "ready";
    public const string Scanning = "scanning";
    public const string Rejected = "rejected";
}

/// <summary>
/// An uploaded file (contract section 15). Staged until a message takes it; <see cref="Url"/>, a signed link to
/// its bytes, is present only when it is <c>ready</c>.
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

/// <summary>An upload's status changed (scanned clean or rejected): its uploader hears it on every connection.</summary>
public sealed record AttachmentUpdated(long Tenant, Attachment Attachment) : DomainEvent(Tenant), IPushedEvent
{
    public static string Name => "attachmentUpdated";

    public Push Push => new(Name, Attachment, Hearers.User) { UserId = Attachment.UploaderId };
}
