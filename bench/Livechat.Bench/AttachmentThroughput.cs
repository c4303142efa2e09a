using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

/// <summary>
/// Attachments (issue 24's targets), each against a reference measured in the same run, in alternating rounds
/// (the machine's speed drifts from one minute to the next, so each ratio compares the same minute; the ratio
/// printed is the median of the rounds'):
/// <list type="bullet">
/// <item>16 concurrent uploads of 10 MiB: the service's RSS over its idle value (its peak, sampled every 20 ms),
/// and MiB/s against the disk's own rate writing and fsyncing the same 16 files at once, in the folder the
/// service stores them in.</item>
/// <item>Downloads of one 10 MiB attachment through its signed url at c=16, against Kestrel serving that very file
/// from the store's folder as a plain static file (in this process).</item>
/// <item>A send with one (small, staged) attachment against a plain send, by the same tenant users at c=16.</item>
/// </list>
/// </summary>
internal static class AttachmentThroughput
{
    private const int FileBytes = 10 * 1024 * 1024;
    private const int Concurrent = 16;
    private const double MiB = 1024 * 1024;

    public static async Task RunAsync(Service service, int seconds, int rounds, int sends)
    {
        var file = new byte[FileBytes];
        new Random(24).NextBytes(file);
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        png.CopyTo(file, 0);
        var conversations = await service.ConversationsAsync(Concurrent);

        // Warm: a few uploads, downloads and sends, not measured; then the idle RSS.
        var warm = await service.UploadAsync(conversations[0].User, conversations[0].Session, file, "warm.png");
        await service.DownloadAsync(warm.Url);
        await SendsAsync(service, conversations, 64, await StageAsync(service, conversations, 64, png));
        await SendsAsync(service, conversations, 64, null);
        GC.Collect();
        await Task.Delay(2000);
        var idle = service.RssBytes();

        var store = Path.Combine(service.Folder, "attachments", "1");
        var uploadRatios = new List<double>();
        var uploadRates = new List<double>();
        var diskRates = new List<double>();
        long peak = idle;
        for (var round = 0; round < rounds; round++)
        {
            var disk = await DiskRateAsync(store, file);
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, service.RssBytes());
                    await Task.Delay(20);
                }
            });
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(i =>
                service.UploadAsync(conversations[i].User, conversations[i].Session, file, $"upload-{round}-{i}.png")));
            var upload = Concurrent * FileBytes / MiB / clock.Elapsed.TotalSeconds;
            await sampling.CancelAsync();
            await sampler;
            uploadRates.Add(upload);
            diskRates.Add(disk);
            uploadRatios.Add(upload / disk);
        }

        // Kestrel serving the attachment's own file, statically, from the store's folder.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var statics = builder.Build();
        statics.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(store), ServeUnknownFileTypes = true });
        await statics.StartAsync();
        var staticBase = statics.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var staticUrl = $"{staticBase}/{warm.Id}";
        var downloadRatios = new List<double>();
        var downloadRates = new List<double>();
        var staticRates = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var fromStatic = await service.DownloadRateAsync(Concurrent, seconds, () => staticUrl, FileBytes) / MiB;
            // A fresh link each round: they are valid 15 minutes.
            var url = (await service.GetDataAsync(conversations[0].User, $"/livechat/attachments/{warm.Id}")).Data.GetProperty("url").GetString()!;
            var fromService = await service.DownloadRateAsync(Concurrent, seconds, () => url, FileBytes) / MiB;
            downloadRates.Add(fromService);
            staticRates.Add(fromStatic);
            downloadRatios.Add(fromService / fromStatic);
        }
        await statics.StopAsync();

        var sendRatios = new List<double>();
        var plainRates = new List<double>();
        var attachedRates = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            // The uploads first, not timed; then both loads back to back, in the other order each round.
            var staged = await StageAsync(service, conversations, sends, png);
            double plain, attached;
            if (round % 2 == 0)
            {
                plain = await SendsAsync(service, conversations, sends, null);
                attached = await SendsAsync(service, conversations, sends, staged);
            }
            else
            {
                attached = await SendsAsync(service, conversations, sends, staged);
                plain = await SendsAsync(service, conversations, sends, null);
            }
            plainRates.Add(plain);
            attachedRates.Add(attached);
            sendRatios.Add(plain / attached);
        }

        // One client, alternating: the latency of each kind of send with nothing else going on.
        var probe = await StageAsync(service, conversations[..1], 200, png);
        var plainMs = new List<double>();
        var attachedMs = new List<double>();
        for (var n = 0; n < 200; n++)
        {
            var started = Stopwatch.GetTimestamp();
            await service.PostCreatedAsync(conversations[0].User, $"/livechat/sessions/{conversations[0].Session}/messages", "{\"message\":\"probe\"}");
            plainMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            started = Stopwatch.GetTimestamp();
            await service.PostCreatedAsync(conversations[0].User, $"/livechat/sessions/{conversations[0].Session}/messages",
                $"{{\"message\":\"probe\",\"attachment_ids\":[\"{probe[0][n]}\"]}}");
            attachedMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        Console.WriteLine();
        Console.WriteLine($"## Attachments on {service.Name} ({service.Store} store), {rounds} alternating rounds each");
        Console.WriteLine();
        Console.WriteLine("| measure | rounds | median | target |");
        Console.WriteLine("| --- | --- | --- | --- |");
        Console.WriteLine($"| 16 × 10 MiB uploads at once, MiB/s | {List(uploadRates)} | {Median(uploadRates):0} | |");
        Console.WriteLine($"| the disk writing + fsyncing the same 16 files at once, MiB/s | {List(diskRates)} | {Median(diskRates):0} | |");
        Console.WriteLine($"| upload / disk | {List(uploadRatios, "0.00")} | **{Median(uploadRatios):0.00}** | ≥ 0.5 |");
        Console.WriteLine($"| service RSS growth over idle ({idle / MiB:0} MiB) during the uploads, MiB (peak of all rounds) | | **{(peak - idle) / MiB:0}** | < 64 |");
        Console.WriteLine($"| downloads of a 10 MiB file at c=16, MiB/s | {List(downloadRates)} | {Median(downloadRates):0} | |");
        Console.WriteLine($"| Kestrel serving the same file statically at c=16, MiB/s | {List(staticRates)} | {Median(staticRates):0} | |");
        Console.WriteLine($"| download / static | {List(downloadRatios, "0.00")} | **{Median(downloadRatios):0.00}** | ≥ 0.5 |");
        Console.WriteLine($"| plain sends at c=16, messages/s | {List(plainRates)} | {Median(plainRates):0} | |");
        Console.WriteLine($"| sends with one attachment at c=16, messages/s | {List(attachedRates)} | {Median(attachedRates):0} | |");
        Console.WriteLine($"| cost of a send with one attachment / a plain send | {List(sendRatios, "0.00")} | **{Median(sendRatios):0.00}** | ≤ 1.3 |");
        Console.WriteLine($"| one client alternating, median latency of a plain send / a send with one attachment, ms | | {Median(plainMs):0.00} / {Median(attachedMs):0.00} | |");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT upload={Median(uploadRates):0} disk={Median(diskRates):0} upload_disk={Median(uploadRatios):0.00} rss_growth_mib={(peak - idle) / MiB:0} download={Median(downloadRates):0} static={Median(staticRates):0} download_static={Median(downloadRatios):0.00} send_plain={Median(plainRates):0} send_attached={Median(attachedRates):0} send_cost={Median(sendRatios):0.00}"));
    }

    /// <summary>One small staged upload per send to come, by each conversation's tenant user.</summary>
    private static async Task<string[][]> StageAsync(Service service, List<Conversation> conversations, int count, byte[] png)
    {
        var perClient = count / conversations.Count;
        var staged = new string[conversations.Count][];
        await Task.WhenAll(conversations.Select(async (c, i) =>
        {
            staged[i] = new string[perClient];
            for (var n = 0; n < perClient; n++) staged[i][n] = (await service.UploadAsync(c.User, c.Session, png, $"s{n}.png")).Id;
        }));
        return staged;
    }

    /// <summary>
    /// <paramref name="count"/> sends by the conversations' tenant users, c=16 (one per conversation), each with one of
    /// <paramref name="staged"/>'s uploads, or plain without. Messages/s.
    /// </summary>
    private static async Task<double> SendsAsync(Service service, List<Conversation> conversations, int count, string[][]? staged)
    {
        var perClient = count / conversations.Count;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(conversations.Select((c, i) => Task.Run(async () =>
        {
            for (var n = 0; n < perClient; n++)
            {
                var body = staged is null ? $"{{\"message\":\"file {n}\"}}" : $"{{\"message\":\"file {n}\",\"attachment_ids\":[\"{staged[i][n]}\"]}}";
                await service.PostCreatedAsync(c.User, $"/livechat/sessions/{c.Session}/messages", body);
            }
        })));
        return perClient * conversations.Count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The disk's own rate: the same 16 files written at once beside the store, each fsynced, in MiB/s.</summary>
    private static async Task<double> DiskRateAsync(string folder, byte[] file)
    {
        var reference = Path.Combine(Path.GetDirectoryName(folder)!, "disk-reference");
        Directory.CreateDirectory(reference);
        try
        {
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(i => Task.Run(async () =>
            {
                await using var stream = new FileStream(Path.Combine(reference, $"{i}.part"), FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                for (var offset = 0; offset < file.Length; offset += 81920) await stream.WriteAsync(file.AsMemory(offset, Math.Min(81920, file.Length - offset)));
                stream.Flush(flushToDisk: true);
            })));
            return Concurrent * FileBytes / MiB / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            Directory.Delete(reference, recursive: true);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string List(List<double> values, string format = "0") => string.Join(" / ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));
}

internal sealed record Uploaded(string Id, string Url);

internal static class UploadRequests
{
    public static MultipartFormDataContent Multipart(byte[] bytes, string fileName)
    {
        var content = new MultipartFormDataContent();
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(part, "file", fileName);
        return content;
    }
}
