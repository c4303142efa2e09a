using Microsoft.AspNetCore.OpenApi;
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
            if (context.Description.RelativePath?.StartsWith("health", StringComparison.Ordinal) == true) return Task.CompletedTask;
            operation.Parameters ??= [];
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
        // Records make every constructor parameter "required"; on the wire a property that is left out when
        // null (agent_id, next_cursor...) and an optional request field are not.
        options.AddSchemaTransformer((schema, context, _) =>
        {
            var info = context.JsonTypeInfo;
            if (info.Kind != JsonTypeInfoKind.Object || schema.Required is null) return Task.CompletedTask;
            var isRequest = info.Type.Name.EndsWith("Request", StringComparison.Ordinal);
            foreach (var property in info.Properties)
            {
                var omittedWhenNull = property.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), false)
                    .Cast<JsonIgnoreAttribute>().Any(a => a.Condition == JsonIgnoreCondition.WhenWritingNull) == true;
                if (omittedWhenNull || (isRequest && property.IsGetNullable)) schema.Required.Remove(property.Name);
            }
            return Task.CompletedTask;
        });
        return options;
    }
}
