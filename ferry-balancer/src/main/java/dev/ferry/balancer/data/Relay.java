package dev.ferry.balancer.data;

import dev.ferry.server.data.BufferPool;
import dev.ferry.server.net.Watchdog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one data connection to another, both directions, until both are done; the end of one
 * direction is passed on as a half close (shutdownOutput), so an upload's end reaches the backend
 * and a download's end reaches the client exactly as the other side sent it.
 *
 * <p>Two ways, same contract. Where {@link KernelSplice} works (Linux, Java 22+), each direction is
 * spliced inside the kernel on one of at most {@link #SPLICING_RELAYS} × 2 platform threads: a GiB
 * relayed costs about half the CPU of copying it (docs/performance.md). Otherwise, or when those threads are
 * all busy, each direction is a virtual thread copying through a pooled direct buffer, with a guard
 * that closes both sockets when no byte moved for the data timeout.
 */
public final class Relay {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.balancer");
    /** Relays spliced at once; more copy. Bounds the platform threads (two per relay). */
    static final int SPLICING_RELAYS = 64;
    private static final Semaphore SPLICE_SLOTS = new Semaphore(SPLICING_RELAYS);
    private static final ThreadFactory SPLICE_THREADS = Thread.ofPlatform().daemon().name("ferry-splice-", 0)
            .stackSize(256 * 1024).factory();
    private static final boolean SPLICE;

    static {
        String why = KernelSplice.unavailableReason();
        SPLICE = why == null && !Boolean.getBoolean("ferry.relay.copy");
        LOG.debug("event=relay mode={}{}", SPLICE ? "splice" : "copy", why == null ? "" : " reason=\"" + why + "\"");
    }

    private Relay() {}

    /** "splice" or "copy": how data connections are relayed in this JVM. */
    public static String mode() {
        return SPLICE ? "splice" : "copy";
    }

    /**
     * Relays until both directions reached end of stream or one failed; then closes both.
     *
     * @param up   bytes client -> backend
     * @param down bytes backend -> client
     */
    public static void run(SocketChannel client, SocketChannel backend, BufferPool pool, Watchdog watchdog,
                           Duration timeout, LongConsumer up, LongConsumer down) {
        run(client, backend, pool, watchdog, timeout, up, down, SPLICE);
    }

    /** As {@link #run}, splicing only if {@code splice} (tests run both ways in one JVM). */
    static void run(SocketChannel client, SocketChannel backend, BufferPool pool, Watchdog watchdog,
                    Duration timeout, LongConsumer up, LongConsumer down, boolean splice) {
        if (splice && SPLICE_SLOTS.tryAcquire()) {
            try {
                splice(client, backend, timeout, up, down);
            } finally {
                SPLICE_SLOTS.release();
            }
            return;
        }
        Watchdog.Guard guard = watchdog.guard(() -> {
            closeQuietly(client);
            closeQuietly(backend);
        });
        try {
            Thread upstream = Thread.ofVirtual().start(() -> pump(client, backend, pool, guard, timeout, up));
            pump(backend, client, pool, guard, timeout, down);
            upstream.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            guard.close();
            closeQuietly(client);
            closeQuietly(backend);
        }
    }

    private static void splice(SocketChannel client, SocketChannel backend, Duration timeout, LongConsumer up, LongConsumer down) {
        Thread upstream = SPLICE_THREADS.newThread(() -> splicePump(client, backend, timeout, up));
        Thread downstream = SPLICE_THREADS.newThread(() -> splicePump(backend, client, timeout, down));
        upstream.start();
        downstream.start();
        try {
            upstream.join();
            downstream.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // Shut down, not closed: the pumps still use the descriptors (see KernelSplice).
            shutdownQuietly(client);
            shutdownQuietly(backend);
            joinQuietly(upstream);
            joinQuietly(downstream);
        } finally {
            closeQuietly(client);
            closeQuietly(backend);
        }
    }

    private static void splicePump(SocketChannel from, SocketChannel to, Duration timeout, LongConsumer counter) {
        try {
            KernelSplice.pump(from, to, timeout, counter);
        } catch (IOException | RuntimeException e) {
            // One side failed: the other pump's sockets report end of stream or an error when shut down.
            LOG.debug("relay direction ended: {}", e.toString());
            shutdownQuietly(from);
            shutdownQuietly(to);
        }
    }

    private static void shutdownQuietly(SocketChannel c) {
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

    private static void joinQuietly(Thread t) {
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void pump(SocketChannel from, SocketChannel to, BufferPool pool, Watchdog.Guard guard,
                             Duration timeout, LongConsumer counter) {
        ByteBuffer buffer = pool.take();
        try {
            while (true) {
                guard.arm(timeout);
                int n = from.read(buffer);
                if (n < 0) {
                    break;
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    guard.arm(timeout);
                    to.write(buffer);
                }
                buffer.clear();
                counter.accept(n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // One side failed: the whole relay ends; the other pump sees its socket closed.
            closeQuietly(from);
            closeQuietly(to);
        } finally {
            pool.give(buffer);
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
