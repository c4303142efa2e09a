using System.ComponentModel.DataAnnotations;

namespace Livechat.Attachments;

/// <summary><c>Livechat:Attachments</c> (docs/attachments.md).</summary>
public sealed class AttachmentOptions
{
    public const string Section = "Livechat:Attachments";

    public const string DiskStore = "disk";
    public const string DatabaseStore = "database";

    /// <summary><c>disk</c> (default: a folder beside the SQLite file, or <see cref="Path"/>) or <c>database</c> (PostgreSQL).</summary>
    [Required, RegularExpression("^(disk|database)$", ErrorMessage = "Livechat:Attachments:Store must be 'disk' or 'database'.")]
    public string Store { get; set; } = DiskStore;

    /// <summary>The disk store's folder; by default <c>attachments/</c> beside the SQLite file (or under <c>data/</c>).</summary>
    public string? Path { get; set; }

    /// <summary>The largest file, in bytes (default 10 MiB).</summary>
    [Range(1, 2L * 1024 * 1024 * 1024)]
    public long MaxBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>The bytes one tenant may store at once (default 1 GiB).</summary>
    [Range(1, long.MaxValue)]
    public long TenantQuotaBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// The types an upload may have, decided from its bytes (<see cref="FileTypes"/>); none configured means all
    /// of them. (Empty by default: the configuration binder adds an array's configured entries to its default
    /// ones instead of replacing them, so a default list could never be narrowed.)
    /// </summary>
    public string[] AllowedTypes { get; set; } = [];

    public IReadOnlyList<string> Allowed => AllowedTypes.Length > 0 ? AllowedTypes : FileTypes.All;

    /// <summary>The key that signs download URLs (HMAC-SHA256); every instance needs the same one.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Keys that signed URLs before a rotation: still accepted, never used to sign.</summary>
    public string[] PreviousSigningKeys { get; set; } = [];

    /// <summary><c>host:port</c> of a clamd; when set, every upload is scanned before it is ready.</summary>
    public string? ClamAv { get; set; }

    /// <summary>How long a scanner waits before trying a clamd that did not answer again (and polls for others' uploads).</summary>
    [Range(1, 3600)]
    public int ScanRetrySeconds { get; set; } = 10;

    /// <summary>How often staged uploads older than 24 h are looked for.</summary>
    [Range(1, 86400)]
    public int CleanupIntervalSeconds { get; set; } = 600;
}
