package dev.ferry.balancer.data;

import dev.ferry.server.data.BufferPool;
import dev.ferry.server.net.Watchdog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.function.LongConsumer;

/**
 * Copies one data connection to another, both directions, until both are done. Each direction is
 * its own virtual thread; the end of one direction is passed on as a half close (shutdownOutput),
 * so an upload's end reaches the backend and a download's end reaches the client exactly as the
 * other side sent it. A guard per relay closes both sockets when no byte moved for the data timeout.
 */
public final class Relay {

    private Relay() {}

    /**
     * Relays until both directions reached end of stream or one failed; then closes both.
     *
     * @param up   bytes client -> backend
     * @param down bytes backend -> client
     */
    public static void run(SocketChannel client, SocketChannel backend, BufferPool pool, Watchdog watchdog,
                           Duration timeout, LongConsumer up, LongConsumer down) {
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
