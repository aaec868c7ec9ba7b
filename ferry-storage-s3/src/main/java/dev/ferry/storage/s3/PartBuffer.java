package dev.ferry.storage.s3;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * The bytes of one part: a reservation of {@code capacity} bytes of the {@link UploadBudget}, taken before the
 * buffer exists and given back exactly once ({@link #release}). The array is a part-sized one the budget kept
 * from an earlier part when there is one ({@link UploadBudget#reuse}); else it grows by doubling up to
 * {@link #LAST_DOUBLING}, then jumps to the whole part (doubling all the way would copy a part's worth again), so
 * a 1 KiB file reserves a part's worth of the budget (which keeps the budget's arithmetic simple and
 * deadlock-free: one wait per part) but allocates only a few KiB of heap. A part-sized array goes back to the
 * budget at {@link #release}, when no request reads it any more.
 *
 * <p>Not thread-safe: one thread fills it; it is handed to the thread that sends it through a lock.
 */
final class PartBuffer {

    private static final int FIRST_ARRAY = 64 * 1024;
    static final int LAST_DOUBLING = 1024 * 1024;

    private final UploadBudget budget;
    private final int capacity;
    private byte[] bytes;
    private int size;
    private boolean released;

    private PartBuffer(UploadBudget budget, int capacity) {
        this.budget = budget;
        this.capacity = capacity;
        byte[] kept = budget.reuse(capacity);
        this.bytes = kept != null ? kept : new byte[Math.min(FIRST_ARRAY, capacity)];
    }

    /**
     * Waits for {@code capacity} bytes of {@code budget} and returns a buffer holding them, or null when
     * {@code cancelled} said to stop waiting (see {@link UploadBudget#acquire(int, BooleanSupplier)}).
     */
    static PartBuffer take(UploadBudget budget, int capacity, BooleanSupplier cancelled)
            throws InterruptedException {
        if (!budget.acquire(capacity, cancelled)) {
            return null;
        }
        return new PartBuffer(budget, capacity);
    }

    /** Copies as much of {@code src} as fits; returns how much. */
    int put(ByteBuffer src) {
        int n = Math.min(src.remaining(), capacity - size);
        ensureArray(size + n);
        src.get(bytes, size, n);
        size += n;
        return n;
    }

    /** The array to read {@code count} more bytes into directly (see {@link #advance}). */
    byte[] arrayFor(int count) {
        if (count > capacity - size) {
            throw new IllegalArgumentException(count + " bytes do not fit in " + (capacity - size));
        }
        ensureArray(size + count);
        return bytes;
    }

    void advance(int count) {
        size += count;
    }

    int size() {
        return size;
    }

    boolean isFull() {
        return size == capacity;
    }

    /** The content as a request body; each attempt of the request reads the array again (no copy). */
    RequestBody body() {
        byte[] b = bytes;
        int n = size;
        return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(b, 0, n), n, "application/octet-stream");
    }

    /** Gives the reservation back; a second call does nothing. */
    void release() {
        if (!released) {
            released = true;
            if (bytes.length == capacity) {
                budget.keep(bytes);
            }
            bytes = null;
            budget.release(capacity);
        }
    }

    private void ensureArray(int needed) {
        if (needed > bytes.length) {
            int grown = bytes.length;
            while (grown < needed) {
                grown = grown >= LAST_DOUBLING ? capacity : (int) Math.min(capacity, grown * 2L);
            }
            bytes = Arrays.copyOf(bytes, grown);
        }
    }
}
