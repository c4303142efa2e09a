namespace Livechat.Tests.Infrastructure;

/// <summary>For what the service does on its own time (a background sweep): retry an assertion until it holds or time runs out.</summary>
public static class Eventually
{
    public static async Task Async(Func<Task> assertion, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Xunit.Sdk.XunitException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
