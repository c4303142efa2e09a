using Microsoft.AspNetCore.SignalR;

namespace Livechat.Realtime;

/// <summary>
/// One log line per failed hub call, at the level it deserves. A <see cref="HubException"/> is a client's
/// expected mistake (a session it cannot see, a malformed id, a limit): Information, one line, no stack. Any
/// other exception is ours: Error with the exception. SignalR's own dispatcher would log both at Error with
/// a stack trace, so its category is silenced in <see cref="Startup"/> and this filter logs instead.
/// </summary>
public sealed class HubCallLogging(ILogger<HubCallLogging> logger) : IHubFilter
{
    /// <summary>The category of SignalR's method dispatcher, whose "Failed to invoke hub method" this replaces.</summary>
    public const string DispatcherCategory = "Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher";

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (HubException e)
        {
            logger.LogInformation("Hub call {HubMethod} refused: {Reason}", invocationContext.HubMethodName, e.Message);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Hub call {HubMethod} failed.", invocationContext.HubMethodName);
            throw;
        }
    }
}
