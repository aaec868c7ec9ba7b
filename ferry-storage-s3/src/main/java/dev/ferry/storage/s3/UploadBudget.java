package dev.ferry.storage.s3;

import java.util.concurrent.Semaphore;

/**
 * The bytes of part buffers all uploads of one server may hold at once ({@code upload-memory}). An upload takes
 * a part's worth before it fills a buffer and gives it back when the part has been sent (or the upload ends);
 * when the budget is spent the upload waits, so its data connection stops being read and TCP slows the client
 * down: back-pressure instead of unbounded memory.
 */
public final class UploadBudget {

    private final int totalKib;
    private final Semaphore kibs;

    public UploadBudget(long total) {
        // Semaphore permits are ints: count in KiB so that budgets above 2 GiB work.
        this.totalKib = (int) Math.min(Integer.MAX_VALUE, total / 1024);
        this.kibs = new Semaphore(totalKib, true);
    }

    /** Waits until {@code size} bytes are free and takes them. */
    public void acquire(int size) throws InterruptedException {
        kibs.acquire(kib(size));
    }

    public void release(int size) {
        kibs.release(kib(size));
    }

    /** Bytes held by uploads right now (for metrics and tests). */
    public long inUse() {
        return (long) (totalKib - kibs.availablePermits()) * 1024;
    }

    public long total() {
        return (long) totalKib * 1024;
    }

    private static int kib(int size) {
        return (size + 1023) / 1024;
    }
}
