using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Livechat.Api;

/// <summary>
/// RFC 3339 in UTC with a <c>Z</c> and microseconds, the precision both databases keep, so a timestamp
/// read back equals the one that was written.
/// </summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));
}

public static class Json
{
    /// <summary>The wire format of contract section 2, shared by HTTP, the hub and the SSE stream.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        // Numbers are numbers: the Web defaults would also read "12", and the OpenAPI schema would say so.
        options.NumberHandling = JsonNumberHandling.Strict;
        options.Converters.Add(new UtcTimestampConverter());
        options.TypeInfoResolverChain.Insert(0, LivechatJsonContext.Default);
    }

    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        // As ASP.NET Core's own HTTP options: the SSE streams write the very bytes the REST endpoints do.
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        Configure(options);
        options.MakeReadOnly();
        return options;
    }
}
