using System.Data.Common;
using Livechat.Data;

namespace Livechat.Tenants;

/// <summary>The tenant registry in the database, used by the CLI verbs and by <see cref="TenantDirectory"/>.</summary>
public sealed class TenantStore(Database database, TimeProvider time)
{
    private const string Columns = "id, name, domain, active, created_at";

    public Task<IReadOnlyList<Tenant>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Tenant>>(async connection =>
        {
            await using var command = connection.Sql($"SELECT {Columns} FROM tenants ORDER BY id");
            return await ReadAllAsync(command, cancellationToken);
        }, cancellationToken);

    public Task<Tenant?> FindAsync(long id, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {Columns} FROM tenants WHERE id = @id").With("id", id);
            var found = await ReadAllAsync(command, cancellationToken);
            return found.Count > 0 ? found[0] : null;
        }, cancellationToken);

    public Task<Tenant?> FindByDomainAsync(string domain, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Sql($"SELECT {Columns} FROM tenants WHERE domain = @domain").With("domain", domain.ToLowerInvariant());
            var found = await ReadAllAsync(command, cancellationToken);
            return found.Count > 0 ? found[0] : null;
        }, cancellationToken);

    /// <summary>Adds a tenant; false when the id or the domain is taken.</summary>
    public Task<bool> AddAsync(long id, string name, string? domain, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Sql("""
                INSERT INTO tenants (id, name, domain, active, created_at)
                VALUES (@id, @name, @domain, TRUE, @now)
                ON CONFLICT DO NOTHING
                """, transaction)
                .With("id", id).With("name", name).With("domain", domain?.ToLowerInvariant()).With("now", time.Now());
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    /// <summary>Deactivates a tenant; false when there is none with that id.</summary>
    public Task<bool> DeactivateAsync(long id, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Sql("UPDATE tenants SET active = FALSE WHERE id = @id", transaction).With("id", id);
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    private static async Task<IReadOnlyList<Tenant>> ReadAllAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var tenants = new List<Tenant>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            tenants.Add(new Tenant(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetBoolean(3), reader.GetTime(4)));
        }
        return tenants;
    }
}
