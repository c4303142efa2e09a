using Livechat.Api;

namespace Livechat.Auth;

/// <summary>
/// Told of every caller the tenant filter admits, before its handler runs. The Agents feature keeps the record
/// (a support agent becomes a known agent, a tenant user a notification recipient): Auth only says who called.
/// </summary>
public interface ICallerLog
{
    Task RememberAsync(CurrentUser caller, CancellationToken cancellationToken);
}
