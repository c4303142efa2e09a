using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Livechat.Api;
using Livechat.Sessions;

namespace Livechat.Transcripts;

/// <summary>
/// Writes a transcript to the response as its pages are read (ADR 0040): the head once, each page as it comes,
/// flushed, then the end. One kind per format; what they share is the order and the names.
/// </summary>
public abstract class TranscriptWriter(TranscriptRequest request, ChatSession session) : IAsyncDisposable
{
    protected TranscriptRequest Request { get; } = request;
    protected ChatSession Session { get; } = session;

    /// <summary>How many messages were written, for the end.</summary>
    protected int Count { get; private set; }

    public abstract string ContentType { get; }

    public abstract Task BeginAsync(CancellationToken cancellationToken);

    public async Task WritePageAsync(IReadOnlyList<TranscriptMessage> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages) Write(message);
        Count += messages.Count;
        await FlushAsync(cancellationToken);
    }

    protected abstract void Write(TranscriptMessage message);

    protected abstract Task FlushAsync(CancellationToken cancellationToken);

    public abstract Task EndAsync(CancellationToken cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await DisposeCoreAsync();
        GC.SuppressFinalize(this);
    }

    protected virtual ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;

    public static TranscriptWriter For(TranscriptRequest request, ChatSession session, HttpContext context, bool isAgent) => request.Format switch
    {
        TranscriptRequest.Json => new JsonTranscriptWriter(request, session, context),
        TranscriptRequest.Html => new HtmlTranscriptWriter(request, session, new TextOut(context.Response.BodyWriter), isAgent),
        _ => new TextTranscriptWriter(request, session, new TextOut(context.Response.BodyWriter), isAgent),
    };

    /// <summary>The session's customer as a transcript names it: its name, else "Customer 42"; none when an agent started it.</summary>
    protected string? Customer => Session.CustomerId is { } id ? $"{Session.CustomerName ?? $"Customer {id}"} (user {id})" : null;

    protected string? Agent => Session.AgentId is { } id ? $"{Session.AgentName ?? $"Agent {id}"} (user {id})" : null;

    /// <summary>The zone and its offset at the session's start, so a reader knows what the times mean.</summary>
    protected string Zone => $"{Request.ZoneName} (UTC{Request.Local(Session.CreatedAt)[^6..]})";

    /// <summary>A size as people read it: 812 B, 12.3 KB, 4.5 MB.</summary>
    protected static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
    };

    protected static string MessagesWord(int count) => count == 1 ? "1 message" : $"{count} messages";
}

/// <summary>
/// Text into the response's pipe as UTF-8: writing only fills the pipe's buffers (Kestrel allows no synchronous
/// I/O), <see cref="FlushAsync"/> sends them, once per page. Each string written is whole, so no character is split.
/// </summary>
internal sealed class TextOut(System.IO.Pipelines.PipeWriter pipe)
{
    public void Write(string text) => Encoding.UTF8.GetBytes(text.AsSpan(), pipe);

    public void WriteLine(string text = "")
    {
        Write(text);
        Write("\n");
    }

    public async Task FlushAsync(CancellationToken cancellationToken) => await pipe.FlushAsync(cancellationToken);
}

/// <summary>Plain text: a header, then one block per message, "[time] Sender: text", continuation lines and files indented.</summary>
internal sealed class TextTranscriptWriter(TranscriptRequest request, ChatSession session, TextOut writer, bool isAgent) : TranscriptWriter(request, session)
{

    public override string ContentType => "text/plain; charset=utf-8";

    public override Task BeginAsync(CancellationToken cancellationToken)
    {
        writer.WriteLine("Chat transcript");
        writer.WriteLine($"Session:  {Session.Id}");
        if (Customer is { } customer) writer.WriteLine($"Customer: {customer}");
        if (Agent is { } agent) writer.WriteLine($"Agent:    {agent}");
        writer.WriteLine($"Started:  {Request.Readable(Session.CreatedAt)}");
        writer.WriteLine($"Status:   {Session.Status}");
        if (Session.Labels is { Count: > 0 } labels) writer.WriteLine($"Labels:   {string.Join(", ", labels)}");
        writer.WriteLine($"Times in: {Zone}");
        if (isAgent) writer.WriteLine("Internal notes, which only agents read, are marked [internal note].");
        writer.WriteLine();
        return FlushAsync(cancellationToken);
    }

