using System.Net;
using System.Net.Sockets;

namespace Livechat.Webhooks;

/// <summary>
/// Server-side request forgery guard: a webhook must not make the service call into its own network (the
/// cloud metadata service at 169.254.169.254, a database on 10.0.0.5, localhost). Checked when a URL is saved
/// and again on every connection (<see cref="ConnectAsync"/>), because a name can resolve elsewhere later.
/// </summary>
public static class NetworkGuard
{
    /// <summary>Whether <paramref name="address"/> is a public unicast address.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0                                   // 0.0.0.0/8 "this network", unspecified
                || b[0] == 10                                    // private
                || b[0] == 127                                   // loopback
                || (b[0] == 100 && (b[1] & 0xC0) == 64)          // 100.64.0.0/10 carrier-grade NAT
                || (b[0] == 169 && b[1] == 254)                  // link-local, cloud metadata
                || (b[0] == 172 && (b[1] & 0xF0) == 16)          // private
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)       // IETF protocol assignments
                || (b[0] == 192 && b[1] == 168)                  // private
                || (b[0] == 198 && (b[1] & 0xFE) == 18)          // benchmarking
                || b[0] >= 224);                                 // multicast, reserved, broadcast
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6Loopback)) return false;
        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal) return false;
        var v6 = address.GetAddressBytes();
        // IPv4-compatible (::a.b.c.d, deprecated), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address: judge that one.
        if (v6.Take(12).All(x => x == 0)) return false;
        if (v6[0] == 0x00 && v6[1] == 0x64 && v6[2] == 0xff && v6[3] == 0x9b) return IsPublic(new IPAddress(v6[12..16]));
        if (v6[0] == 0x20 && v6[1] == 0x02) return IsPublic(new IPAddress(v6[2..6]));
        if (v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8) return false; // documentation
        return true;
    }

    /// <summary>Why <paramref name="text"/> cannot be a webhook URL, or null when it can.</summary>
    public static async Task<string?> ProblemAsync(string text, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        if (text.Length > 2000) return "url must be at most 2000 characters.";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || string.IsNullOrEmpty(uri.Host))
            return "url must be an absolute http or https URL.";
        if (uri.UserInfo.Length > 0) return "url must not carry a user name or password.";
        if (allowPrivateNetworks) return null;
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.DnsSafeHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.DnsSafeHost, cancellationToken);
        }
        catch (SocketException)
        {
            return $"url's host {uri.Host} does not resolve.";
        }
        if (addresses.Length == 0) return $"url's host {uri.Host} does not resolve.";
        return addresses.All(IsPublic) ? null : $"url's host {uri.Host} resolves to a loopback, private, link-local or otherwise non-public address.";
    }

    /// <summary>
    /// <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host now and connects only to a public
    /// address (any address when private networks are allowed), so a name that resolves somewhere else at
    /// delivery time (DNS rebinding) is caught where it matters.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(a => allowPrivateNetworks || IsPublic(a)).ToArray();
        if (allowed.Length == 0) throw new RefusedAddressException(host);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A webhook's host resolved only to addresses the service may not call.</summary>
public sealed class RefusedAddressException(string host)
    : Exception($"{host} resolves to a loopback, private, link-local or otherwise non-public address: not called.");
