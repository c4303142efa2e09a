using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Livechat.Auth;
using Livechat.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Livechat.Tests.Security;

/// <summary>Hand-made JWTs: the valid baseline and every way to get one wrong.</summary>
internal static class Jwt
{
    /// <summary>A token that would be valid (sub, one tenant, one role, 1 h) after <paramref name="change"/>.</summary>
    public static string Sign(long userId, long tenantId, string role, Action<SecurityTokenDescriptor>? change = null,
        SigningCredentials? credentials = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = LivechatServer.Issuer,
            Audience = LivechatServer.Audience,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = userId.ToString(CultureInfo.InvariantCulture),
                ["tenant_id"] = tenantId,
                ["role"] = role,
            },
            NotBefore = now.AddMinutes(-1),
            IssuedAt = now.AddMinutes(-1),
            Expires = now.AddHours(1),
            SigningCredentials = credentials ?? Hmac(LivechatServer.SigningKey),
        };
        change?.Invoke(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public static SigningCredentials Hmac(string key, string algorithm = SecurityAlgorithms.HmacSha256) =>
        new(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), algorithm);

    /// <summary>
    /// A token signed with HMAC by hand, so that the header can name any algorithm (IdentityModel refuses to
    /// sign HS512 with a key shorter than 512 bits; an attacker's library does not).
    /// </summary>
    public static string ManualHmac(long userId, long tenantId, string role, string alg, string key)
    {
        var header = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new Dictionary<string, string> { ["alg"] = alg, ["typ"] = "JWT" }));
        var body = $"{header}.{Base64UrlEncoder.Encode(Payload(userId, tenantId, role))}";
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var data = Encoding.ASCII.GetBytes(body);
        var signature = alg.ToUpperInvariant() switch
        {
            "HS512" => HMACSHA512.HashData(keyBytes, data),
            "HS384" => HMACSHA384.HashData(keyBytes, data),
            _ => HMACSHA256.HashData(keyBytes, data),
        };
        return $"{body}.{Base64UrlEncoder.Encode(signature)}";
    }

    /// <summary>A valid payload: sub, tenant, role, issuer, audience, 1 h lifetime.</summary>
    public static string Payload(long userId, long tenantId, string role) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["sub"] = userId.ToString(CultureInfo.InvariantCulture),
        ["tenant_id"] = tenantId,
        ["role"] = role,
        ["iss"] = LivechatServer.Issuer,
        ["aud"] = LivechatServer.Audience,
        ["nbf"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(),
        ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
    });

    /// <summary>An unsigned token (<c>alg: none</c>) with a valid payload, with or without a bogus signature part.</summary>
    public static string AlgNone(long userId, long tenantId, string role, string signature = "")
    {
        var payload = Payload(userId, tenantId, role);
        return $"{Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{Base64UrlEncoder.Encode(payload)}.{signature}";
    }

    /// <summary>
    /// The classic key-confusion attack: an HS256 token whose HMAC secret is the PEM text of an RSA public key
    /// (which an attacker can always obtain from a JWKS). A validator that picks the algorithm from the token
    /// and the key bytes from the published key would accept it.
    /// </summary>
    public static string Hs256SignedWithPublicKeyPem(long userId, long tenantId, string role)
    {
        using var rsa = RSA.Create(2048);
        var pem = rsa.ExportSubjectPublicKeyInfoPem();
        return Sign(userId, tenantId, role, credentials: new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(pem)), SecurityAlgorithms.HmacSha256));
    }

    /// <summary>An RS256 token signed by a key the service has never heard of.</summary>
    public static string Rs256WithForeignKey(long userId, long tenantId, string role)
    {
        var rsa = RSA.Create(2048);
        return Sign(userId, tenantId, role, credentials: new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = "attacker" }, SecurityAlgorithms.RsaSha256));
    }
}

