using Microsoft.AspNetCore.OpenApi;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.OpenApi;

namespace Livechat.Api;

public static class OpenApiSetup
{
    /// <summary>Describes the bearer token and the tenant header that every feature endpoint needs.</summary>
    public static OpenApiOptions AddLivechatDocument(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Livechat API",
                Version = "v1",
                Description = "Live chat between support agents and tenant users. Every response is the APIResponse envelope; " +
                    "send Authorization: Bearer <JWT> and X-Tenant-ID: <tenant id> on every call but /health.",
            };
            // Relative: the framework would fill in the request's Host header, so a hostile Host chose the API's address.
            document.Servers = [new OpenApiServer { Url = "/" }];
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A JWT with sub (user id), role (one or many) and tenant_id (one or many).",
            };
            document.Security ??= [];
            document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            // The statuses come from the handler's typed results and the pipeline's conventions, in that order: list them
            // by number, as a reader looks for one.
            if (operation.Responses is { Count: > 1 } responses)
            {
                var sorted = responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
                responses.Clear();
                foreach (var (status, response) in sorted) responses.Add(status, response);
            }
            operation.Parameters ??= [];
            foreach (var query in context.Description.ActionDescriptor.EndpointMetadata.OfType<QueryParameter>())
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = query.Name,
                    In = ParameterLocation.Query,
                    Required = query.Required,
                    Description = query.Description,
                    Schema = new OpenApiSchema
                    {
                        Type = query.Type,
                        Format = query.Format,
                        Enum = query.Values?.Select(v => (JsonNode)JsonValue.Create(v)).ToList(),
                    },
                });
            }
            // A 200 that is also text in other formats (a transcript): the framework keeps one type per status, so the text is added here.
            foreach (var text in context.Description.ActionDescriptor.EndpointMetadata.OfType<AlsoProducesText>())
            {
                if (operation.Responses?.TryGetValue("200", out var ok) != true || ok!.Content is null) continue;
                foreach (var type in text.ContentTypes) ok.Content[type] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
            }
            if (context.Description.RelativePath?.StartsWith("health", StringComparison.Ordinal) == true) return Task.CompletedTask;
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "X-Tenant-ID",
                In = ParameterLocation.Header,
                Required = false,
                Description = "The tenant to act in (a positive integer); may be left out when the host name maps to a tenant.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64" },
            });
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            var info = context.JsonTypeInfo;
            // Our converter writes every timestamp as an RFC 3339 string; the framework, seeing a converter, says only its format.
            if (info.Type == typeof(DateTimeOffset) || info.Type == typeof(DateTimeOffset?))
            {
                schema.Type = (schema.Type ?? 0) | JsonSchemaType.String;
                schema.Format = "date-time";
            }
            if (info.Kind != JsonTypeInfoKind.Object || schema.Properties is null) return Task.CompletedTask;
            var isRequest = info.Type.Name.EndsWith("Request", StringComparison.Ordinal);
            foreach (var property in info.Properties)
            {
                var omittedWhenNull = property.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), false)
                    .Cast<JsonIgnoreAttribute>().Any(a => a.Condition == JsonIgnoreCondition.WhenWritingNull) == true;
                // Records make every constructor parameter "required"; on the wire a property that is left out when
                // null (agent_id, next_cursor...) and an optional request field are not.
                if (omittedWhenNull || (isRequest && property.IsGetNullable)) schema.Required?.Remove(property.Name);
                if (!schema.Properties.TryGetValue(property.Name, out var propertySchema)) continue;
                // Left out when null means never null on the wire: absent (agent_id?: number), as the contract's types say.
                if (omittedWhenNull) schema.Properties[property.Name] = NotNull(propertySchema);
                if (property.AttributeProvider?.GetCustomAttributes(typeof(WireValuesAttribute), false).Cast<WireValuesAttribute>().FirstOrDefault() is { } values
                    && schema.Properties[property.Name] is OpenApiSchema valued)
                {
                    valued.Enum = values.Values.Select(v => (JsonNode)JsonValue.Create(v)).ToList();
                }
            }
            return Task.CompletedTask;
        });
        return options;
    }

    /// <summary>Microsoft.AspNetCore.OpenApi's mark on a nullable property's schema (OpenApiConstants.NullableProperty, internal).</summary>
    private const string NullablePropertyMarker = "x-is-nullable-property";

    /// <summary>The schema without its null: <c>["null", "integer"]</c> becomes <c>integer</c>, <c>oneOf [null, $ref]</c> the reference.</summary>
    private static IOpenApiSchema NotNull(IOpenApiSchema schema)
    {
        if (schema is not OpenApiSchema inline) return schema;
        if (inline.Type is { } type) inline.Type = type & ~JsonSchemaType.Null;
        // What the framework wraps in oneOf [null, $ref] when it moves an object's schema to the components.
        inline.Metadata?.Remove(NullablePropertyMarker);
        return inline;
    }
}

/// <summary>Endpoint metadata: its 200 is also text in these media types (chosen by a query parameter), besides its envelope.</summary>
public sealed record AlsoProducesText(params string[] ContentTypes);

/// <summary>The only values a string property takes on the wire (a session's status...), listed as the schema's enum.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class WireValuesAttribute(params string[] values) : Attribute
{
    public IReadOnlyList<string> Values { get; } = values;
}
