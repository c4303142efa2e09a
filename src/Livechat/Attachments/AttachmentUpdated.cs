using Livechat.Changes;
using Livechat.Messages;

namespace Livechat.Attachments;

/// <summary>An upload's status changed (scanned clean or rejected): its uploader hears it on every connection.</summary>
public sealed record AttachmentUpdated(long Tenant, Attachment Attachment) : DomainEvent(Tenant), IPushedEvent
{
    public static string Name => "attachmentUpdated";

    public Push Push => new(Name, Attachment, Hearers.User) { UserId = Attachment.UploaderId };
}
