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
 *
 * <p>It also keeps the part-sized arrays of sent parts for the next parts ({@link #reuse}, {@link #keep}): without
 * them every 8 MiB part is a new array for the garbage collector, and a JVM without {@code -Xmx} let its heap
 * grow to a quarter of the machine under 10 concurrent 1 GiB uploads (6 GB resident for a 256 MiB budget,
 * docs/performance.md). Kept arrays are bounded by the budget: at most as many as fit in it.
 */
public final class UploadBudget {

    private final long total;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private long free;
    private final ArrayDeque<byte[]> spare = new ArrayDeque<>();
    private long spareBytes;

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

    /**
     * A kept array of exactly {@code length} bytes for a buffer whose reservation was just taken, or null when
     * none is kept (the caller makes its own).
     */
    byte[] reuse(int length) {
        lock.lock();
        try {
            for (var it = spare.iterator(); it.hasNext(); ) {
                byte[] a = it.next();
                if (a.length == length) {
                    it.remove();
                    spareBytes -= length;
                    return a;
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Keeps the array of a buffer whose part is done (no request reads it any more) for {@link #reuse}, while the
     * kept arrays stay within the budget; else it is left to the garbage collector.
     */
    void keep(byte[] array) {
        lock.lock();
        try {
            if (spareBytes + array.length <= total) {
                spare.push(array);
                spareBytes += array.length;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of the arrays kept for reuse (for tests). */
    long kept() {
        lock.lock();
        try {
            return spareBytes;
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
