using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;

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
    /// <summary>The wire format of contract section 2, shared by HTTP, the hub, the SSE streams and webhooks.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        // Numbers are numbers: the Web defaults would also read "12", and the OpenAPI schema would say so.
        options.NumberHandling = JsonNumberHandling.Strict;
        options.Converters.Add(new UtcTimestampConverter());
    }

    /// <summary>
    /// The wire options: HTTP's own (ASP.NET Core's web defaults, relaxed escaping), so an SSE stream, the log of
    /// events and a webhook write the very bytes a REST answer does, and each feature's JSON context is in them.
    /// </summary>
    public static IServiceCollection AddWireJson(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(options =>
        {
            Configure(options.SerializerOptions);
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
        });

    /// <summary>A feature's shapes, as its compile-time JSON context: added to the wire options' resolver chain.</summary>
    public static IServiceCollection AddJsonTypes(this IServiceCollection services, IJsonTypeInfoResolver types) =>
        services.ConfigureHttpJsonOptions(options =>
        {
            // After the contexts before it, ahead of the framework's reflection-based default at the chain's end.
            var chain = options.SerializerOptions.TypeInfoResolverChain;
            var at = 0;
            while (at < chain.Count && chain[at] is JsonSerializerContext) at++;
            chain.Insert(at, types);
        });

    /// <summary>The wire options (<see cref="AddWireJson"/>), for what writes JSON outside an HTTP answer.</summary>
    public static JsonSerializerOptions Wire(this IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> options) => options.Value.SerializerOptions;
}
