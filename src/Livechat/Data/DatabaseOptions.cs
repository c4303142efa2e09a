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

    public bool IsPostgres => Provider.Equals("postgres", StringComparison.OrdinalIgnoreCase);
}
