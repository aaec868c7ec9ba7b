package dev.ferry.server.policy;

import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What limits one transfer: the buckets it takes from, its user's and the server's for its direction. Each
 * byte is taken from every bucket, so the transfer goes no faster than the slowest, and each bucket's rate holds
 * for all the transfers that share it. {@link #NONE} limits nothing: the copy loops then run as they would without
 * any limit (sendfile in whole chunks, full buffers).
 */
public final class Throttle {

    public static final Throttle NONE = new Throttle(List.of());

    private final List<TokenBucket> buckets;
    private final long chunk;

    private Throttle(List<TokenBucket> buckets) {
        this.buckets = List.copyOf(buckets);
        long c = Long.MAX_VALUE;
        for (TokenBucket b : this.buckets) {
            c = Math.min(c, b.chunk());
        }
        this.chunk = c;
    }

    /** The buckets given (nulls skipped: no limit of that kind); {@link #NONE} when there are none. */
    public static Throttle of(TokenBucket... buckets) {
        List<TokenBucket> present = new ArrayList<>();
        for (TokenBucket b : buckets) {
            if (b != null) {
                present.add(b);
            }
        }
        return present.isEmpty() ? NONE : new Throttle(present);
    }

    public boolean limited() {
        return !buckets.isEmpty();
    }

    /** The most one {@link #take} grants (unbounded when nothing limits). */
    public long chunk() {
        return chunk;
    }

    /** The lowest rate that applies, bytes per second; 0 when nothing limits. */
    public long rate() {
        long r = 0;
        for (TokenBucket b : buckets) {
            r = r == 0 ? b.rate() : Math.min(r, b.rate());
        }
        return r;
    }

    /**
     * Waits until up to {@code want} bytes (at most {@link #chunk()}) may go in every bucket; returns how many.
     * The buckets are taken in a fixed order, the same for every transfer.
     */
    public long take(long want) throws InterruptedIOException {
        long n = Math.min(want, chunk);
        for (TokenBucket b : buckets) {
            b.take(n);
        }
        return n;
    }

    @Override
    public String toString() {
        return buckets.isEmpty() ? "Throttle[none]" : "Throttle" + buckets;
    }
}
