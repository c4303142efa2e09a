using System.CommandLine;
using System.Globalization;
using Livechat.Auth;
using Livechat.Data;
using Livechat.Tenants;
using Microsoft.Extensions.Options;

namespace Livechat;

/// <summary>
/// The command-line verbs that share the service's configuration (appsettings, <c>Livechat__*</c> variables):
/// <c>serve</c>, <c>tenants add|deactivate|list</c>, <c>token</c>, <c>migrate</c>.
/// </summary>
public static class Cli
{
    public static bool IsServe(string[] args) =>
        args.Length == 0 || args[0] == "serve" && !args.Skip(1).Any(IsHelp) || args[0].StartsWith('-') && !IsHelp(args[0]) && args[0] != "--version";

    private static bool IsHelp(string arg) => arg is "-h" or "--help" or "-?" or "/?";

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Livechat: multi-tenant live chat between support agents and tenant users.");

        var serve = new Command("serve", "Run the service (the default when no verb is given).");
        serve.Options.Add(new Option<string>("--urls") { Description = "Addresses to listen on, e.g. http://127.0.0.1:5080." });
        serve.SetAction(_ => 0); // reached only for --help: Program runs the service itself
        root.Subcommands.Add(serve);

        root.Subcommands.Add(TenantsCommand());
        root.Subcommands.Add(TokenCommand());

        var migrate = new Command("migrate", "Apply pending database migrations and exit.");
        migrate.SetAction(async (_, cancellationToken) =>
        {
            await using var services = BuildServices();
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("migrate");
            await Migrations.ApplyAsync(services.GetRequiredService<Database>(), logger, cancellationToken);
            Console.WriteLine("The database is up to date.");
            return 0;
        });
        root.Subcommands.Add(migrate);

