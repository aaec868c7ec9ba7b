package dev.ferry.balancer.admin;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Slows down password guessing on the admin listener: each address that failed to log in waits
 * before its next attempt is checked, {@link #FIRST_DELAY} after one failure, doubling with each
 * further failure up to {@link #MAX_DELAY}. A success, or {@link #FORGET_AFTER} without a failure,
 * starts the address from zero. A mistyped password costs a quarter of a second; a thousand
 * guesses cost hours.
 *
 * <p>An IPv6 client is tracked by its /64 prefix (one host usually owns a whole /64 and could
 * change address for every guess), as the FTP server's LoginGuard does.
 *
 * <p>Bounded: at most {@link #MAX_TRACKED} addresses, the one whose last failure is oldest
 * forgotten first. Thread-safe; every operation is O(1) under this object's lock.
 */
public final class LoginThrottle {

    static final Duration FIRST_DELAY = Duration.ofMillis(250);
    static final Duration MAX_DELAY = Duration.ofSeconds(8);
    static final Duration FORGET_AFTER = Duration.ofMinutes(15);
    static final int MAX_TRACKED = 4096;

    private final LongSupplier nanoClock;
    private final int maxTracked;
    private final Duration firstDelay;
    /** Guarded by this; iteration order is the time of the last failure, oldest first. */
    private final LinkedHashMap<InetAddress, Failures> tracked = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Failures> eldest) {
            return size() > maxTracked;
        }
    };

    private record Failures(int count, long lastNanos) {}

    public LoginThrottle() {
        this(System::nanoTime, MAX_TRACKED, FIRST_DELAY);
    }

    /** Tests: a clock of their own, a small bound, and a short first delay so failures cost no wall time. */
    LoginThrottle(LongSupplier nanoClock, int maxTracked, Duration firstDelay) {
        this.nanoClock = nanoClock;
        this.maxTracked = maxTracked;
        this.firstDelay = firstDelay;
    }

    /** How long to wait before checking a login from {@code client}. */
    public synchronized Duration delayFor(InetAddress client) {
        Failures f = current(key(client));
        if (f == null) {
            return Duration.ZERO;
        }
        // first x 2^(n-1), capped: the shift is bounded so it cannot overflow.
        long nanos = firstDelay.toNanos() << Math.min(f.count() - 1, 16);
        return Duration.ofNanos(Math.min(nanos, MAX_DELAY.toNanos()));
    }

    public synchronized void failed(InetAddress client) {
        InetAddress key = key(client);
        Failures f = current(key);
        tracked.remove(key);   // re-inserted last: most recent failure
        tracked.put(key, new Failures(f == null ? 1 : Math.min(f.count() + 1, 1_000_000), nanoClock.getAsLong()));
    }

    public synchronized void succeeded(InetAddress client) {
        tracked.remove(key(client));
    }

    /** Addresses with failures on record (forgotten ones may still count until they are looked at). */
    public synchronized int tracked() {
        return tracked.size();
    }

    private Failures current(InetAddress key) {
        Failures f = tracked.get(key);
        if (f != null && nanoClock.getAsLong() - f.lastNanos() > FORGET_AFTER.toNanos()) {
            tracked.remove(key);
            return null;
        }
        return f;
    }

    private static InetAddress key(InetAddress a) {
        if (!(a instanceof Inet6Address)) {
            return a;
        }
        byte[] prefix = Arrays.copyOf(a.getAddress(), 16);
        Arrays.fill(prefix, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(prefix);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("16 bytes are an IPv6 address", e);
        }
    }
}
