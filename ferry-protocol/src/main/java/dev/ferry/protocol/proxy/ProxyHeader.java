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
 *
 * <p>{@code uniqueId}: the proxy's own id of the connection (v2 only, spec §2.2.5, PP2_TYPE_UNIQUE_ID), so that
 * the receiver can log it and a session's lines on both sides can be matched without comparing ports; null
 * when there is none. Ferry's ids are printable ASCII; a received id that is not is kept as hex.
 */
public record ProxyHeader(InetSocketAddress source, InetSocketAddress destination, String uniqueId) {

    /** Spec §2.2.5: "an opaque byte sequence of up to 128 bytes". */
    public static final int UNIQUE_ID_LIMIT = 128;

    private static final ProxyHeader LOCAL = new ProxyHeader(null, null);

    public ProxyHeader(InetSocketAddress source, InetSocketAddress destination) {
        this(source, destination, null);
    }

    public ProxyHeader {
        // The hex form of a received binary id is 2 + 2 * 128 characters; what is sent is checked by the encoder.
        if (uniqueId != null && (uniqueId.isEmpty() || uniqueId.length() > 2 + 2 * UNIQUE_ID_LIMIT
                || !uniqueId.chars().allMatch(c -> c > 0x20 && c < 0x7F))) {
            throw new IllegalArgumentException("a PROXY unique ID is printable ASCII, up to " + UNIQUE_ID_LIMIT + " bytes");
        }
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

    /** This header carrying the proxy's id of the connection (sent in v2 only; v1 has no room for it). */
    public ProxyHeader withUniqueId(String id) {
        return new ProxyHeader(source, destination, id);
    }
}
