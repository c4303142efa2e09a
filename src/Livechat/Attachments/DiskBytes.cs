using System.Globalization;
using System.Runtime.InteropServices;

namespace Livechat.Attachments;

/// <summary>
/// Files in a folder, one sub-folder per tenant, named by the attachment's id. A file is written under a
/// temporary name in the same folder, flushed to the disk (fsync), then renamed, and the folder is flushed
/// too, so a 201 is never sent for bytes a crash could lose, and nobody ever reads half a file.
/// </summary>
public sealed class DiskBytes(string root) : IAttachmentBytes
{
    private const int BufferSize = 128 * 1024;

    public string Root { get; } = root;

    private string FolderOf(long tenantId) => Path.Combine(Root, tenantId.ToString(CultureInfo.InvariantCulture));

    public string PathOf(long tenantId, Guid id) => Path.Combine(FolderOf(tenantId), id.ToString("D"));

    public async Task WriteAsync(long tenantId, Guid id, Stream source, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateDirectory(FolderOf(tenantId)).FullName;
        var final = PathOf(tenantId, id);
        var temporary = final + ".part";
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                await source.CopyToAsync(file, BufferSize, cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, final);
            FlushFolder(folder);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public Task<Stream?> OpenReadAsync(long tenantId, Guid id, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(PathOf(tenantId, id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task DeleteAsync(long tenantId, Guid id, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(tenantId, id)); // no error when it is not there
        return Task.CompletedTask;
    }

    /// <summary>The rename is durable only once the folder that holds the name is flushed (POSIX; Windows has no such step).</summary>
    private static void FlushFolder(string folder)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        var fd = Open(folder, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"Could not open {folder} to flush it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"Could not flush {folder} (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // DllImport, not LibraryImport: the generated marshalling would need unsafe code in the project for one call.
    [DllImport("libc", EntryPoint = "open", SetLastError = true, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
