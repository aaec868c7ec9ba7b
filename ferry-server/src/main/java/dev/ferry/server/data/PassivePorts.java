package dev.ferry.server.data;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.BitSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The passive port range. Hands out listeners bound to free ports of the range, round-robin so that a
 * port just released (whose last connection may still be in TIME_WAIT on the client's side) is the
 * last to be reused. Exhaustion is answered at once (null), never by waiting: the caller replies 425.
 *
 * <p>A range of 0-0 means "any ephemeral port", which the kernel chooses.
 *
 * <p>Listeners kept open between a session's transfers ({@link PassiveListener#reuse}) hold their ports only
 * while the range has room: one is kept while at most half of the range is in use, and a range that runs
 * out takes kept ones back, oldest first, before it answers "none free".
 */
public final class PassivePorts {

    private final int low;
    private final int high;
    private final BitSet inUse;
    private int next;
    /** Listeners open on kernel-chosen ports (a 0-0 range), which the bit set cannot track. */
    private int ephemeralOpen;
    /** Listeners kept for their session's next PASV/EPSV, oldest first; at most one per session. */
    private final Set<PassiveListener> kept = new LinkedHashSet<>();

    public PassivePorts(int low, int high) {
        if (low < 0 || high > 65535 || low > high || (low == 0) != (high == 0)) {
            throw new IllegalArgumentException("invalid passive port range " + low + "-" + high);
        }
        this.low = low;
        this.high = high;
        this.inUse = new BitSet(high - low + 1);
        this.next = low;
    }

    public boolean isEphemeral() {
        return low == 0;
    }

    public int size() {
        return isEphemeral() ? 0 : high - low + 1;
    }

    /** Listeners open right now (for a 0-0 range too). */
    public synchronized int inUse() {
        return isEphemeral() ? ephemeralOpen : inUse.cardinality();
    }

    /**
     * Binds a listener on {@code bindAddress} at a free port of the range, or returns null when every
     * port is taken (by us or by another process).
     */
    public PassiveListener open(InetAddress bindAddress) throws IOException {
        if (isEphemeral()) {
            PassiveListener listener = new PassiveListener(bind(bindAddress, 0), this, 0);
            synchronized (this) {
                ephemeralOpen++;
            }
            return listener;
        }
        int span = high - low + 1;
        for (int attempt = 0; attempt < span; attempt++) {
            int port = reserve();
            if (port < 0 && reclaimKept()) {
                port = reserve();
            }
            if (port < 0) {
                return null;
            }
            try {
                return new PassiveListener(bind(bindAddress, port), this, port);
            } catch (IOException portTakenElsewhere) {
                // Another process holds it: give it back and try the next one.
                release(port);
            }
        }
        return null;
    }

    /** Whether {@code listener}, which served its connection, may stay open for its session's next PASV/EPSV. */
    synchronized boolean keep(PassiveListener listener) {
        if (!isEphemeral() && inUse.cardinality() * 2 > high - low + 1) {
            return false;
        }
        kept.add(listener);
        return true;
    }

    synchronized void unkeep(PassiveListener listener) {
        kept.remove(listener);
    }

    /** Closes the oldest kept listener that is still kept; false when there is none. Not under this lock (see close). */
    private boolean reclaimKept() {
        while (true) {
            PassiveListener oldest;
            synchronized (this) {
                Iterator<PassiveListener> it = kept.iterator();
                if (!it.hasNext()) {
                    return false;
                }
                oldest = it.next();
                it.remove();
            }
            // Lock order: a listener's lock, then this one's (its close releases the port here).
            if (oldest.closeIfKept()) {
                return true;
            }
        }
    }

    private synchronized int reserve() {
        int span = high - low + 1;
        for (int i = 0; i < span; i++) {
            int port = next;
            next = port == high ? low : port + 1;
            if (!inUse.get(port - low)) {
                inUse.set(port - low);
                return port;
            }
        }
        return -1;
    }

    synchronized void release(int port) {
        if (port != 0) {
            inUse.clear(port - low);
        } else {
            ephemeralOpen--;
        }
    }

    private static ServerSocketChannel bind(InetAddress address, int port) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            // The previous data connection on this port may still be in TIME_WAIT.
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(address, port), 4);
            return server;
        } catch (IOException e) {
            server.close();
            throw e;
        }
    }
}
