using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Livechat.Tests.Infrastructure;

/// <summary>One span as an OTLP exporter sent it: ids in hex, its name, its attributes' values as text.</summary>
public sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name, IReadOnlyDictionary<string, string> Attributes,
    int StatusCode, IReadOnlyList<string> LinkedSpanIds);

/// <summary>
/// A collector on loopback that speaks OTLP/HTTP with protobuf bodies (<c>POST /v1/traces</c>), the way the service's
/// exporter sends them, and keeps every span. It reads the few fields of opentelemetry-proto's trace messages the
/// tests look at, with a protobuf reader of its own: the wire format is small, the message definitions are stable.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private WebApplication? app;

    public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        receiver.app = builder.Build();
        receiver.app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in ReadExport(body.ToArray())) receiver.Spans.Enqueue(span);
            return Results.Bytes([], "application/x-protobuf"); // an empty ExportTraceServiceResponse: all accepted
        });
        await receiver.app.StartAsync();
        receiver.BaseAddress = new Uri(receiver.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
    // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
    private static IEnumerable<ReceivedSpan> ReadExport(byte[] export) =>
        from resourceSpans in Fields(export).Where(f => f.Number == 1)
        from scopeSpans in Fields(resourceSpans.Bytes).Where(f => f.Number == 2)
        from span in Fields(scopeSpans.Bytes).Where(f => f.Number == 2)
        select ReadSpan(span.Bytes);

    // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; repeated KeyValue attributes = 9;
    //        repeated Link links = 13; Status status = 15; }  Link { bytes trace_id = 1; bytes span_id = 2; }  Status { int32 code = 3; }
    private static ReceivedSpan ReadSpan(ReadOnlyMemory<byte> span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var attributes = new Dictionary<string, string>();
        var links = new List<string>();
        var status = 0;
        foreach (var field in Fields(span))
        {
            switch (field.Number)
            {
                case 1: traceId = Convert.ToHexStringLower(field.Bytes.Span); break;
                case 2: spanId = Convert.ToHexStringLower(field.Bytes.Span); break;
                case 4: parent = Convert.ToHexStringLower(field.Bytes.Span); break;
                case 5: name = Encoding.UTF8.GetString(field.Bytes.Span); break;
                case 9:
                    var (key, value) = ReadKeyValue(field.Bytes);
                    attributes[key] = value;
                    break;
                case 13: links.AddRange(Fields(field.Bytes).Where(f => f.Number == 2).Select(f => Convert.ToHexStringLower(f.Bytes.Span))); break;
                case 15: status = (int)(Fields(field.Bytes).FirstOrDefault(f => f.Number == 3).Value); break;
            }
        }
        return new ReceivedSpan(traceId, spanId, parent, name, attributes, status, links);
    }

    // KeyValue { string key = 1; AnyValue value = 2; }  AnyValue { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; }
    private static (string Key, string Value) ReadKeyValue(ReadOnlyMemory<byte> keyValue)
    {
        string key = "", value = "";
        foreach (var field in Fields(keyValue))
        {
            if (field.Number == 1) key = Encoding.UTF8.GetString(field.Bytes.Span);
            if (field.Number != 2) continue;
            foreach (var any in Fields(field.Bytes))
            {
                value = any.Number switch
                {
                    1 => Encoding.UTF8.GetString(any.Bytes.Span),
                    2 => any.Value != 0 ? "true" : "false",
                    3 => ((long)any.Value).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    4 => BitConverter.UInt64BitsToDouble(any.Value).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    _ => value,
                };
            }
        }
        return (key, value);
    }

    private readonly record struct Field(int Number, ulong Value, ReadOnlyMemory<byte> Bytes);

    /// <summary>The fields of one protobuf message: varints and fixed numbers as values, length-delimited ones as bytes.</summary>
    private static List<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<Field>();
        var at = 0;
        var span = message.Span;
        while (at < span.Length)
        {
            var tag = ReadVarint(span, ref at);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0: fields.Add(new Field(number, ReadVarint(span, ref at), default)); break;
                case 1: fields.Add(new Field(number, BinaryPrimitives.ReadUInt64LittleEndian(span[at..]), default)); at += 8; break;
                case 2:
                    var length = (int)ReadVarint(span, ref at);
                    fields.Add(new Field(number, 0, message.Slice(at, length)));
                    at += length;
                    break;
                case 5: fields.Add(new Field(number, BinaryPrimitives.ReadUInt32LittleEndian(span[at..]), default)); at += 4; break;
                default: throw new InvalidDataException($"Unknown protobuf wire type {tag & 7}.");
            }
        }
        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = span[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null) await app.DisposeAsync();
    }
}
