package dev.ferry.protocol.line;

import java.io.IOException;
import java.nio.ByteBuffer;

/** A channel that can wait a bounded time for bytes. */
public interface TimedReadable {

    /**
     * Reads like {@link java.nio.channels.ReadableByteChannel#read}, but waits at most
     * {@code timeoutMillis}: returns 0 when nothing arrived in time, -1 at end of stream.
     */
    int readWithin(ByteBuffer dst, long timeoutMillis) throws IOException;
}
