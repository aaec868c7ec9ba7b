package dev.ferry.runtime.net;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * Direct buffers for copying transfers (uploads, ASCII conversion, non-file storage). Direct, so
 * channel reads and writes need no extra copy; pooled, because allocating and zeroing a direct
 * buffer per transfer would dominate small-file transfers. Bounded both ways: at most
 * {@code capacity} buffers are kept, and a transfer that finds the pool empty gets a fresh buffer
 * that is dropped afterwards (the number in use is bounded by the session limits).
 */
public final class BufferPool {

    private final int bufferSize;
    private final ArrayBlockingQueue<ByteBuffer> free;

    public BufferPool(int bufferSize, int capacity) {
        this.bufferSize = bufferSize;
        this.free = new ArrayBlockingQueue<>(capacity);
    }

    public ByteBuffer take() {
        ByteBuffer b = free.poll();
        return b != null ? b.clear() : ByteBuffer.allocateDirect(bufferSize);
    }

    public void give(ByteBuffer b) {
        free.offer(b.clear());
    }
}
