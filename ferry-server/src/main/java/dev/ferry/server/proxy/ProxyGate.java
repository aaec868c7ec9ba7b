package dev.ferry.server.proxy;

import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.protocol.proxy.ProxyProtocol;
import dev.ferry.protocol.proxy.ProxyProtocolException;
import dev.ferry.runtime.net.Cidr;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.SocketConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.time.Duration;
import java.util.List;

/**
 * The PROXY protocol (proxy-protocol.txt) on accepted control connections: which peers must start with
 * a header, reading it within a bound, and which connection the session then sees.
 *
 * <p>Design: the decision rests on the socket's peer address alone, made before a byte is read. A
 * trusted peer (a balancer) must send a valid header first, and nothing else is accepted from it: the
 * receiver "MUST not try to guess whether the protocol header is present" (spec §2), since a client
 * could then send one itself. An untrusted peer's bytes are never parsed as a header, so its
 * "PROXY ..." is just an unknown command. The header is read before the greeting (spec §2: FTP's server
 * speaks first, but not before a complete and valid header), to its last byte and not one more
 * ({@link ProxyProtocol#read}), within a deadline (spec §2 allows aborting after a few seconds), so a
 * silent trusted peer cannot hold a thread.
 */
public final class ProxyGate {

    /** What to do with an accepted connection. */
    public sealed interface Outcome {

        /**
         * Serve this connection: the proxied client's, or the socket itself (untrusted peer, LOCAL or UNKNOWN
         * header). {@code proxyOwn}: the trusted proxy's own connection (LOCAL or UNKNOWN), a health check.
         * {@code proxySession}: the proxy's id of the connection (PROXY v2 unique ID, spec §2.2.5), or null.
         */
        record Open(Connection connection, boolean proxyOwn, String proxySession) implements Outcome {}

        /** A trusted peer sent no valid header: close without a word (spec §2.1, §2.2: the receiver drops it). */
        record Drop(String reason) implements Outcome {}
    }

    private final List<Cidr> trusted;
    private final Duration headerTimeout;

    /** {@code trusted}: networks in CIDR notation; empty turns the PROXY protocol off. */
    public ProxyGate(List<String> trusted, Duration headerTimeout) {
        this.trusted = trusted.stream().map(Cidr::parse).toList();
        this.headerTimeout = headerTimeout;
    }

    public boolean trusts(InetAddress peer) {
        for (Cidr network : trusted) {
            if (network.contains(peer)) {
                return true;
            }
        }
        return false;
    }

    /** Reads the header if the peer is trusted; throws only for I/O failures other than the deadline. */
    public Outcome open(SocketConnection socket) throws IOException {
        // SECURITY: only a trusted proxy may name another client address; anyone else could otherwise
        // claim any address, and with it escape bans and per-address limits or steal data connections.
        if (!trusts(socket.remoteAddress().getAddress())) {
            return new Outcome.Open(socket, false, null);
        }
        ProxyHeader header;
        try {
            header = ProxyProtocol.read(new Bounded(socket, System.nanoTime() + headerTimeout.toNanos()));
        } catch (ProxyProtocolException e) {
            return new Outcome.Drop(e.getMessage());
        } catch (SocketTimeoutException e) {
            return new Outcome.Drop("no complete PROXY header within " + headerTimeout.toMillis() + " ms");
        }
        // Spec §2.1, §2.2: LOCAL (v2) and UNKNOWN (v1) are the proxy's own connections, health checks
        // for instance: the real endpoints apply. Spec §2.1 asks a v1 sender's checks to name the check
        // connection's own endpoints instead of UNKNOWN (Ferry's balancer does): a header naming this very
        // socket's peer, address and port, says the same.
        if (header.isLocal() || header.source().equals(socket.remoteAddress())) {
            return new Outcome.Open(socket, true, header.uniqueId());
        }
        return new Outcome.Open(new ProxiedConnection(socket, header.source()), false, header.uniqueId());
    }

    /** The socket's bytes until a deadline; a read past it fails with a timeout. */
    private record Bounded(SocketConnection socket, long deadlineNanos) implements ReadableByteChannel {
        @Override
        public int read(ByteBuffer dst) throws IOException {
            long left = (deadlineNanos - System.nanoTime()) / 1_000_000L;
            int n = left > 0 ? socket.readWithin(dst, left) : 0;
            if (n == 0) {
                throw new SocketTimeoutException("PROXY header deadline passed");
            }
            return n;
        }

        @Override
        public boolean isOpen() {
            return socket.isOpen();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
