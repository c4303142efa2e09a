using Microsoft.OpenApi;

namespace Livechat.Api;

/// <summary>
/// A query parameter that a handler parses by hand (strictly, so a typo gets a 400 naming it). The framework lists only
/// what a handler's signature binds; this metadata puts the rest in the OpenAPI document, where the generated
/// TypeScript client (clients/typescript) reads it.
/// </summary>
public sealed record QueryParameter(string Name, string Description, JsonSchemaType Type = JsonSchemaType.String, bool Required = false)
{
    public string? Format { get; init; }

    /// <summary>The only values accepted, when there is such a list.</summary>
    public IReadOnlyList<string>? Values { get; init; }
}

public static class QueryParameters
{
    public static TBuilder WithQuery<TBuilder>(this TBuilder builder, params QueryParameter[] parameters) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var parameter in parameters) builder.WithMetadata(parameter);
        return builder;
    }

    /// <summary>The <see cref="PageRequest"/> parameters; <paramref name="defaultLimit"/> as its Parse gets it (null: limit is required).</summary>
    public static TBuilder WithPageQuery<TBuilder>(this TBuilder builder, int? defaultLimit) where TBuilder : IEndpointConventionBuilder =>
        builder.WithQuery(
            new QueryParameter("limit", defaultLimit is { } fallback
                ? $"Items on the page, 1 to {PageRequest.MaxLimit} (default {fallback})."
                : $"Items on the page, 1 to {PageRequest.MaxLimit}.", JsonSchemaType.Integer, Required: defaultLimit is null) { Format = "int32" },
            new QueryParameter("cursor", "An id from meta.pagination (next_cursor or prev_cursor): the page holds the items strictly after it (before it, backward).") { Format = "uuid" },
            new QueryParameter("direction", "forward (the default) or backward.") { Values = ["forward", "backward"] });
}
