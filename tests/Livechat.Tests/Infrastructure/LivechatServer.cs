using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Livechat.Auth;
using Livechat.Data;
using Livechat.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Livechat.Tests.Infrastructure;

/// <summary>The storage a test server runs on; every test class runs on each.</summary>
public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// The real service on Kestrel, bound to a free loopback port, over a real database: a SQLite file in a
/// temporary folder, or a fresh database of its own in the test run's PostgreSQL cluster
/// (<see cref="PostgresCluster"/>). Tests talk to it with <see cref="HttpClient"/> and real JWTs, exactly as a
/// frontend would. Each test makes its own tenants (<see cref="NewTenantAsync"/>), so tests sharing a server
/// never see each other's data.
/// </summary>
public class LivechatServer : IAsyncLifetime, IAsyncDisposable
{
    public const string SigningKey = "test-signing-key-with-at-least-32-bytes!!";
    public const string Issuer = "livechat-tests";
    public const string Audience = "livechat-tests-audience";

    private static long nextTenantId = 1000;
    private readonly Dictionary<string, string?> settings = new();
    private WebApplication? app;
    private string? postgresDatabase;

    private readonly bool ownsStorage = true;

    /// <summary>A second instance of a started <paramref name="first"/>: same database, same settings (Redis included).</summary>
    public static LivechatServer SecondInstanceOf(LivechatServer first) => new(first);

    private LivechatServer(LivechatServer first)
    {
        Provider = first.Provider;
        Folder = first.Folder;
        ownsStorage = false;
        foreach (var (key, value) in first.settings) settings[key] = value;
    }

    public LivechatServer(DatabaseProvider provider)
    {
        Provider = provider;
        Folder = Directory.CreateTempSubdirectory("livechat-tests-").FullName;
        if (provider == DatabaseProvider.Sqlite)
        {
            settings["Livechat:Database:Provider"] = "sqlite";
            settings["Livechat:Database:ConnectionString"] = $"Data Source={Path.Combine(Folder, "livechat.db")}";
        }
        else
        {
            settings["Livechat:Database:Provider"] = "postgres"; // the connection string comes with the database, at start
        }
        settings["Livechat:Auth:SigningKey"] = SigningKey;
        settings["Livechat:Auth:Issuer"] = Issuer;
        settings["Livechat:Auth:Audience"] = Audience;
        settings["Livechat:Tenants:CacheSeconds"] = "0";
        // Tests fire requests far faster than people; RateLimitTests sets its own small buckets.
        settings["Livechat:RateLimits:UserPermitsPerSecond"] = "100000";
        settings["Livechat:RateLimits:UserBurst"] = "100000";
        settings["Livechat:RateLimits:TenantPermitsPerSecond"] = "100000";
        settings["Livechat:RateLimits:TenantBurst"] = "100000";
    }

    public DatabaseProvider Provider { get; }

    public string Folder { get; }

    public string Environment { get; set; } = "Testing";

    /// <summary>The loopback port to listen on; 0 (the default) takes a free one. Set it to restart on the same address.</summary>
    public int Port { get; set; }

    public IDictionary<string, string?> Settings => settings;

    /// <summary>Extra services for this server (a fault to plant); handlers and sinks added here run before the service's own.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }

    public CapturedLogs Logs { get; } = new();

    /// <summary>Holds this server's answers to its OpenAPI document (see <see cref="OpenApiStatuses"/>).</summary>
    public OpenApiStatuses Statuses { get; } = new();

    public Uri BaseAddress { get; private set; } = null!;

    public IServiceProvider Services => app!.Services;

