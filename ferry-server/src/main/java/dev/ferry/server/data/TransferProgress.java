package dev.ferry.server.data;

import dev.ferry.server.policy.Throttle;
import java.io.InterruptedIOException;

/**
 * Bytes moved so far by a running transfer; read by STAT and the stats page, written by the transfer. Also where
 * the transfer waits for its bandwidth limit, so that an abort can cut that wait short (see {@link #take}).
 */
public final class TransferProgress {

    private final String description;
    private final long startNanos = System.nanoTime();
    private volatile long bytes;
    /** The transfer's thread while it waits for its bandwidth limit, else null; under {@code this}. */
    private Thread waiting;
    /** Under {@code this}. */
    private boolean aborted;
    /** The interrupt {@link #abort} gave is still to be cleared; under {@code this}. */
    private boolean woken;

    public TransferProgress(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    public long bytes() {
        return bytes;
    }

    /** Listing bytes, counted like file bytes. */
    public void addListed(long n) {
        add(n);
    }

    void add(long n) {
        bytes += n; // single writer: the transfer's own thread
    }

    /**
     * {@link Throttle#take}, cut short by {@link #abort}. A wait for a bucket shared by many transfers (the
     * server's, or a user's several sessions) lasts as long as all of their chunks take, seconds with a few hundred
     * of them, and closing the data connection does not wake it: without this, ABOR, a session's end and a server
     * stop would wait that long. The interrupt is given only inside the wait and cleared before it returns: an
     * interrupt left set would close the file channel the transfer writes next, or its cleanup uses.
     */
    long take(Throttle throttle, long want) throws InterruptedIOException {
        synchronized (this) {
            if (aborted) {
                throw new InterruptedIOException("transfer aborted");
            }
            waiting = Thread.currentThread();
        }
        try {
            return throttle.take(want);
        } finally {
            synchronized (this) {
                waiting = null;
                if (woken) {
                    woken = false;
                    Thread.interrupted();
                }
            }
        }
    }

    /** The transfer is aborted: a wait for its bandwidth limit ends now, with an InterruptedIOException. */
    void abort() {
        synchronized (this) {
            aborted = true;
            if (waiting != null && !woken) {
                woken = true;
                waiting.interrupt();
            }
        }
    }

    public long elapsedMillis() {
        return (System.nanoTime() - startNanos) / 1_000_000L;
    }
}
