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
    /// <summary>
    /// The blocks a webhook may not call: every entry of IANA's IPv4 and IPv6 Special-Purpose Address Registries
    /// (RFC 6890 and its updates) that is not globally reachable, plus multicast, broadcast and the deprecated
    /// IPv4-compatible and site-local blocks. 192.0.0.0/24 and 2001::/23 are refused whole: their few globally
    /// reachable entries are anycast services (PCP, TURN, AMT, AS112, ORCHIDv2, drone DETs), never a tenant's
    /// receiver. NAT64 (64:ff9b::/96) and 6to4 (2002::/16) are not here: they carry an IPv4 address, which
    /// <see cref="IsPublic"/> judges instead.
    /// </summary>
    public static readonly IReadOnlyList<(IPNetwork Block, string Name)> Refused =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "this network"),
        (IPNetwork.Parse("10.0.0.0/8"), "private use"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared address space (carrier-grade NAT)"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link local (cloud metadata)"),
        (IPNetwork.Parse("172.16.0.0/12"), "private use"),
        (IPNetwork.Parse("192.0.0.0/24"), "IETF protocol assignments"),
        (IPNetwork.Parse("192.0.2.0/24"), "documentation (TEST-NET-1)"),
        (IPNetwork.Parse("192.88.99.0/24"), "deprecated 6to4 relay anycast"),
        (IPNetwork.Parse("192.168.0.0/16"), "private use"),
        (IPNetwork.Parse("198.18.0.0/15"), "benchmarking"),
        (IPNetwork.Parse("198.51.100.0/24"), "documentation (TEST-NET-2)"),
        (IPNetwork.Parse("203.0.113.0/24"), "documentation (TEST-NET-3)"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved, and the limited broadcast 255.255.255.255"),
        (IPNetwork.Parse("::/96"), "unspecified, loopback, deprecated IPv4-compatible"),
        (IPNetwork.Parse("::ffff:0:0/96"), "IPv4-mapped"),
        (IPNetwork.Parse("::ffff:0:0:0/96"), "IPv4-translated (RFC 6145)"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "local-use IPv4/IPv6 translation"),
        (IPNetwork.Parse("100::/64"), "discard-only"),
        (IPNetwork.Parse("100:0:0:1::/64"), "dummy IPv6 prefix"),
        (IPNetwork.Parse("2001::/23"), "IETF protocol assignments (Teredo, benchmarking, ORCHID...)"),
        (IPNetwork.Parse("2001:db8::/32"), "documentation"),
        (IPNetwork.Parse("3fff::/20"), "documentation"),
        (IPNetwork.Parse("5f00::/16"), "segment routing (SRv6) SIDs"),
        (IPNetwork.Parse("fc00::/7"), "unique local"),
        (IPNetwork.Parse("fe80::/10"), "link local"),
        (IPNetwork.Parse("fec0::/10"), "deprecated site local"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    private static readonly IPNetwork GlobalUnicast = IPNetwork.Parse("2000::/3");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    /// <summary>Whether <paramref name="address"/> is a public unicast address.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) return false;
        // fe80::1%eth0 is fe80::1 (ScopeId throws for IPv4).
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0) address = new IPAddress(address.GetAddressBytes());
        // IPNetwork.Contains judges an IPv4-mapped address (::ffff:0:0/96) by its IPv4 part; the block is refused whole.
        if (address.IsIPv4MappedToIPv6) return false;
        foreach (var (block, _) in Refused)
        {
            if (block.Contains(address)) return false;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork) return true;
        // NAT64 and 6to4 reach the IPv4 address they carry: judge that one.
        var v6 = address.GetAddressBytes();
        if (Nat64.Contains(address)) return IsPublic(new IPAddress(v6[12..16]));
        if (SixToFour.Contains(address)) return IsPublic(new IPAddress(v6[2..6]));
        // Outside 2000::/3 the rest of the IPv6 space is unassigned: nothing there is a public receiver.
        return GlobalUnicast.Contains(address);
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
