package dev.ferry.protocol.proxy;

import java.net.InetSocketAddress;

/**
 * What a PROXY header says: the original client (source) and the address it connected to
 * (destination). A LOCAL (v2) or UNKNOWN (v1) header carries neither: the receiver then uses the
 * real connection's endpoints (spec §2.1, §2.2).
 *
 * <p>The two addresses may be of different families (an IPv4 client reaching an IPv6 listener); the
 * encoders then write both as IPv6, the IPv4 one in its IPv4-mapped form, as HAProxy does. Decoding
 * turns an IPv4-mapped address back into an {@link java.net.Inet4Address}, as Java's own sockets
 * report it, so a header survives an encode/decode round trip unchanged.
 */
public record ProxyHeader(InetSocketAddress source, InetSocketAddress destination) {

    private static final ProxyHeader LOCAL = new ProxyHeader(null, null);

    public ProxyHeader {
        if ((source == null) != (destination == null)) {
            throw new IllegalArgumentException("source and destination must both be set, or both be null for LOCAL");
        }
        if (source != null && (source.isUnresolved() || destination.isUnresolved())) {
            throw new IllegalArgumentException("a PROXY header carries IP addresses, not host names: "
                    + source.getHostString() + " -> " + destination.getHostString());
        }
    }

    /** The v2 LOCAL / v1 UNKNOWN header: health checks and other connections the proxy makes itself. */
    public static ProxyHeader local() {
        return LOCAL;
    }

    public boolean isLocal() {
        return source == null;
    }
}
