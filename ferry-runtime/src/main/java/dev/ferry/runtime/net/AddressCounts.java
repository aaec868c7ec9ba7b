package dev.ferry.runtime.net;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connections held per client address, for a per-address limit (ferry server's sessions, the balancer's
 * connections). One entry per address that holds a connection, none at zero: the map is bounded by the
 * connections held. An IPv4 client seen as {@code ::ffff:a.b.c.d} is the same address as {@code a.b.c.d}.
 */
public final class AddressCounts {

    private final ConcurrentHashMap<InetAddress, Integer> counts = new ConcurrentHashMap<>();

    /** Counts one more connection from {@code address}, unless it already holds {@code limit}: then false, and nothing counted. */
    public boolean tryAdd(InetAddress address, int limit) {
        boolean[] added = {false};
        // One atomic step per address, so that a concurrent remove never loses a count.
        counts.compute(key(address), (a, n) -> {
            int now = n == null ? 0 : n;
            if (now >= limit) {
                return n;
            }
            added[0] = true;
            return now + 1;
        });
        return added[0];
    }

    /** One connection counted by {@link #tryAdd} ended. */
    public void remove(InetAddress address) {
        counts.computeIfPresent(key(address), (a, n) -> n <= 1 ? null : n - 1);
    }

    /** Connections from {@code address} now. */
    public int count(InetAddress address) {
        return counts.getOrDefault(key(address), 0);
    }

    /** Addresses holding at least one connection. */
    public int addresses() {
        return counts.size();
    }

    /**
     * One key per host: an IPv4 client reaching a dual-stack listener may be seen as ::ffff:a.b.c.d (RFC 4291
     * §2.5.5.2), and counts against the same limit as when it arrives as a.b.c.d.
     */
    static InetAddress key(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
            for (int i = 0; i < 10 && mapped; i++) {
                mapped = b[i] == 0;
            }
            if (mapped) {
                try {
                    return InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
                } catch (UnknownHostException e) {
                    throw new AssertionError("four bytes are an IPv4 address", e);
                }
            }
        }
        return address;
    }
}
