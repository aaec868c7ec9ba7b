package dev.ferry.server.data;

import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.Watchdog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Buffered CRLF lines to a data connection (listings are always CRLF, RFC 959 §3.1.1.1). */
public final class LineSink implements AutoCloseable {

    private final WritableByteChannel out;
    private final BufferPool pool;
    private final ByteBuffer buffer;
    private final Watchdog.Guard guard;
    private final Duration timeout;
    private final TransferProgress progress;
    private long total;

    public LineSink(WritableByteChannel out, BufferPool pool, Watchdog.Guard guard, Duration timeout,
                    TransferProgress progress) {
        this.out = out;
        this.pool = pool;
        this.buffer = pool.take();
        this.guard = guard;
        this.timeout = timeout;
        this.progress = progress;
    }

    public void line(String text) throws IOException {
        byte[] bytes = (text + "\r\n").getBytes(StandardCharsets.UTF_8);
        if (bytes.length > buffer.remaining()) {
            flush();
        }
        if (bytes.length > buffer.remaining()) {
            Transfers.writeFully(out, ByteBuffer.wrap(bytes), guard, timeout);
        } else {
            buffer.put(bytes);
        }
        total += bytes.length;
    }

    public long total() {
        return total;
    }

    private void flush() throws IOException {
        buffer.flip();
        long n = Transfers.writeFully(out, buffer, guard, timeout);
        progress.addListed(n);
        buffer.clear();
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            pool.give(buffer);
        }
    }
}
