package dev.ferry.balancer.admin;

import java.time.Duration;

/**
 * New sessions per second over the last {@link #WINDOW} (HAProxy's session rate): a ring of
 * (time, sessions accepted so far) samples, one taken every second or so; the rate is the
 * difference between the newest and the oldest sample in the window. Thread-safe.
 */
final class SessionRate {

    static final Duration WINDOW = Duration.ofSeconds(10);
    /** One sample a second for the window, plus the one that closes it, plus slack for late ticks. */
    private static final int SAMPLES = 16;

    private final long[] times = new long[SAMPLES];
    private final long[] totals = new long[SAMPLES];
    private int count;
    private int newest = -1;

    synchronized void sample(long nanos, long total) {
        newest = (newest + 1) % SAMPLES;
        times[newest] = nanos;
        totals[newest] = total;
        count = Math.min(count + 1, SAMPLES);
    }

    /** Sessions per second between the newest sample and the oldest one at most {@link #WINDOW} before it; 0 with fewer than two. */
    synchronized double perSecond() {
        if (count < 2) {
            return 0;
        }
        int oldest = newest;
        for (int i = 1; i < count; i++) {
            int candidate = Math.floorMod(newest - i, SAMPLES);
            if (times[newest] - times[candidate] > WINDOW.toNanos()) {
                break;
            }
            oldest = candidate;
        }
        long elapsed = times[newest] - times[oldest];
        if (elapsed <= 0) {
            return 0;
        }
        return (totals[newest] - totals[oldest]) * 1e9 / elapsed;
    }
}
