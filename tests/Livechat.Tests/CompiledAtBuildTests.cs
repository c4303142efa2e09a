using Livechat.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Livechat.Tests;

/// <summary>
/// What the build generates so that the service does not compile it at start-up (ADR 0050): the minimal APIs'
/// request delegates (the Request Delegate Generator, instead of expression trees compiled when the endpoints are
/// built) and the options' binding (the configuration binding generator, instead of reflection). What they buy is
/// start-up time, measured by <c>bench/cold</c> (docs/performance.md, session 28); this only keeps them from being lost.
/// </summary>
public sealed class CompiledAtBuildTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public void EveryHandlerOfTheApiRunsThroughARequestDelegateCompiledIntoTheService()
    {
        var service = typeof(Program).Assembly;
        // A minimal API endpoint carries its handler's MethodInfo; one of ours is declared in the service's assembly.
        var handlers = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<System.Reflection.MethodInfo>()?.DeclaringType?.Assembly == service)
            .ToList();
        Assert.True(handlers.Count >= 50, $"only {handlers.Count} handlers found");
        // At run time (RequestDelegateFactory) the delegate is the framework's closure over a compiled expression tree;
        // generated, it is a method of the service's own assembly.
        var compiledAtRunTime = handlers.Where(e => e.RequestDelegate?.Method.DeclaringType?.Assembly != service).Select(e => e.DisplayName).ToList();
        Assert.True(compiledAtRunTime.Count == 0, $"request delegates built at run time: {string.Join(", ", compiledAtRunTime)}");
    }

    [Fact]
    public void TheOptionsAreBoundByGeneratedCode()
    {
        Assert.Contains(typeof(Program).Assembly.GetTypes(), t => t.Namespace == "Microsoft.Extensions.Configuration.Binder.SourceGeneration");
    }
}
