using System.Data.Common;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Livechat.Api;
using Livechat.Changes;
using Livechat.Data;

namespace Livechat.Webhooks;

/// <summary>
/// The outbox (contract section 13, "never lost, never invented"): an event is written in the transaction of
/// the change it describes, with one delivery per enabled webhook of the tenant that subscribed to it. The
/// worker (<see cref="WebhookDispatcher"/>) only ever sees committed rows.
/// </summary>
public static class WebhookOutbox
{
    /// <summary>
    /// Records event <paramref name="type"/> with <paramref name="data"/> (its REST shape, as JSON) and its deliveries, in
    /// the change's transaction, set-based, as two deferred statements: they travel with the change's others in
    /// one round trip just before the commit. A tenant without a matching webhook costs one index probe and
    /// writes nothing. <paramref name="onlyWebhook"/> addresses one webhook whatever it subscribed to (ping).
    /// <paramref name="onlyIf"/> is what the event needs to have happened (<see cref="DomainEvent.HappenedIf"/>):
    /// when it did not, nothing is written. <paramref name="written"/>, if given, hears the event id, or null
    /// when nothing was (the event insert then returns its row, which costs a reader).
    /// </summary>
    /// <paramref name="about"/> is what the event is about (its session, the user who caused it), kept beside it so that a
    /// retention purge or an erasure (contract section 21) finds the events that carry that data.
    public static void Defer(ChangeScope scope, long tenantId, string type, string data, Guid? onlyWebhook = null, EventCondition? onlyIf = null,
        Action<Guid?>? written = null, (Guid? SessionId, long? ActorId) about = default)
    {
        var eventId = Guid.CreateVersion7(scope.Now);
        var insertEvent = InsertEventSql(onlyWebhook is not null, onlyIf);
        var command = written is null
            ? scope.Defer(insertEvent)
            : scope.DeferQuery(insertEvent + "\nRETURNING id", async (reader, cancellationToken) => written(await reader.ReadAsync(cancellationToken) ? eventId : null));
        Bind(command, tenantId, eventId, type, data, scope.Now, onlyWebhook, onlyIf).With("about_session", about.SessionId).With("actor", about.ActorId);
        // Its deliveries are the event's: when the event was not written, no delivery is either.
        Bind(scope.DeferIfPreviousWrote(InsertDeliveriesSql(onlyWebhook is not null)), tenantId, eventId, type, data, scope.Now, onlyWebhook, null);
    }

    // Which webhooks want it: enabled, of this tenant, subscribed to the type or to everything. Event types
    // contain no LIKE wildcard ('%' or '_'), so matching " type " in " events " is exact.
    private static string Wanted(bool onlyOne) => onlyOne
        ? "w.tenant_id = @tenant AND w.id = @webhook"
        : "w.tenant_id = @tenant AND w.enabled = TRUE AND (w.events = '*' OR ' ' || w.events || ' ' LIKE '% ' || @type || ' %')";

    private static string InsertEventSql(bool onlyOne, EventCondition? onlyIf) => $"""
        INSERT INTO webhook_events (tenant_id, id, type, payload, created_at, session_id, actor_id)
        SELECT @tenant, @id, @type, @payload, @now, @about_session, @actor
        WHERE EXISTS (SELECT 1 FROM webhooks w WHERE {Wanted(onlyOne)}){(onlyIf is null ? "" : " AND " + onlyIf.Sql)}
        """;

    // Only for an event that was written (a batch runs it even when the event insert wrote nothing).
    private static string InsertDeliveriesSql(bool onlyOne) => $"""
        INSERT INTO webhook_deliveries (tenant_id, id, webhook_id, event_id, event_type, status, attempts, next_attempt_at, created_at, updated_at)
        SELECT w.tenant_id, livechat_uuidv7(@now), w.id, @id, @type, 'pending', 0, @now, @now, @now
        FROM webhooks w WHERE {Wanted(onlyOne)} AND EXISTS (SELECT 1 FROM webhook_events e WHERE e.tenant_id = @tenant AND e.id = @id)
        """;

    private static DbCommand Bind(DbCommand command, long tenantId, Guid eventId, string type, string data, DateTimeOffset now, Guid? onlyWebhook,
        EventCondition? onlyIf)
    {
        command.With("tenant", tenantId).With("id", eventId).With("type", type).With("now", now).With("webhook", onlyWebhook);
        if (onlyIf is not null) command.With(EventCondition.Parameter, onlyIf.Happened);
        if (command.CommandText.Contains("@payload", StringComparison.Ordinal)) command.With("payload", Payload(eventId, type, tenantId, now, data));
        return command;
    }

    /// <summary>The body every delivery of the event sends, byte for byte: <c>{id, type, tenant_id, created_at, data}</c>.</summary>
    /// <paramref name="data"/> is the thing's REST JSON, written by the wire options (Api/Json.cs) as an answer would be.
    public static string Payload(Guid eventId, string type, long tenantId, DateTimeOffset createdAt, string data)
    {
        using var buffer = new MemoryStream();
        // Escaped as the API escapes (only what JSON requires), so the body reads as the REST answer's text.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("id", eventId);
            writer.WriteString("type", type);
            writer.WriteNumber("tenant_id", tenantId);
            writer.WriteString("created_at", createdAt.UtcDateTime.ToString(UtcTimestampConverter.Format, System.Globalization.CultureInfo.InvariantCulture));
            writer.WritePropertyName("data");
            writer.WriteRawValue(data, skipInputValidation: true);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The data of a <c>webhook.ping</c>.</summary>
    public static string PingData(Guid webhookId) => JsonSerializer.Serialize(new WebhookPing(webhookId), WebhookJsonContext.Default.WebhookPing);
}

/// <summary>The webhook feature's own shapes (its answers, the ping's data), chained into the wire options at start-up.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ApiResponse<Webhook>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<Webhook>>))]
[JsonSerializable(typeof(ApiResponse<WebhookDelivery>))]
[JsonSerializable(typeof(ApiResponse<IReadOnlyList<WebhookDelivery>>))]
[JsonSerializable(typeof(WebhookPing))]
[JsonSerializable(typeof(ApiResponse<PingQueued>))]
internal sealed partial class WebhookJsonContext : JsonSerializerContext;
