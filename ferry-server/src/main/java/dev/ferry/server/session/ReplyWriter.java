package dev.ferry.server.session;

import dev.ferry.protocol.Reply;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.Watchdog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * Writes replies on the control connection. The control thread and a transfer thread may both
 * reply (a 226 can arrive while STAT is answered), so whole replies are written under a lock and
 * never interleave. Each write runs under the connection's guard, so a client that stops reading
 * cannot hold the session forever.
 */
final class ReplyWriter {

    private final Connection connection;
    private final Watchdog.Guard writeGuard;
    private final Duration timeout;
    private final Object lock = new Object();

    ReplyWriter(Connection connection, Watchdog.Guard writeGuard, Duration timeout) {
        this.connection = connection;
        this.writeGuard = writeGuard;
        this.timeout = timeout;
    }

    void send(Reply reply) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(reply.toBytes());
        synchronized (lock) {
            writeGuard.arm(timeout);
            try {
                while (bytes.hasRemaining()) {
                    connection.write(bytes);
                }
            } finally {
                writeGuard.disarm();
            }
        }
    }

    void send(int code, String text) throws IOException {
        send(Reply.of(code, text));
    }
}