    /// <summary>
    /// Runs one statement on this server's database through its own writer (a fault to plant with a trigger, a
    /// row to age), with <c>@name</c> parameters; answers how many rows it changed.
    /// </summary>
    public Task<int> ExecuteSqlAsync(string sql, params (string Name, object? Value)[] parameters) =>
        Services.GetRequiredService<Database>().WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Sql(sql, transaction);
            foreach (var (name, value) in parameters) command.With(name, value);
            return await command.ExecuteNonQueryAsync();
        }, CancellationToken.None);

    public HttpClient Http { get; private set; } = null!;

    public virtual async Task InitializeAsync() => await StartAsync();

    public async Task StartAsync()
    {
        if (Provider == DatabaseProvider.Postgres && postgresDatabase is null && ownsStorage)
        {
            (postgresDatabase, settings["Livechat:Database:ConnectionString"]) = await PostgresCluster.Instance.CreateDatabaseAsync();
        }
        app = await Program.BuildAsync(["--urls", $"http://127.0.0.1:{Port}", "--environment", Environment], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.AddProvider(Logs);
            builder.Services.AddSingleton<IStartupFilter>(Statuses);
            ConfigureServices?.Invoke(builder.Services);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        // A stream closed before its end closes its connection at once, as a browser's does; the default drains it
        // for up to 2 s to reuse the connection, and the service would count the stream as open meanwhile.
        Http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = BaseAddress };
        await Statuses.LoadAsync(Http, Environment);
    }

    public async Task StopAsync()
    {
        Http?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
            app = null;
        }
    }

    public virtual async Task DisposeAsync()
    {
        await StopAsync();
        if (ownsStorage)
        {
            if (postgresDatabase is not null) await PostgresCluster.Instance.DropDatabaseAsync(postgresDatabase);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
        }
        // Answers no Reply read (streams, browsers, Node clients) are held to the document here, at the end.
        var undocumented = new List<string>();
        while (Statuses.Undocumented.TryDequeue(out var problem)) undocumented.Add(problem);
        if (undocumented.Count > 0) throw new Xunit.Sdk.XunitException("Statuses the OpenAPI document does not list:\n" + string.Join("\n", undocumented.Distinct()));
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    /// <summary>A fresh active tenant that no other test uses.</summary>
    public async Task<long> NewTenantAsync(string? domain = null, bool active = true)
    {
        var id = Interlocked.Increment(ref nextTenantId);
        var store = Services.GetRequiredService<TenantStore>();
        Assert.True(await store.AddAsync(id, $"Tenant {id}", domain, CancellationToken.None));
        if (!active) Assert.True(await store.DeactivateAsync(id, CancellationToken.None));
        return id;
    }

    private static long nextUserId = 5000;

    public static long NewUserId() => Interlocked.Increment(ref nextUserId);

    public static string Token(long userId, IEnumerable<long> tenants, IEnumerable<string> roles, TimeSpan? lifetime = null, string? name = null) =>
        TokenIssuer.Issue(new AuthOptions { SigningKey = SigningKey, Issuer = Issuer, Audience = Audience }, userId, tenants, roles,
            lifetime ?? DefaultTokenLifetime, DateTimeOffset.UtcNow, name);

    /// <summary>
    /// The service judges a token's lifetime by its own clock (Auth/TokenLifetime.cs), which some fixtures move days
    /// ahead (retention, staged uploads): a test's callers keep their tokens for longer than any of those moves.
    /// </summary>
    public static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromDays(30);

    /// <summary>A support agent of <paramref name="tenantId"/> with a fresh user id.</summary>
    public Caller Agent(long tenantId, long? userId = null, string? name = null) => new(this, userId ?? NewUserId(), tenantId, [Roles.SupportAgent], name);

    /// <summary>A tenant user (no SUPPORT_AGENT role) of <paramref name="tenantId"/>.</summary>
    public Caller TenantUser(long tenantId, long? userId = null, string? name = null) => new(this, userId ?? NewUserId(), tenantId, ["TENANT_ADMIN"], name);

    /// <summary>A fresh tenant with an online agent, a tenant user, and a session the user started with that agent.</summary>
    public async Task<(Caller Agent, Caller User, string Session)> ConversationAsync()
    {
        var tenant = await NewTenantAsync();
        var agent = Agent(tenant);
        await agent.GoOnlineAsync();
        var user = TenantUser(tenant);
        return (agent, user, await user.StartSessionAsync(agent.UserId));
    }

    /// <summary>A raw request with no auth or tenant unless given.</summary>
    public async Task<Reply> SendAsync(HttpMethod method, string path, string? token = null, string? tenant = null, string? json = null,
        string contentType = "application/json", Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (tenant is not null) request.Headers.TryAddWithoutValidation("X-Tenant-ID", tenant);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, contentType);
        configure?.Invoke(request);
        using var response = await Http.SendAsync(request);
        return await Reply.ReadAsync(response);
    }
}

/// <summary>The fixture of the test classes that run on SQLite.</summary>
public sealed class SqliteServer() : LivechatServer(DatabaseProvider.Sqlite);

/// <summary>The fixture of the test classes that run on PostgreSQL: a fresh database per fixture.</summary>
public sealed class PostgresServer() : LivechatServer(DatabaseProvider.Postgres);

/// <summary>Log lines the service wrote, with their scopes, to check what a log reader would see.</summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<(string Category, LogLevel Level, string Message, IReadOnlyList<string> Scopes)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

    public void Dispose() { }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner.scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var active = new List<string>();
            owner.scopes.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? ""), active);
            owner.Lines.Enqueue((category, logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception), active));
        }
    }
}
