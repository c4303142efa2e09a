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

    /// <summary>
    /// PostgreSQL only: how many writer loops (each with one connection) commit writes in groups; one session's
    /// writes always share one loop. One is the default: its batches grow with the load, so each commit, each
    /// round trip and each PostgreSQL backend serves more writes. Side by side on the benchmark's machine, one
    /// loop sent 8 % more messages than two and 19 % more than four, with a p99 of 17 ms against 24 and 28
    /// (docs/performance.md). More loops help where one write's round trips are long (a distant database) and
    /// PostgreSQL has cores to spare: a loop waits for each statement of an unplanned write (a session start,
    /// a routing change) before the next write of its batch runs.
    /// </summary>
    [Range(1, 64, ErrorMessage = "Livechat:Database:Writers must be between 1 and 64.")]
    public int Writers { get; set; } = 1;

    public bool IsPostgres => Provider.Equals("postgres", StringComparison.OrdinalIgnoreCase);
}
