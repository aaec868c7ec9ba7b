package dev.ferry.server.data;

/** Bytes moved so far by a running transfer; read by STAT and the stats page, written by the transfer. */
public final class TransferProgress {

    private final String description;
    private final long startNanos = System.nanoTime();
    private volatile long bytes;

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

    public long elapsedMillis() {
        return (System.nanoTime() - startNanos) / 1_000_000L;
    }
}
