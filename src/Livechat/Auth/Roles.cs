namespace Livechat.Auth;

public static class Roles
{
    public const string SupportAgent = "SUPPORT_AGENT";
}
