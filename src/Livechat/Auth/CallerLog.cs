using Livechat.Api;

namespace Livechat.Auth;

/// <summary>
/// Told of every caller the tenant filter admits, before its handler runs. The Agents feature keeps the record
/// (a support agent becomes a known agent, a tenant user a notification recipient, and the name is remembered):
/// Auth only says who called, and the token's <c>name</c> claim as it came (null when it has none).
/// </summary>
public interface ICallerLog
{
    Task RememberAsync(CurrentUser caller, string? nameClaim, CancellationToken cancellationToken);
}
