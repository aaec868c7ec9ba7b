package dev.ferry.balancer.check;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Instant;

/** {@code check tcp}: the backend accepts a connection. Says nothing about whether it speaks FTP. */
final class TcpProbe implements Probe {

    @Override
    public Outcome run(InetSocketAddress backend, Instant deadline) throws IOException {
        try (Socket socket = Deadlines.connect(backend, deadline)) {
            return Outcome.passed("connected");
        }
    }
}
