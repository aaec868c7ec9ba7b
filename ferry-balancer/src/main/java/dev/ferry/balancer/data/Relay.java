package dev.ferry.balancer.data;

import dev.ferry.server.data.BufferPool;
import dev.ferry.server.net.Watchdog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one data connection to another, both directions, until both are done; the end of one
 * direction is passed on as a half close (shutdownOutput), so an upload's end reaches the backend
 * and a download's end reaches the client exactly as the other side sent it.
 *
 * <p>Each direction starts as a virtual thread copying through a pooled direct buffer. A direction
 * that has moved {@link #SPLICE_AFTER} bytes is a bulk transfer: where {@link KernelSplice} works
 * (Linux, Java 22+) the rest of it is spliced inside the kernel on a platform thread (a native wait
 * must not hold a virtual thread's carrier), at about a quarter of the balancer's CPU per GiB
 * (docs/balancer.md); at most {@link #SPLICING_DIRECTIONS} at once, the others keep copying. Short
 * transfers and idle directions never pay for a platform thread (measured: a burst of 256 KiB
 * transfers cost the balancer 7-40 % more CPU when every one was spliced: 1.31 and 1.53 s
 * against 1.23 and 1.08 s for 600 sessions, two runs each).
 *
 * <p>A guard per relay shuts both sockets down when no byte moved for the data timeout. It shuts
 * down and never closes: a spliced direction works on the raw descriptors, which must not be
 * closed (and their numbers reused) under it. Only {@link #run} closes, once both directions ended.
 */
public final class Relay {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.balancer");
    /** Bytes a direction copies before it is worth a platform thread and splicing. */
    static final long SPLICE_AFTER = 1 << 20;
    /** Directions spliced at once: bounds the platform threads. */
    static final int SPLICING_DIRECTIONS = 128;
    private static final Semaphore SPLICE_SLOTS = new Semaphore(SPLICING_DIRECTIONS);
    private static final ThreadFactory SPLICE_THREADS = Thread.ofPlatform().daemon().name("ferry-splice-", 0)
            .stackSize(256 * 1024).factory();
    private static final boolean SPLICE;
    private static final LongAdder SPLICED = new LongAdder();

    static {
        String why = KernelSplice.unavailableReason();
        SPLICE = why == null && !Boolean.getBoolean("ferry.relay.copy");
        LOG.debug("event=relay mode={}{}", SPLICE ? "splice" : "copy", why == null ? "" : " reason=\"" + why + "\"");
    }

    private Relay() {}

    /** "splice" or "copy": how bulk transfers are relayed in this JVM. */
    public static String mode() {
        return SPLICE ? "splice" : "copy";
    }

    /** Directions spliced since start (each bulk transfer counts one). */
    public static long splicedDirections() {
        return SPLICED.sum();
    }

    /**
     * Relays until both directions reached end of stream or one failed; then closes both.
     *
     * @param up               bytes client -> backend
     * @param down             bytes backend -> client
     * @param downstreamEnded  run once when the backend -> client direction is over (its bytes written and
     *                         the client's side shut, or failed): a transfer's final reply may follow then
     */
    public static void run(SocketChannel client, SocketChannel backend, BufferPool pool, Watchdog watchdog,
                           Duration timeout, LongConsumer up, LongConsumer down, Runnable downstreamEnded) {
        run(client, backend, pool, watchdog, timeout, up, down, downstreamEnded, SPLICE);
    }

    /**
     * As {@link #run}, for a control connection (TLS passthrough): it may be quiet while it is not idle
     * (during a transfer), so when {@code timeout} passed without a byte and {@code busy} says true, the
     * relay waits another {@code timeout} instead of ending. Never spliced: its bytes come in small
     * pieces over a long life, and a spliced direction would hold a platform thread and a splice slot
     * all the while it waits.
     */
    public static void run(SocketChannel client, SocketChannel backend, BufferPool pool, Watchdog watchdog,
                           Duration timeout, BooleanSupplier busy, LongConsumer up, LongConsumer down) {
        run(client, backend, pool, watchdog, timeout, busy, up, down, () -> { }, false);
    }

    /** As {@link #run}, splicing bulk transfers only if {@code splice} (tests run both ways in one JVM). */
    static void run(SocketChannel client, SocketChannel backend, BufferPool pool, Watchdog watchdog,
                    Duration timeout, LongConsumer up, LongConsumer down, Runnable downstreamEnded, boolean splice) {
        run(client, backend, pool, watchdog, timeout, () -> false, up, down, downstreamEnded, splice);
    }

    private static void run(SocketChannel client, SocketChannel backend, BufferPool pool, Watchdog watchdog,
                            Duration timeout, BooleanSupplier busy, LongConsumer up, LongConsumer down,
                            Runnable downstreamEnded, boolean splice) {
        AtomicReference<Watchdog.Guard> self = new AtomicReference<>();
        Watchdog.Guard guard = watchdog.guard(() -> {
            if (busy.getAsBoolean()) {
                self.get().arm(timeout);
                return;
            }
            shutdownQuietly(client);
            shutdownQuietly(backend);
        });
        self.set(guard);
        try {
            Thread upstream = Thread.ofVirtual().start(() -> direction(client, backend, pool, guard, timeout, up, splice));
            try {
                direction(backend, client, pool, guard, timeout, down, splice);
            } finally {
                downstreamEnded.run();
            }
            joinUninterruptibly(upstream);
        } finally {
            guard.close();
            closeQuietly(client);
            closeQuietly(backend);
        }
    }

    private static void direction(SocketChannel from, SocketChannel to, BufferPool pool, Watchdog.Guard guard,
                                  Duration timeout, LongConsumer counter, boolean splice) {
        try {
            boolean bulk = copy(from, to, pool, guard, timeout, counter, splice ? SPLICE_AFTER : Long.MAX_VALUE);
            if (bulk) {
                if (SPLICE_SLOTS.tryAcquire()) {
                    try {
                        spliceRest(from, to, guard, timeout, counter);
                    } finally {
                        SPLICE_SLOTS.release();
                    }
                } else {
                    copy(from, to, pool, guard, timeout, counter, Long.MAX_VALUE);
                }
            }
        } catch (IOException | RuntimeException e) {
            // One side failed: the whole relay ends; the other direction sees its sockets shut down.
            LOG.debug("relay direction ended: {}", e.toString());
            shutdownQuietly(from);
            shutdownQuietly(to);
        }
    }

    /**
     * Copies until end of stream (then half-closes {@code to} and returns false) or until
     * {@code limit} bytes moved (returns true, the buffer written out: the caller may go on another way).
     */
    private static boolean copy(SocketChannel from, SocketChannel to, BufferPool pool, Watchdog.Guard guard,
                                Duration timeout, LongConsumer counter, long limit) throws IOException {
        ByteBuffer buffer = pool.take();
        long moved = 0;
        try {
            while (moved < limit) {
                guard.arm(timeout);
                int n = from.read(buffer);
                if (n < 0) {
                    to.shutdownOutput();
                    return false;
                }
                writeOut(buffer, to, guard, timeout);
                counter.accept(n);
                moved += n;
            }
            return true;
        } finally {
            pool.give(buffer);
        }
    }

    /** Writes what {@code buffer} holds (fill mode) to {@code to}, each write under the guard, and clears it. */
    static void writeOut(ByteBuffer buffer, java.nio.channels.WritableByteChannel to, Watchdog.Guard guard, Duration timeout)
            throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            guard.arm(timeout);
            to.write(buffer);
        }
        buffer.clear();
    }

    /** The rest of a bulk direction, spliced on a platform thread; the calling virtual thread waits. */
    private static void spliceRest(SocketChannel from, SocketChannel to, Watchdog.Guard guard, Duration timeout,
                                   LongConsumer counter) {
        SPLICED.increment();
        Thread pump = SPLICE_THREADS.newThread(() -> {
            try {
                KernelSplice.pump(from, to, timeout, n -> {
                    guard.arm(timeout);
                    counter.accept(n);
                });
            } catch (IOException | RuntimeException e) {
                LOG.debug("relay direction ended: {}", e.toString());
                shutdownQuietly(from);
                shutdownQuietly(to);
            }
        });
        pump.start();
        joinUninterruptibly(pump);
    }

    /** Waits for {@code t} even when interrupted (the interrupt is kept): t uses descriptors that are closed after it. */
    static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    static void shutdownQuietly(SocketChannel c) {
        try {
            c.shutdownInput();
        } catch (IOException ignored) {
            // already shut or not connected
        }
        try {
            c.shutdownOutput();
        } catch (IOException ignored) {
            // already shut or not connected
        }
    }

    static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // best effort
        }
    }
}
