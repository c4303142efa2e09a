using System.Globalization;
using System.Text.Json.Serialization;
using Livechat.Api;
using Livechat.Sessions;

namespace Livechat.Transcripts;

/// <summary>
/// <c>format=json</c> of <c>GET /livechat/sessions/{id}/transcript</c> (contract section 19): the envelope's <c>data</c>.
/// It is written as it is read (<see cref="TranscriptWriter"/>), so <see cref="Messages"/> is never a list in memory:
/// this record only names the shape for the OpenAPI document and the TypeScript client.
/// </summary>
public sealed record Transcript(ChatSession Session, string TimeZone, IReadOnlyList<TranscriptMessage> Messages);

/// <summary>
/// One message of a transcript: who wrote it (the sender's remembered name, and whether it is an agent), when (in
/// UTC as everywhere on the wire, and in the transcript's time zone), what, and the files it carried, by name.
/// </summary>
public sealed record TranscriptMessage(
    Guid Id,
    long SenderId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SenderName,
    bool SenderIsAgent,
    string Message,
    DateTimeOffset CreatedAt,
    string LocalTime)
{
    /// <summary>An internal note (contract section 16); only agents' transcripts hold them. Absent on ordinary messages.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Internal { get; init; }

    /// <summary>The files the message carried, in upload order; absent when none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<TranscriptAttachment>? Attachments { get; init; }

    /// <summary>How the txt and html transcripts name the sender: its name, else "Agent 42" or "Customer 42" (as the desk does).</summary>
    [JsonIgnore]
    public string Sender => SenderName ?? (SenderIsAgent ? $"Agent {SenderId}" : $"Customer {SenderId}");
}

/// <summary>A file a message carried, by name: a transcript is an archive, so it holds no download link (links expire).</summary>
public sealed record TranscriptAttachment(Guid Id, string FileName, string ContentType, long Size);

/// <summary>The formats of a transcript, and what the caller asked for (<c>format</c>, <c>tz</c>), each refused on its own key.</summary>
public sealed record TranscriptRequest(string Format, TimeZoneInfo TimeZone)
{
    public const string Text = "txt";
    public const string Json = "json";
    public const string Html = "html";

    public static (TranscriptRequest? Request, BadRequestError? Error) Parse(IQueryCollection query)
    {
        var format = query["format"].ToString();
        if (format.Length == 0) format = Text;
        if (format is not (Text or Json or Html)) return (null, ApiError.BadRequest("format", "format must be txt, json or html."));
        var (zone, zoneError) = TimeZoneQuery.Read(query);
        return zone is null ? (null, zoneError) : (new TranscriptRequest(format, zone), null);
    }

    /// <summary>An instant in the transcript's zone, as RFC 3339 with the zone's offset (<c>2026-12-05T11:30:05+07:00</c>).</summary>
    public string Local(DateTimeOffset instant) =>
        TimeZoneInfo.ConvertTime(instant, TimeZone).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    /// <summary>An instant in the transcript's zone as people read it (<c>2026-12-05 11:30:05</c>).</summary>
    public string Readable(DateTimeOffset instant) =>
        TimeZoneInfo.ConvertTime(instant, TimeZone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>The zone's name as the caller gave it (IANA), <c>UTC</c> by default.</summary>
    public string ZoneName => TimeZone == TimeZoneInfo.Utc ? "UTC" : TimeZone.Id;
}
