using System.Collections.Concurrent;

namespace Livechat.Tenants;

/// <summary>
/// Tenant look-ups on the request path, cached for a few seconds: every request needs its tenant, and
/// tenants change rarely (the <c>tenants</c> verbs run in another process, so the cache expires rather than
/// being told). A deactivation takes effect within <see cref="TenantOptions.CacheSeconds"/>.
/// </summary>
public sealed class TenantDirectory(TenantStore store, TimeProvider time, Microsoft.Extensions.Options.IOptions<TenantOptions> options)
{
    private readonly ConcurrentDictionary<long, Entry> byId = new();
    private readonly ConcurrentDictionary<string, Entry> byDomain = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeSpan ttl = TimeSpan.FromSeconds(options.Value.CacheSeconds);

    private sealed record Entry(Tenant? Tenant, DateTimeOffset Expires);

    public async ValueTask<Tenant?> FindAsync(long id, CancellationToken cancellationToken)
    {
        if (byId.TryGetValue(id, out var hit) && hit.Expires > time.GetUtcNow()) return hit.Tenant;
        var tenant = await store.FindAsync(id, cancellationToken);
        byId[id] = new Entry(tenant, time.GetUtcNow() + ttl);
        return tenant;
    }

    public async ValueTask<Tenant?> FindByDomainAsync(string host, CancellationToken cancellationToken)
    {
        if (byDomain.TryGetValue(host, out var hit) && hit.Expires > time.GetUtcNow()) return hit.Tenant;
        var tenant = await store.FindByDomainAsync(host, cancellationToken);
        // Unknown host names are cached too, but the map is bounded so random Host headers cannot grow it.
        if (byDomain.Count > 10_000) byDomain.Clear();
        byDomain[host] = new Entry(tenant, time.GetUtcNow() + ttl);
        return tenant;
    }
}

public sealed class TenantOptions
{
    public const string Section = "Livechat:Tenants";

    [System.ComponentModel.DataAnnotations.Range(0, 3600)]
    public int CacheSeconds { get; set; } = 5;
}
