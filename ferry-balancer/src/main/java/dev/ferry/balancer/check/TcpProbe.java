package dev.ferry.balancer.check;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Instant;

/** {@code check tcp}: the backend accepts a connection. Says nothing about whether it speaks FTP. */
final class TcpProbe implements Probe {

    private final CheckHeader header;

    TcpProbe(CheckHeader header) {
        this.header = header;
    }

    @Override
    public Outcome run(InetSocketAddress backend, Instant deadline) throws IOException {
        try (Socket socket = Deadlines.connect(backend, deadline)) {
            // A backend that requires the header would log every check without one as refused.
            header.sendOn(socket);
            return Outcome.passed("connected");
        }
    }
}
