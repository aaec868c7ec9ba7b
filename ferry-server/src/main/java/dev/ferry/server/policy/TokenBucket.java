package dev.ferry.server.policy;

import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * A rate in bytes per second that several transfers share (every session of one user, or every session of the
 * server).
 *
 * <p>Design: a token bucket that may go into debt. A taker reserves its bytes at once, under the lock, and then
 * sleeps (parking its virtual thread, never spinning) until the bucket's refill has paid the debt back. Because
 * the reservation is made before the sleep, takers are served in the order they came and the rate holds however
 * many share it: bytes released up to time t never exceed {@code capacity + rate × t}. The capacity (the burst a
 * quiet bucket allows) is a tenth of a second of rate, so any one-second window carries at most 1.1 seconds' worth
 * (plus one chunk), while a sleep that overruns by a few milliseconds still does not lose rate. A take is capped at
 * {@link #chunk()} bytes, so one huge request cannot hold the bucket: a large transfer takes many chunks, and other
 * takers are served between them.
 *
 * <p>Thread-safe. The clock and the sleep are passed in so tests run on a fake clock.
 */
public final class TokenBucket {

    /** The largest grant: small enough that sharing sessions take turns often, large enough to keep syscalls few. */
    static final long MAX_CHUNK = 64 * 1024;

    /** How a taker waits: parks the current (virtual) thread for that long. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(long nanos) throws InterruptedException;

        Sleeper THREAD = nanos -> Thread.sleep(Duration.ofNanos(nanos));
    }

    private static final double NANOS_PER_SECOND = 1e9;

    private final long rate;
    private final long capacity;
    private final long chunk;
    private final LongSupplier clock;
    private final Sleeper sleeper;
    private final ReentrantLock lock = new ReentrantLock();
    /** Bytes that may go now; below zero: the debt of reservations not yet paid by the refill. Lock held. */
    private double tokens;
    private long lastRefill;

    /** A bucket on the system clock, full at the start. */
    public TokenBucket(long bytesPerSecond) {
        this(bytesPerSecond, System::nanoTime, Sleeper.THREAD);
    }

    /** A bucket on {@code nanoClock} (as {@link System#nanoTime()}) that waits with {@code sleeper}; for tests. */
    public TokenBucket(long bytesPerSecond, LongSupplier nanoClock, Sleeper sleeper) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("a rate must be above zero, got " + bytesPerSecond);
        }
        this.rate = bytesPerSecond;
        this.capacity = Math.max(1, bytesPerSecond / 10);
        this.chunk = Math.min(capacity, MAX_CHUNK);
        this.clock = nanoClock;
        this.sleeper = sleeper;
        this.tokens = capacity;
        this.lastRefill = nanoClock.getAsLong();
    }

    /** Bytes per second. */
    public long rate() {
        return rate;
    }

    /** The most one {@link #take} grants. */
    public long chunk() {
        return chunk;
    }

    /**
     * Takes up to {@code want} bytes (at most {@link #chunk()}), waiting until they may go; returns how many
     * were granted (at least 1 when {@code want} is). An interrupt while waiting ends the wait with
     * {@link InterruptedIOException} (the interrupt status is kept); the bytes stay taken.
     */
    public long take(long want) throws InterruptedIOException {
        if (want <= 0) {
            return 0;
        }
        long n = Math.min(want, chunk);
        long waitNanos;
        lock.lock();
        try {
            refill();
            tokens -= n;
            waitNanos = tokens >= 0 ? 0 : (long) Math.ceil(-tokens * NANOS_PER_SECOND / rate);
        } finally {
            lock.unlock();
        }
        if (waitNanos > 0) {
            try {
                sleeper.sleep(waitNanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the bandwidth limit");
            }
        }
        return n;
    }

    /** Bytes that may go now without waiting (negative: the debt of the takers still asleep); for tests. */
    double available() {
        lock.lock();
        try {
            refill();
            return tokens;
        } finally {
            lock.unlock();
        }
    }

    /** Adds what the time since the last refill earned, never above the capacity. Lock held. */
    private void refill() {
        long now = clock.getAsLong();
        long elapsed = now - lastRefill;
        if (elapsed > 0) {
            tokens = Math.min(capacity, tokens + elapsed * (rate / NANOS_PER_SECOND));
            lastRefill = now;
        }
    }

    @Override
    public String toString() {
        return "TokenBucket[" + rate + " B/s]";
    }
}
