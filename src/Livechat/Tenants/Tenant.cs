namespace Livechat.Tenants;

public sealed record Tenant(long Id, string Name, string? Domain, bool Active, DateTimeOffset CreatedAt);