/// <summary>Requests and checks shared by the security tests.</summary>
internal static class Probe
{
    public static string Id(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Sends with an explicit token and tenant header (either may be null), and an optional raw body.</summary>
    public static Task<Reply> AsAsync(this LivechatServer server, HttpMethod method, string path, string? token, long? tenant, string? json = null,
        Action<HttpRequestMessage>? configure = null) =>
        server.SendAsync(method, path, token, tenant is null ? null : Id(tenant.Value), json, configure: configure);

    /// <summary>Asserts that the reply text mentions none of <paramref name="secrets"/> (foreign ids, texts).</summary>
    public static void AssertLeaksNothing(this Reply reply, IEnumerable<string> secrets, string context)
    {
        // The request id and the timestamp are made fresh for each answer: a secret's digits may turn up in them by chance.
        var text = System.Text.RegularExpressions.Regex.Replace(reply.Text, "\"(request_id|timestamp)\":\"[^\"]*\"", "\"$1\":\"\"");
        foreach (var secret in secrets)
            Assert.False(text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{context}: the reply mentions '{secret}': {reply.Text}");
    }

    /// <summary>A failure that neither confirms nor denies anything: 404 envelope, no data, never 403.</summary>
    public static void AssertNotFound(this Reply reply, IEnumerable<string> secrets, string context)
    {
        Assert.True(reply.Status == HttpStatusCode.NotFound, $"{context}: expected 404, got {(int)reply.Status}: {reply.Text}");
        reply.AssertError(HttpStatusCode.NotFound, "request");
        reply.AssertLeaksNothing(secrets, context);
    }

    /// <summary>Every property name in <paramref name="element"/>, at any depth.</summary>
    public static IEnumerable<string> PropertyNames(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    yield return property.Name;
                    foreach (var inner in PropertyNames(property.Value)) yield return inner;
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    foreach (var inner in PropertyNames(item)) yield return inner;
                break;
        }
    }

    /// <summary>
    /// The (method, path template) pairs of the OpenAPI document, e.g. <c>GET /livechat/sessions/{id}</c>:
    /// the inventory every per-endpoint security test is checked against.
    /// </summary>
    public static async Task<SortedSet<string>> OpenApiOperationsAsync(LivechatServer server)
    {
        using var response = await server.Http.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var operations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                if (operation.Name is "get" or "put" or "post" or "delete" or "patch" or "head" or "options" or "trace")
                    operations.Add($"{operation.Name.ToUpperInvariant()} {path.Name.TrimEnd('/')}");
            }
        }
        return operations;
    }

    /// <summary>Turns <c>GET /tickets/{id}</c> into a method and a concrete path.</summary>
    public static (HttpMethod Method, string Path) Concrete(string operation, string id)
    {
        var space = operation.IndexOf(' ', StringComparison.Ordinal);
        return (new HttpMethod(operation[..space]), operation[(space + 1)..].Replace("{id}", id, StringComparison.Ordinal));
    }
}

/// <summary>
/// HTTP/1.1 over a bare socket, for requests <see cref="HttpClient"/> refuses to send (CR, LF or bytes
/// above 0x7F in a header). Returns the status, the raw header block and the body.
/// </summary>
internal static class RawHttp
{
    public static async Task<(int Status, string Headers, string Body)> SendAsync(Uri baseAddress, byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(baseAddress.Host, baseAddress.Port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(request);
        await stream.FlushAsync();
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, timeout.Token)) > 0) buffer.Write(chunk, 0, read);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException) { }
        var text = Encoding.Latin1.GetString(buffer.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? text : text[..split];
        var body = split < 0 ? "" : text[(split + 4)..];
        var statusLine = head.Split("\r\n")[0];
        var status = statusLine.Split(' ').Length > 1 && int.TryParse(statusLine.Split(' ')[1], CultureInfo.InvariantCulture, out var s) ? s : 0;
        return (status, head, body);
    }

    /// <summary>A GET with <c>Connection: close</c> and extra raw header lines (bytes as Latin-1).</summary>
    public static byte[] Get(Uri baseAddress, string path, params string[] headerLines)
    {
        var text = new StringBuilder()
            .Append("GET ").Append(path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(baseAddress.Authority).Append("\r\n")
            .Append("Connection: close\r\n");
        foreach (var line in headerLines) text.Append(line).Append("\r\n");
        text.Append("\r\n");
        return Encoding.Latin1.GetBytes(text.ToString());
    }
}

/// <summary>Raw JSON text builders for bodies a serializer would refuse or normalise.</summary>
internal static class RawJson
{
    /// <summary>
    /// A JSON string literal that escapes every UTF-16 unit outside printable ASCII as <c>\uXXXX</c>, so lone
    /// surrogates and control characters reach the server exactly as generated.
    /// </summary>
    public static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length * 2 + 2).Append('"');
        foreach (var c in value)
        {
            if (c == '"') builder.Append("\\\"");
            else if (c == '\\') builder.Append("\\\\");
            else if (c is >= ' ' and <= '~') builder.Append(c);
            else builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        return builder.Append('"').ToString();
    }

    public static ByteArrayContent Bytes(byte[] body, string contentType = "application/json")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }
}

/// <summary>
/// Two tenants with one of every kind of object in the victim's, and callers in both. What the attacker
/// (tenant B) and the nosy colleague (another user of tenant A) may not reach.
/// </summary>
internal sealed class World
{
    public required Caller VictimAgent { get; init; }
    public required Caller VictimUser { get; init; }
    /// <summary>Another tenant user of the victim's tenant: sees the tenant's sessions, never its colleague's notifications.</summary>
    public required Caller Colleague { get; init; }
    public required Caller OfflineAgent { get; init; }
    public required string Session { get; init; }
    public required string Message { get; init; }
    public required string MessageText { get; init; }
    public required string Ticket { get; init; }
    public required string Notification { get; init; }
    public required string CannedResponse { get; init; }
    public required string CannedBody { get; init; }
    public required string Label { get; init; }

