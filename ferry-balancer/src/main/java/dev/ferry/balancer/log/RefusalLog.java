package dev.ferry.balancer.log;

import dev.ferry.runtime.log.Event;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.event.Level;

/**
 * Bounds the lines of what the balancer refuses before any work (an address over its limit, a full queue,
 * a login timeout, a PORT to a port it will not connect to, a data connection from the wrong host). Each
 * refusal costs the sender one connection or one command, so a flood from one address, or from many, would
 * otherwise write a line per attempt until the disk fills. At most {@link #PER_SECOND} refusal lines a second
 * are written at INFO; the others go to DEBUG (visible only when debugging) and are counted, and the next
 * INFO line says how many with {@code suppressed=N}. One bound for all addresses: what fail2ban reads is
 * complete in a trickle, and a flood large enough to reach the bound is for the firewall's rate limits.
 */
public final class RefusalLog {

    public static final int PER_SECOND = 20;

    private static final long WINDOW_NANOS = Duration.ofSeconds(1).toNanos();

    private final LongSupplier nanoClock;
    private long windowStart;
    private int inWindow;
    private long suppressed;

    public RefusalLog() {
        this(System::nanoTime);
    }

    public RefusalLog(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.windowStart = nanoClock.getAsLong();
    }

    /**
     * Logs one refusal: {@code line} starts it at the level this refusal gets (INFO within the bound, DEBUG
     * over it) with its fields; {@code suppressed=N} is added when refusals went to DEBUG before it.
     */
    public void log(Function<Level, Event> line) {
        long before = admit();
        Event e = line.apply(before < 0 ? Level.DEBUG : Level.INFO);
        if (before > 0) {
            e.with("suppressed", before);
        }
        e.log();
    }

    /** -1: over the bound (counted); otherwise how many were over it since the last line within it. */
    synchronized long admit() {
        long now = nanoClock.getAsLong();
        if (now - windowStart >= WINDOW_NANOS) {
            windowStart = now;
            inWindow = 0;
        }
        if (inWindow >= PER_SECOND) {
            suppressed++;
            return -1;
        }
        inWindow++;
        long before = suppressed;
        suppressed = 0;
        return before;
    }
}