        try
        {
            return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OptionsValidationException e)
        {
            // A configuration mistake, as when serving: say what, without a stack trace.
            await Console.Error.WriteLineAsync($"Livechat: {e.Message}");
            return 2;
        }
        catch (DatabaseUnavailableException e)
        {
            // Expected when the database is down: say what, without a stack trace.
            await Console.Error.WriteLineAsync($"Livechat: {e.Message}");
            return 3;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"Livechat: unexpected error: {e}");
            return 1;
        }
    }

    private static Command TenantsCommand()
    {
        var tenants = new Command("tenants", "Add, deactivate and list tenants.");

        var id = new Option<long>("--id") { Description = "The tenant id (a positive integer).", Required = true };
        id.Validators.Add(result => { if (result.GetValueOrDefault<long>() <= 0) result.AddError("--id must be a positive integer."); });
        var name = new Option<string>("--name") { Description = "The tenant's display name.", Required = true };
        name.Validators.Add(result => { if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>())) result.AddError("--name must not be empty."); });
        var domain = new Option<string?>("--domain") { Description = "A host name whose requests belong to this tenant." };
        domain.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && Uri.CheckHostName(value) is UriHostNameType.Unknown or UriHostNameType.Basic) result.AddError("--domain must be a host name.");
        });

        var add = new Command("add", "Add a tenant.") { id, name, domain };
        add.SetAction(async (parse, cancellationToken) =>
        {
            await using var services = await PrepareAsync(cancellationToken);
            var store = services.GetRequiredService<TenantStore>();
            if (!await store.AddAsync(parse.GetValue(id), parse.GetValue(name)!.Trim(), parse.GetValue(domain), cancellationToken))
            {
                await Console.Error.WriteLineAsync($"A tenant with id {parse.GetValue(id)} or domain {parse.GetValue(domain)} already exists.");
                return 1;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Added tenant {parse.GetValue(id)} \"{parse.GetValue(name)!.Trim()}\"."));
            return 0;
        });

        var deactivateId = new Option<long>("--id") { Description = "The tenant id.", Required = true };
        var deactivate = new Command("deactivate", "Deactivate a tenant: its requests get 403 from then on.") { deactivateId };
        deactivate.SetAction(async (parse, cancellationToken) =>
        {
            await using var services = await PrepareAsync(cancellationToken);
            if (!await services.GetRequiredService<TenantStore>().DeactivateAsync(parse.GetValue(deactivateId), cancellationToken))
            {
                await Console.Error.WriteLineAsync($"There is no tenant with id {parse.GetValue(deactivateId)}.");
                return 1;
            }
            Console.WriteLine($"Deactivated tenant {parse.GetValue(deactivateId)}.");
            return 0;
        });

        var list = new Command("list", "List tenants.");
        list.SetAction(async (_, cancellationToken) =>
        {
            await using var services = await PrepareAsync(cancellationToken);
            Console.WriteLine("id\tactive\tdomain\tname");
            foreach (var tenant in await services.GetRequiredService<TenantStore>().ListAsync(cancellationToken))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{tenant.Id}\t{(tenant.Active ? "yes" : "no")}\t{tenant.Domain ?? "-"}\t{tenant.Name}"));
            return 0;
        });

        tenants.Subcommands.Add(add);
        tenants.Subcommands.Add(deactivate);
        tenants.Subcommands.Add(list);
        return tenants;
    }

    private static Command TokenCommand()
    {
        var user = new Option<long>("--user") { Description = "The user id (sub).", Required = true };
        user.Validators.Add(result => { if (result.GetValueOrDefault<long>() <= 0) result.AddError("--user must be a positive integer."); });
        var tenant = new Option<long[]>("--tenant") { Description = "A tenant the token grants (repeat for several).", Required = true, AllowMultipleArgumentsPerToken = true };
        tenant.Validators.Add(result => { if (result.GetValueOrDefault<long[]>()!.Any(t => t <= 0)) result.AddError("--tenant must be a positive integer."); });
        var role = new Option<string[]>("--role") { Description = "A role, e.g. SUPPORT_AGENT (repeat for several).", Required = true, AllowMultipleArgumentsPerToken = true };
        var ttl = new Option<string>("--ttl") { Description = "Lifetime: a number with s, m, h or d.", DefaultValueFactory = _ => "1h" };
        ttl.Validators.Add(result => { if (ParseTtl(result.GetValueOrDefault<string>()!) is null) result.AddError("--ttl must look like 90s, 30m, 1h or 7d (at most 30d)."); });

        var name = new Option<string?>("--name") { Description = "The user's display name (the standard name claim), optional." };

        var token = new Command("token", "Print a JWT signed with the configured key (Livechat:Auth:SigningKey).") { user, tenant, role, ttl, name };
        token.SetAction(async (parse, _) =>
        {
            await using var services = BuildServices();
            AuthOptions auth;
            try
            {
                auth = services.GetRequiredService<IOptions<AuthOptions>>().Value;
            }
            catch (OptionsValidationException e)
            {
                await Console.Error.WriteLineAsync(e.Message);
                return 1;
            }
            if (string.IsNullOrEmpty(auth.SigningKey))
            {
                await Console.Error.WriteLineAsync("token needs Livechat__Auth__SigningKey; with an OpenID Connect authority, get tokens from it.");
                return 1;
            }
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            Console.WriteLine(TokenIssuer.Issue(auth, parse.GetValue(user), parse.GetValue(tenant)!, parse.GetValue(role)!, ParseTtl(parse.GetValue(ttl)!)!.Value, now,
                parse.GetValue(name)));
            return 0;
        });
        return token;
    }

    internal static TimeSpan? ParseTtl(string text)
    {
        if (text.Length < 2 || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0) return null;
        TimeSpan? ttl = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => null,
        };
        return ttl <= TimeSpan.FromDays(30) ? ttl : null;
    }

    /// <summary>The service's configuration and stores, without the web server.</summary>
    private static ServiceProvider BuildServices()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Production",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddLivechatCore(builder.Configuration);
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        return builder.Services.BuildServiceProvider();
    }

    private static async Task<ServiceProvider> PrepareAsync(CancellationToken cancellationToken)
    {
        var services = BuildServices();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("migrate");
        await Migrations.ApplyAsync(services.GetRequiredService<Database>(), logger, cancellationToken);
        return services;
    }
}