    public required Caller AttackerAgent { get; init; }
    public required Caller AttackerUser { get; init; }
    public required string AttackerSession { get; init; }
    public required string AttackerMessage { get; init; }

    /// <summary>What must never appear in a reply to the attacker.</summary>
    public IEnumerable<string> Secrets => [Session, Message, MessageText, Ticket, Notification, CannedResponse, CannedBody, Label];

    public static async Task<World> CreateAsync(LivechatServer server)
    {
        var victimTenant = await server.NewTenantAsync();
        var victimAgent = server.Agent(victimTenant);
        await victimAgent.GoOnlineAsync();
        var victimUser = server.TenantUser(victimTenant);
        var colleague = server.TenantUser(victimTenant);
        (await colleague.GetAsync("/notifications")).AssertStatus(HttpStatusCode.OK); // known to the tenant
        var session = await victimUser.StartSessionAsync(victimAgent.UserId);
        await victimUser.SendMessageAsync(session, "hello from the victim user");
        var text = $"secret-{Guid.NewGuid():N}";
        var message = (await victimAgent.SendMessageAsync(session, text)).GetProperty("id").GetString()!;
        var notifications = (await victimUser.GetAsync("/notifications?limit=10")).AssertStatus(HttpStatusCode.OK);
        var notification = notifications.Data[0].GetProperty("id").GetString()!;

        var offline = server.Agent(victimTenant);
        (await offline.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK); // known, OFFLINE
        var refused = (await victimUser.PostAsync("/livechat/sessions", new { agent_id = offline.UserId })).AssertError(HttpStatusCode.BadRequest, "agent_id");
        var ticket = refused.Meta.GetProperty("ticket_id").GetString()!;
        var cannedBody = $"canned-secret-{Guid.NewGuid():N}";
        var canned = (await victimAgent.PostAsync("/livechat/canned-responses", new { shortcut = "victim-greeting", title = "Victim greeting", body = cannedBody }))
            .AssertStatus(HttpStatusCode.Created).Data.GetProperty("id").GetString()!;
        var label = $"victim-{Guid.NewGuid():N}"[..32];
        (await victimAgent.PutAsync($"/livechat/sessions/{session}/labels", new { labels = new[] { label } })).AssertStatus(HttpStatusCode.OK);

        var attackerTenant = await server.NewTenantAsync();
        var attackerAgent = server.Agent(attackerTenant);
        var attackerUser = server.TenantUser(attackerTenant);
        var attackerSession = await attackerAgent.StartSessionAsync();
        var attackerMessage = (await attackerAgent.SendMessageAsync(attackerSession, "attacker's own message")).GetProperty("id").GetString()!;
        return new World
        {
            VictimAgent = victimAgent, VictimUser = victimUser, Colleague = colleague, OfflineAgent = offline,
            Session = session, Message = message, MessageText = text, Ticket = ticket, Notification = notification,
            CannedResponse = canned, CannedBody = cannedBody, Label = label,
            AttackerAgent = attackerAgent, AttackerUser = attackerUser, AttackerSession = attackerSession, AttackerMessage = attackerMessage,
        };
    }

    /// <summary>The victim's view of its objects, to prove an attack changed nothing.</summary>
    public async Task<string> VictimStateAsync()
    {
        var session = (await VictimAgent.GetAsync($"/livechat/sessions/{Session}")).AssertStatus(HttpStatusCode.OK).Data.ToString();
        var messages = (await VictimAgent.GetAsync($"/livechat/sessions/{Session}/messages?limit=100")).AssertStatus(HttpStatusCode.OK).Data.ToString();
        var ticket = (await VictimAgent.GetAsync($"/tickets/{Ticket}")).AssertStatus(HttpStatusCode.OK).Data.ToString();
        var notifications = (await VictimUser.GetAsync("/notifications?limit=100")).AssertStatus(HttpStatusCode.OK).Data.ToString();
        var sessions = (await VictimAgent.GetAsync("/livechat/sessions?limit=100")).AssertStatus(HttpStatusCode.OK).Data.ToString();
        var tickets = (await VictimAgent.GetAsync("/tickets?limit=100")).AssertStatus(HttpStatusCode.OK).Data.ToString();
        var canned = (await VictimAgent.GetAsync("/livechat/canned-responses?limit=100")).AssertStatus(HttpStatusCode.OK).Data.ToString();
        var labels = (await VictimAgent.GetAsync("/livechat/labels")).AssertStatus(HttpStatusCode.OK).Data.ToString();
        var agents = (await VictimAgent.GetAsync("/livechat/agents")).AssertStatus(HttpStatusCode.OK).Data;
        // last_seen_at moves with every call the agents make: compare who is there and their presence.
        var presence = string.Join(",", agents.EnumerateArray().Select(a => $"{a.GetProperty("agent_id")}={a.GetProperty("presence")}").Order(StringComparer.Ordinal));
        return string.Join("\n", session, messages, ticket, notifications, sessions, tickets, canned, labels, presence);
    }
}
