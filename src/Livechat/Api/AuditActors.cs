using Livechat.Changes;

namespace Livechat.Api;

public static class AuditActors
{
    /// <summary>The caller and its request id (<c>meta.request_id</c>), as the audit log records an administrative action's author.</summary>
    public static AuditActor Actor(this HttpContext http, CurrentUser user) => new(user.UserId, http.TraceIdentifier);
}
