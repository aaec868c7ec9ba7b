package dev.ferry.balancer.metrics;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The last hour or so of each backend's traffic, for the stats page's small charts: one sample every
 * {@link #interval()} of the sessions open and of the bytes moved since the previous sample, kept in a ring of
 * {@link #capacity()} samples per backend. Memory is bounded: {@code capacity} samples per backend, and the
 * backends are the configured ones (a backend no longer reported for a whole ring's span is dropped).
 *
 * <p>Bytes come in as monotonic totals (a backend's counters plus its transfers in flight); the ring keeps
 * per-interval deltas. A total that goes down (a backend a reload replaced under the same name starts from 0)
 * counts as 0 for that interval and becomes the new baseline, so a chart never shows a negative or a spike. A
 * backend's first sample only sets the baseline: its bytes are 0 there. Samples are stamped with their time, so
 * a balancer that just started has fewer samples than the ring holds and the page draws only what exists.
 *
 * <p>Thread-safe: one sampler writes, the API reads.
 */
public final class TrafficHistory {

    /** What a sampler reads of one backend: its name, sessions now, and its byte totals so far. */
    public record Reading(String backend, int sessions, long bytesInTotal, long bytesOutTotal) {
        public Reading {
            Objects.requireNonNull(backend, "backend");
        }
    }

    /** One backend's sample: at {@code at}, {@code sessions} open; bytes moved in the interval ending there. */
    public record Sample(Instant at, int sessions, long bytesIn, long bytesOut) {}

    /** Defaults: 120 samples of 30 s, one hour. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    public static final int DEFAULT_CAPACITY = 120;

    private final Duration interval;
    private final int capacity;
    /** By backend name, in the order the backends were first seen. Guarded by this. */
    private final Map<String, Ring> rings = new LinkedHashMap<>();

    public TrafficHistory(Duration interval, int capacity) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("history interval must be positive: " + interval);
        }
        if (capacity < 2) {
            throw new IllegalArgumentException("history capacity must be at least 2: " + capacity);
        }
        this.interval = interval;
        this.capacity = capacity;
    }

    public Duration interval() {
        return interval;
    }

    public int capacity() {
        return capacity;
    }

    /** Records one sample of every backend in {@code readings}, taken at {@code now}. */
    public synchronized void sample(Instant now, List<Reading> readings) {
        for (Reading r : readings) {
            rings.computeIfAbsent(r.backend(), k -> new Ring(capacity)).add(now, r);
        }
        // A backend a reload removed: kept while its samples are still in the window, then forgotten.
        Instant oldest = now.minus(interval.multipliedBy(capacity));
        rings.values().removeIf(ring -> ring.newestAt().isBefore(oldest));
    }

    /** Every backend's samples, oldest first, by backend name. */
    public synchronized Map<String, List<Sample>> samples() {
        Map<String, List<Sample>> all = new LinkedHashMap<>();
        rings.forEach((name, ring) -> all.put(name, ring.samples()));
        return all;
    }

    /** One backend's ring, as parallel arrays (no object per sample). */
    private static final class Ring {
        private final long[] atMillis;
        private final int[] sessions;
        private final long[] in;
        private final long[] out;
        private int count;
        private int next;
        private long lastInTotal = -1;
        private long lastOutTotal = -1;

        Ring(int capacity) {
            atMillis = new long[capacity];
            sessions = new int[capacity];
            in = new long[capacity];
            out = new long[capacity];
        }

        void add(Instant now, Reading r) {
            atMillis[next] = now.toEpochMilli();
            sessions[next] = r.sessions();
            in[next] = delta(lastInTotal, r.bytesInTotal());
            out[next] = delta(lastOutTotal, r.bytesOutTotal());
            lastInTotal = r.bytesInTotal();
            lastOutTotal = r.bytesOutTotal();
            next = (next + 1) % atMillis.length;
            count = Math.min(count + 1, atMillis.length);
        }

        Instant newestAt() {
            return Instant.ofEpochMilli(atMillis[Math.floorMod(next - 1, atMillis.length)]);
        }

        List<Sample> samples() {
            List<Sample> list = new ArrayList<>(count);
            int first = Math.floorMod(next - count, atMillis.length);
            for (int i = 0; i < count; i++) {
                int k = (first + i) % atMillis.length;
                list.add(new Sample(Instant.ofEpochMilli(atMillis[k]), sessions[k], in[k], out[k]));
            }
            return list;
        }

        /** Bytes since the previous total: 0 on the first sample (no baseline yet) and when the total went down. */
        private static long delta(long previous, long total) {
            return previous < 0 || total < previous ? 0 : total - previous;
        }
    }
}
