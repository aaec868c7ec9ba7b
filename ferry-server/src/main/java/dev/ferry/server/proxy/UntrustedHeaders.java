package dev.ferry.server.proxy;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Which PROXY headers from untrusted peers are worth a WARN line. A header from a peer outside
 * {@code proxy-protocol.trusted} is almost always a balancer the server was not told to trust, and the
 * operator must hear of it; but anyone can send one, so the warnings are bounded: one per address per
 * {@link #PER_ADDRESS}, and at most {@link #PER_MINUTE} a minute in all, so a flood from many addresses
 * cannot fill the log either. The addresses remembered are bounded too ({@link #MAX_ADDRESSES}, oldest
 * forgotten first); a forgotten address may warn again, within the overall bound. The next warning
 * after suppressed ones says how many were suppressed.
 */
public final class UntrustedHeaders {

    static final Duration PER_ADDRESS = Duration.ofMinutes(1);
    static final int PER_MINUTE = 10;
    static final int MAX_ADDRESSES = 256;

    private static final long MINUTE_NANOS = Duration.ofMinutes(1).toNanos();

    /** A warning to log; {@code suppressed}: events not logged since the previous warning. */
    public record Warning(long suppressed) {}

    private final LongSupplier nanoClock;
    // Insertion order is warning order: an address is put only when it warns, its entry expired or absent.
    private final LinkedHashMap<InetAddress, Long> warnedAt = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Long> eldest) {
            return size() > MAX_ADDRESSES;
        }
    };
    private long windowStart;
    private int inWindow;
    private long suppressed;

    public UntrustedHeaders() {
        this(System::nanoTime);
    }

    UntrustedHeaders(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.windowStart = nanoClock.getAsLong();
    }

    /** Records a header from {@code peer}; returns the warning to log, or null when this one is to be suppressed. */
    public synchronized Warning record(InetAddress peer) {
        long now = nanoClock.getAsLong();
        forgetOlderThan(now - PER_ADDRESS.toNanos());
        if (now - windowStart >= MINUTE_NANOS) {
            windowStart = now;
            inWindow = 0;
        }
        if (warnedAt.containsKey(peer) || inWindow >= PER_MINUTE) {
            suppressed++;
            return null;
        }
        warnedAt.put(peer, now);
        inWindow++;
        Warning warning = new Warning(suppressed);
        suppressed = 0;
        return warning;
    }

    /** Addresses remembered (for tests: the memory stays bounded). */
    synchronized int remembered() {
        return warnedAt.size();
    }

    private void forgetOlderThan(long cutoff) {
        Iterator<Long> times = warnedAt.values().iterator();
        while (times.hasNext() && times.next() - cutoff <= 0) {
            times.remove();
        }
    }
}
