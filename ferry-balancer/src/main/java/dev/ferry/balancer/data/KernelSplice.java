package dev.ferry.balancer.data;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Socket-to-socket copying inside the kernel (Linux splice(2) through a pipe), which the JDK has no
 * API for. This is the Java 21 version: java.lang.foreign is final only from Java 22, so here it is
 * never available and {@link Relay} copies through a buffer. The Java 22+ version of this class (in
 * src/main/java22, the jar is multi-release) does the real work.
 */
final class KernelSplice {

    private KernelSplice() {
    }

    /** Null when splicing works here, else why not (for the start-up log line). */
    static String unavailableReason() {
        return "needs Java 22 or later (java.lang.foreign)";
    }

    /** Moves bytes from {@code from} to {@code to} until end of stream. */
    static void pump(SocketChannel from, SocketChannel to, Duration timeout, LongConsumer counter,
                     Consumer<Boolean> writing) throws IOException {
        throw new UnsupportedOperationException(unavailableReason());
    }
}
