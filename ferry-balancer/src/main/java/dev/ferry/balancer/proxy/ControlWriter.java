package dev.ferry.balancer.proxy;

import dev.ferry.protocol.Reply;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.Watchdog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Writes to one control connection, whole messages one at a time, each under a write guard: a peer that stops
 * reading is cut off (the guard's action shuts the connection) instead of holding a pump forever.
 */
final class ControlWriter implements ClientReplies {

    private final Connection conn;
    private final Watchdog.Guard guard;
    private final Supplier<Duration> timeout;

    /** {@code guard}: armed for {@code timeout} (read at each write) while a write is blocked. */
    ControlWriter(Connection conn, Watchdog.Guard guard, Supplier<Duration> timeout) {
        this.conn = conn;
        this.guard = guard;
        this.timeout = timeout;
    }

    @Override
    public void send(Reply reply) throws IOException {
        write(reply.toBytes());
    }

    /** Writes everything, or throws; another writer waits until this message is out. */
    synchronized void write(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            while (b.hasRemaining()) {
                guard.arm(timeout.get());
                conn.write(b);
            }
        } finally {
            guard.disarm();
        }
    }

    /** The guard is no longer needed (the session ended). */
    void close() {
        guard.close();
    }

    /** Ends both directions of a connection without closing it, so a parked read wakes up; null: nothing. */
    static void shutdown(Connection conn) {
        if (conn == null) {
            return;
        }
        conn.shutdownInput();
        SocketChannel channel = conn.parkableChannel();
        if (channel == null) {
            return; // in memory: the pumps end on the shut input, and the session's end closes
        }
        try {
            channel.shutdownOutput();
        } catch (IOException | RuntimeException ignored) {
            // already closed or not connected
        }
    }
}
