namespace Livechat.Auth;

public static class Roles
{
    public const string SupportAgent = "SUPPORT_AGENT";

    /// <summary>Manages the tenant's webhooks (contract section 13).</summary>
    public const string SupportAdmin = "SUPPORT_ADMIN";
}
