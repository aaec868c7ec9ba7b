package dev.ferry.runtime.net;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Copying inside the kernel (Linux splice(2) through a pipe), which the JDK has no API for: socket to socket
 * for the balancer's relay, socket to file for the server's uploads. This is the Java 21 version:
 * java.lang.foreign is final only from Java 22, so here it is never available and the callers copy through a
 * buffer. The Java 22+ version of this class (in src/main/java22, the jar is multi-release) does the real work.
 */
public final class KernelSplice {

    private KernelSplice() {
    }

    /** Null when splicing works here, else why not (for the start-up log line). */
    public static String unavailableReason() {
        return "needs Java 22 or later (java.lang.foreign)";
    }

    /** Moves bytes from {@code from} to {@code to} until end of stream. */
    public static void pump(SocketChannel from, SocketChannel to, Duration timeout, LongConsumer counter,
                            Consumer<Boolean> writing) throws IOException {
        throw new UnsupportedOperationException(unavailableReason());
    }

    /** Never available here: null, and the caller copies. */
    public static SocketToFile toFile(SocketChannel from, FileChannel to) throws IOException {
        return null;
    }

    /** Bytes from a socket into a file through a pipe; see the Java 22+ version. */
    public static final class SocketToFile implements AutoCloseable {
        private SocketToFile() {
        }

        /** Never called here ({@link #toFile} returns null). */
        public long fill(long max) throws IOException {
            throw new UnsupportedOperationException(unavailableReason());
        }

        /** Never called here ({@link #toFile} returns null). */
        public void drain() throws IOException {
            throw new UnsupportedOperationException(unavailableReason());
        }

        @Override
        public void close() {
        }
    }
}
