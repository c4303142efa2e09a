using System.ComponentModel.DataAnnotations;

namespace Livechat.Routing;

public sealed class RoutingOptions
{
    public const string Section = "Livechat:Routing";

    /// <summary>How long an agent may count as OFFLINE before its OPEN sessions go back to the head of the queue.</summary>
    [Range(1, 86_400, ErrorMessage = "Livechat:Routing:RequeueAfterSeconds must be between 1 and 86400.")]
    public int RequeueAfterSeconds { get; set; } = 60;

    /// <summary>How often each instance looks for agents whose sessions must be requeued.</summary>
    public TimeSpan RequeueCheckInterval => TimeSpan.FromSeconds(Math.Clamp(RequeueAfterSeconds / 4.0, 0.25, 5));
}