    protected override void Write(TranscriptMessage message)
    {
        writer.Write($"[{Request.Readable(message.CreatedAt)}] {message.Sender}");
        if (message.Internal) writer.Write(" [internal note]");
        writer.Write(": ");
        var first = true;
        foreach (var line in message.Message.ReplaceLineEndings("\n").Split('\n'))
        {
            if (!first) writer.Write("    ");
            writer.WriteLine(line);
            first = false;
        }
        foreach (var file in message.Attachments ?? []) writer.WriteLine($"    [attachment] {file.FileName} ({file.ContentType}, {Size(file.Size)})");
    }

    protected override Task FlushAsync(CancellationToken cancellationToken) => writer.FlushAsync(cancellationToken);

    public override async Task EndAsync(CancellationToken cancellationToken)
    {
        writer.WriteLine();
        writer.WriteLine($"End of transcript: {MessagesWord(Count)}.");
        await writer.FlushAsync(cancellationToken);
    }
}

/// <summary>
/// A page of HTML that stands on its own: every text from the data is HTML-encoded, and its own Content-Security-Policy
/// allows no script, so even a file saved and opened later runs nothing.
/// </summary>
internal sealed class HtmlTranscriptWriter(TranscriptRequest request, ChatSession session, TextOut writer, bool isAgent) : TranscriptWriter(request, session)
{

    public override string ContentType => "text/html; charset=utf-8";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Style = """
        body { font: 15px/1.45 system-ui, sans-serif; color: #1d2330; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
        h1 { font-size: 1.4rem; margin: 0 0 .75rem; }
        dl.head { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0 0 1.25rem; color: #4a5263; }
        dl.head dt { font-weight: 600; }
        dl.head dd { margin: 0; }
        ol.messages { list-style: none; padding: 0; margin: 0; }
        ol.messages > li { border: 1px solid #dfe3ea; border-radius: 8px; padding: .5rem .75rem; margin: 0 0 .5rem; }
        li.agent { background: #eef4ff; }
        li.note { background: #fff4c2; border-color: #e6cf6a; }
        .meta { font-size: .85rem; color: #4a5263; margin-bottom: .2rem; }
        .sender { font-weight: 600; color: #1d2330; }
        .tag { font-size: .75rem; font-weight: 600; text-transform: uppercase; color: #7a5c00; margin-left: .4rem; }
        .text { white-space: pre-wrap; overflow-wrap: anywhere; }
        ul.files { margin: .3rem 0 0; padding-left: 1.2rem; font-size: .9rem; }
        p.end { color: #4a5263; font-size: .9rem; }
        """;

