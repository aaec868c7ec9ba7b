package dev.ferry.storage.s3;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The bytes of part buffers all uploads of one server may hold at once ({@code upload-memory}). An upload takes
 * a part's worth before it fills a buffer and gives it back when the part has been sent (or the upload ends);
 * when the budget is spent the upload waits, so its data connection stops being read and TCP slows the client
 * down: back-pressure instead of unbounded memory.
 *
 * <p>Design: waiters are served first come, first served (a queue of the uploads waiting, one entry per waiting
 * upload, so bounded by the uploads in progress), so a part-sized request is not starved by others. A wait can
 * be given up: {@link #acquire(int, BooleanSupplier)} asks its {@code cancelled} test whenever the budget
 * changes or {@link #wake()} is called, which is how an ABOR (another thread) frees a writer blocked here. The
 * test must not take a lock an upload holds while it calls {@link #release} or {@link #wake} (a volatile read
 * is what it should be), else the two locks could be taken in both orders.
 *
 * <p>No deadlock: an upload waits here holding no buffer that is not already on its way to the store (a full
 * buffer is handed to a sender before the next one is asked for), and senders give their bytes back when their
 * request ends, which {@code request-timeout} bounds.
 */
public final class UploadBudget {

    private final long total;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private long free;

    public UploadBudget(long total) {
        if (total <= 0) {
            throw new IllegalArgumentException("upload budget must be positive: " + total);
        }
        this.total = total;
        this.free = total;
    }

    /** Waits until {@code size} bytes are free and takes them. */
    public void acquire(int size) throws InterruptedException {
        acquire(size, () -> false);
    }

    /**
     * Waits until {@code size} bytes are free and takes them (true), or until {@code cancelled} says the wait is
     * pointless (false, nothing taken). See the class comment for what {@code cancelled} may do.
     */
    public boolean acquire(int size, BooleanSupplier cancelled) throws InterruptedException {
        if (size <= 0 || size > total) {
            throw new IllegalArgumentException("cannot take " + size + " bytes of a budget of " + total);
        }
        Object me = new Object();
        lock.lock();
        try {
            waiting.addLast(me);
            try {
                while (waiting.peekFirst() != me || free < size) {
                    if (cancelled.getAsBoolean()) {
                        return false;
                    }
                    changed.await();
                }
                if (cancelled.getAsBoolean()) {
                    return false;
                }
                free -= size;
                return true;
            } finally {
                waiting.remove(me);
                // The next in line may now be first, and may fit.
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    public void release(int size) {
        lock.lock();
        try {
            if (free + size > total) {
                throw new IllegalStateException("released more than was taken: " + size + " with " + free + " of "
                        + total + " free");
            }
            free += size;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Makes every waiter ask its {@code cancelled} test again (an upload was aborted or failed). */
    public void wake() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Bytes held by uploads right now (for metrics and tests). */
    public long inUse() {
        lock.lock();
        try {
            return total - free;
        } finally {
            lock.unlock();
        }
    }

    public long total() {
        return total;
    }
}
