package dev.ferry.balancer.check;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Instant;

/** {@code check tcp}: the backend accepts a connection. Says nothing about whether it speaks FTP. */
final class TcpProbe implements Probe {

    private final CheckHeader header;
    private final InetAddress source;

    TcpProbe(CheckHeader header) {
        this(header, null);
    }

    /** {@code source}: where check connections come from (the balancer's {@code source}), or null. */
    TcpProbe(CheckHeader header, InetAddress source) {
        this.header = header;
        this.source = source;
    }

    @Override
    public Outcome run(InetSocketAddress backend, Instant deadline) throws IOException {
        try (Socket socket = Deadlines.connect(backend, source, deadline)) {
            // A backend that requires the header would log every check without one as refused.
            header.sendOn(socket);
            return Outcome.passed("connected");
        }
    }
}