    public override Task BeginAsync(CancellationToken cancellationToken)
    {
        var title = $"Chat transcript · {Session.CustomerName ?? (Session.CustomerId is { } id ? $"Customer {id}" : Session.Id.ToString())}";
        writer.WriteLine("<!doctype html>");
        writer.WriteLine("<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">");
        writer.WriteLine("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">");
        writer.WriteLine("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        writer.WriteLine($"<title>{E(title)}</title>");
        writer.WriteLine($"<style>\n{Style}\n</style>\n</head>\n<body>");
        writer.WriteLine("<h1>Chat transcript</h1>");
        writer.WriteLine("<dl class=\"head\">");
        Row("Session", Session.Id.ToString());
        if (Customer is { } customer) Row("Customer", customer);
        if (Agent is { } agent) Row("Agent", agent);
        Row("Started", Request.Readable(Session.CreatedAt));
        Row("Status", Session.Status);
        if (Session.Labels is { Count: > 0 } labels) Row("Labels", string.Join(", ", labels));
        Row("Times in", Zone);
        writer.WriteLine("</dl>");
        if (isAgent) writer.WriteLine("<p class=\"hint\">Internal notes, which only agents read, are shown in yellow.</p>");
        writer.WriteLine("<ol class=\"messages\">");
        return FlushAsync(cancellationToken);

        void Row(string name, string value) => writer.WriteLine($"<dt>{E(name)}</dt><dd>{E(value)}</dd>");
    }

    protected override void Write(TranscriptMessage message)
    {
        var kind = message.Internal ? "note" : message.SenderIsAgent ? "agent" : "customer";
        writer.Write($"<li class=\"{kind}\" id=\"m-{message.Id}\"><div class=\"meta\"><span class=\"sender\">{E(message.Sender)}</span> ");
        writer.Write($"<time datetime=\"{message.LocalTime}\">{Request.Readable(message.CreatedAt)}</time>");
        if (message.Internal) writer.Write("<span class=\"tag\">Internal note</span>");
        writer.Write($"</div><div class=\"text\">{E(message.Message)}</div>");
        if (message.Attachments is { Count: > 0 } files)
        {
            writer.Write("<ul class=\"files\">");
            foreach (var file in files) writer.Write($"<li>{E(file.FileName)} <small>({E(file.ContentType)}, {Size(file.Size)})</small></li>");
            writer.Write("</ul>");
        }
        writer.WriteLine("</li>");
    }

    protected override Task FlushAsync(CancellationToken cancellationToken) => writer.FlushAsync(cancellationToken);

    public override async Task EndAsync(CancellationToken cancellationToken)
    {
        writer.WriteLine("</ol>");
        writer.WriteLine($"<p class=\"end\">End of transcript: {MessagesWord(Count)}.</p>\n</body>\n</html>");
        await writer.FlushAsync(cancellationToken);
    }
}

/// <summary>
/// The envelope (contract section 2) with a <see cref="Transcript"/> as its data, written member by member with the
/// wire options (names, timestamps, escaping as every other answer), the messages one at a time into the array.
/// </summary>
internal sealed class JsonTranscriptWriter : TranscriptWriter
{
    private readonly HttpContext context;
    private readonly JsonSerializerOptions options;
    private readonly Utf8JsonWriter writer;

    public JsonTranscriptWriter(TranscriptRequest request, ChatSession session, HttpContext context) : base(request, session)
    {
        this.context = context;
        options = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Wire();
        writer = new Utf8JsonWriter(context.Response.BodyWriter, new JsonWriterOptions { Encoder = options.Encoder, SkipValidation = false });
    }

    public override string ContentType => "application/json; charset=utf-8";

    private JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));

    private string Name(string property) => options.PropertyNamingPolicy?.ConvertName(property) ?? property;

    public override Task BeginAsync(CancellationToken cancellationToken)
    {
        writer.WriteStartObject();
        writer.WriteBoolean(Name(nameof(ApiResponse<Transcript>.Success)), true);
        writer.WriteString(Name(nameof(ApiResponse<Transcript>.Message)), "Transcript of the chat.");
        writer.WritePropertyName(Name(nameof(ApiResponse<Transcript>.Data)));
        writer.WriteStartObject();
        writer.WritePropertyName(Name(nameof(Transcript.Session)));
        JsonSerializer.Serialize(writer, Session, Info<ChatSession>());
        writer.WriteString(Name(nameof(Transcript.TimeZone)), Request.ZoneName);
        writer.WritePropertyName(Name(nameof(Transcript.Messages)));
        writer.WriteStartArray();
        return FlushAsync(cancellationToken);
    }

    protected override void Write(TranscriptMessage message) => JsonSerializer.Serialize(writer, message, Info<TranscriptMessage>());

    protected override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await writer.FlushAsync(cancellationToken);
        await context.Response.BodyWriter.FlushAsync(cancellationToken);
    }

    public override async Task EndAsync(CancellationToken cancellationToken)
    {
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WritePropertyName(Name(nameof(ApiResponse<Transcript>.Meta)));
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        JsonSerializer.Serialize(writer, new Meta(context.RequestId(), now), Info<Meta>());
        writer.WriteNull(Name(nameof(ApiResponse<Transcript>.Errors)));
        writer.WriteEndObject();
        await FlushAsync(cancellationToken);
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        await writer.DisposeAsync();
        await base.DisposeCoreAsync();
    }
}
