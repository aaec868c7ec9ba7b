package dev.ferry.balancer.data;

import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.KernelSplice;
import dev.ferry.runtime.net.Watchdog;
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
 * Copies one data connection to another, both directions, until both are done; a clean end of one
 * direction is passed on as a half close (shutdownOutput), so an upload's end reaches the backend and a
 * download's end reaches the client exactly as the other side sent it; anything else gives the whole relay
 * up and resets both sockets ({@link Flow}: RST↔RST, FIN↔FIN, and a FIN whose sender's control connection
 * has gone counts as a reset).
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
 * <p>A guard per relay gives it up when no byte moved for the data timeout. Sockets are closed only by
 * {@link #run} once both directions ended, or by {@link Flow} when no direction splices: a spliced
 * direction works on the raw descriptors, which must not be closed (and their numbers reused) under it.
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
     * Relays a data connection until both directions ended (each recorded in {@code flow}); then closes
     * both sockets, with a reset unless both ended cleanly.
     *
     * @param up   bytes client -> backend
     * @param down bytes backend -> client
     */
    public static void run(SocketChannel client, SocketChannel backend, BufferPool pool, Watchdog watchdog,
                           Duration timeout, LongConsumer up, LongConsumer down, Flow flow) {
        run(client, backend, pool, watchdog, timeout, () -> false, up, down, flow, SPLICE);
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
        run(client, backend, pool, watchdog, timeout, busy, up, down, Flow.trustingEnds(), false);
    }

    /** As {@link #run}, splicing bulk transfers only if {@code splice} (tests run both ways in one JVM). */
    static void run(SocketChannel client, SocketChannel backend, BufferPool pool, Watchdog watchdog,
                    Duration timeout, LongConsumer up, LongConsumer down, Flow flow, boolean splice) {
        run(client, backend, pool, watchdog, timeout, () -> false, up, down, flow, splice);
    }

    private static void run(SocketChannel client, SocketChannel backend, BufferPool pool, Watchdog watchdog,
                            Duration timeout, BooleanSupplier busy, LongConsumer up, LongConsumer down,
                            Flow flow, boolean splice) {
        AtomicReference<Watchdog.Guard> self = new AtomicReference<>();
        Watchdog.Guard guard = watchdog.guard(() -> {
            if (busy.getAsBoolean()) {
                self.get().arm(timeout);
                return;
            }
            flow.timedOut();
        });
        self.set(guard);
        flow.attach(client, backend);
        try {
            Thread upstream = Thread.ofVirtual().start(() -> direction(client, backend, true, pool, guard, timeout, up, flow, splice));
            direction(backend, client, false, pool, guard, timeout, down, flow, splice);
            joinUninterruptibly(upstream);
        } finally {
            guard.close();
            if (flow.up() != Flow.End.CLEAN || flow.down() != Flow.End.CLEAN) {
                Flow.lingerZero(client);
                Flow.lingerZero(backend);
            }
            Closing.quietly(client);
            Closing.quietly(backend);
        }
    }

    private static void direction(SocketChannel from, SocketChannel to, boolean upstream, BufferPool pool, Watchdog.Guard guard,
                                  Duration timeout, LongConsumer counter, Flow flow, boolean splice) {
        boolean clean = false;
        boolean failed = false;
        try {
            boolean bulk = copy(from, to, upstream, pool, guard, timeout, counter, flow, splice ? SPLICE_AFTER : Long.MAX_VALUE);
            if (bulk) {
                if (SPLICE_SLOTS.tryAcquire()) {
                    try {
                        if (flow.beginSplice()) {
                            try {
                                spliceRest(from, to, guard, timeout, counter, w -> setWriting(flow, upstream, w));
                            } finally {
                                flow.endSplice();
                            }
                        }
                    } finally {
                        SPLICE_SLOTS.release();
                    }
                } else {
                    copy(from, to, upstream, pool, guard, timeout, counter, flow, Long.MAX_VALUE);
                }
            }
            // End of stream (or a give-up that shut the input): passed on only when it is a real end.
            if (flow.mayPassEnd(upstream)) {
                to.shutdownOutput();
                clean = true;
            }
        } catch (java.net.SocketTimeoutException e) {
            // The splice's own wait for the data timeout, racing the guard's: the same stall.
            flow.timedOut();
            failed = true;
        } catch (IOException | RuntimeException e) {
            LOG.debug("relay direction ended: {}", e.toString());
            failed = true;
        } finally {
            flow.ended(upstream, clean, failed);
        }
    }

    /**
     * Copies until end of stream (returns false) or until {@code limit} bytes moved (returns true, the
     * buffer written out: the caller may go on another way).
     */
    private static boolean copy(SocketChannel from, SocketChannel to, boolean upstream, BufferPool pool, Watchdog.Guard guard,
                                Duration timeout, LongConsumer counter, Flow flow, long limit) throws IOException {
        ByteBuffer buffer = pool.take();
        long moved = 0;
        try {
            while (moved < limit) {
                guard.arm(timeout);
                int n = from.read(buffer);
                if (n < 0) {
                    return false;
                }
                setWriting(flow, upstream, true);
                writeOut(buffer, to, guard, timeout);
                setWriting(flow, upstream, false);
                counter.accept(n);
                if (upstream && moved == 0 && n > 0) {
                    flow.upMoved = true;
                }
                moved += n;
            }
            return true;
        } finally {
            pool.give(buffer);
        }
    }

    static void setWriting(Flow flow, boolean upstream, boolean writing) {
        if (upstream) {
            flow.upWriting = writing;
        } else {
            flow.downWriting = writing;
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

    /**
     * The rest of a bulk direction, spliced on a platform thread until end of stream; the calling virtual
     * thread waits. A failure of the splice is rethrown here.
     */
    private static void spliceRest(SocketChannel from, SocketChannel to, Watchdog.Guard guard, Duration timeout,
                                   LongConsumer counter, java.util.function.Consumer<Boolean> writing) throws IOException {
        SPLICED.increment();
        AtomicReference<IOException> failure = new AtomicReference<>();
        Thread pump = SPLICE_THREADS.newThread(() -> {
            try {
                KernelSplice.pump(from, to, timeout, n -> {
                    guard.arm(timeout);
                    counter.accept(n);
                }, writing);
            } catch (IOException e) {
                failure.set(e);
            } catch (RuntimeException e) {
                failure.set(new IOException(e));
            }
        });
        pump.start();
        joinUninterruptibly(pump);
        if (failure.get() != null) {
            throw failure.get();
        }
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
}
