package dev.ferry.balancer.check;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;

/** A whole check shares one deadline: each connect and read gets what is left of it. */
final class Deadlines {

    private Deadlines() {}

    /** Milliseconds left before the deadline, at least 1 (0 would mean "no timeout" to a socket). */
    static int remainingMillis(Instant deadline, String awaiting) throws SocketTimeoutException {
        long ms = Duration.between(Instant.now(), deadline).toMillis();
        if (ms <= 0) {
            throw new SocketTimeoutException("timeout awaiting " + awaiting);
        }
        return (int) Math.min(ms, Integer.MAX_VALUE);
    }

    /** {@code source}: the local address to connect from (the balancer's {@code source} setting), or null for the one routing picks. */
    static Socket connect(InetSocketAddress target, InetAddress source, Instant deadline) throws IOException {
        Socket socket = new Socket();
        try {
            if (source != null) {
                socket.bind(new InetSocketAddress(source, 0));
            }
            socket.connect(target, remainingMillis(deadline, "connect"));
            socket.setTcpNoDelay(true);
            return socket;
        } catch (SocketTimeoutException e) {
            socket.close();
            throw new SocketTimeoutException("timeout awaiting connect");
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }
}
