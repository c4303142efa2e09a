using Livechat.Messages;
using Livechat.Api;
using Livechat.Data;
using Microsoft.Extensions.Options;

namespace Livechat.Attachments;

public static class AttachmentsSetup
{
    /// <summary>The store of bytes the options name, the metadata store, signed links, the scanner and the clean-up.</summary>
    public static IServiceCollection AddAttachments(this IServiceCollection services)
    {
        services.AddJsonTypes(AttachmentsJson.Default);
        services.AddOptions<AttachmentOptions>().BindConfiguration(AttachmentOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.AllowedTypes.All(t => FileTypes.All.Contains(t)),
                $"Livechat:Attachments:AllowedTypes may only name types the service can recognise: {string.Join(", ", FileTypes.All)}.")
            .Validate(o => string.IsNullOrWhiteSpace(o.ClamAv) || IsHostAndPort(o.ClamAv), "Livechat:Attachments:ClamAv must be host:port.")
            .ValidateOnStart();
        services.AddSingleton<IAttachmentBytes>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AttachmentOptions>>().Value;
            var database = sp.GetRequiredService<Database>();
            if (options.Store == AttachmentOptions.DatabaseStore)
            {
                if (database.Describe != "postgres")
                    throw new OptionsValidationException(AttachmentOptions.Section, typeof(AttachmentOptions),
                        ["Livechat:Attachments:Store = database needs Livechat:Database:Provider = postgres."]);
                return new DatabaseBytes(database);
            }
            return new DiskBytes(options.Path ?? DefaultFolder(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value));
        });
        services.AddSingleton<AttachmentStore>();
        services.AddSingleton<SignedUrls>();
        services.AddSingleton<AttachmentRetention>();
        services.AddSingleton<IAttachmentLinks>(sp => sp.GetRequiredService<SignedUrls>()); // a message's attachments get their links (Messages)
        services.AddSingleton<AttachmentScanner>();
        services.AddHostedService(sp => sp.GetRequiredService<AttachmentScanner>());
        services.AddSingleton<StagedCleanup>();
        services.AddHostedService(sp => sp.GetRequiredService<StagedCleanup>());
        return services;
    }

    private static bool IsHostAndPort(string value)
    {
        try
        {
            ClamdClient.Parse(value);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary><c>attachments/</c> beside the SQLite file; under <c>data/</c> when the database is PostgreSQL.</summary>
    private static string DefaultFolder(DatabaseOptions database)
    {
        var file = database.IsPostgres ? "data/livechat.db" : new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(SqliteDatabase.ConnectionString(database.ConnectionString)).DataSource;
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", "attachments");
    }
}
