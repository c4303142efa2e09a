using System.ComponentModel.DataAnnotations;

namespace Livechat.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Livechat:Database";

    /// <summary><c>sqlite</c> (the default, one machine) or <c>postgres</c> (several instances).</summary>
    [Required, RegularExpression("^(?i)(sqlite|postgres)$", ErrorMessage = "Livechat:Database:Provider must be 'sqlite' or 'postgres'.")]
    public string Provider { get; set; } = "sqlite";

    /// <summary>Defaults to a SQLite file under <c>data/</c>; required for PostgreSQL.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long start-up and <c>migrate</c> keep retrying, with backoff, while the database is not reachable
    /// yet (a container starting beside the service); 0 fails at once.
    /// </summary>
    [Range(0, 3600, ErrorMessage = "Livechat:Database:StartupRetrySeconds must be between 0 and 3600.")]
    public int StartupRetrySeconds { get; set; } = 60;

    public bool IsPostgres => Provider.Equals("postgres", StringComparison.OrdinalIgnoreCase);
}
