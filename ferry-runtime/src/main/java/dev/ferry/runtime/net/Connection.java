package dev.ferry.runtime.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ByteChannel;

/**
 * A control connection as the session sees it: a blocking byte channel plus its two addresses.
 * Real sessions wrap a {@link java.nio.channels.SocketChannel} (through a {@link ProxiedConnection} when a
 * trusted proxy named the client); unit tests use in-memory pipes.
 */
public interface Connection extends ByteChannel {

    InetSocketAddress localAddress();

    /** The client: the peer of the socket, or the client a trusted proxy named in a PROXY header. */
    InetSocketAddress remoteAddress();

    /**
     * The peer the bytes really come from: the proxy for a connection that came through a trusted
     * PROXY protocol sender (which also relays its data connections), else the client itself.
     */
    default InetSocketAddress transportPeer() {
        return remoteAddress();
    }

    /**
     * Makes a blocked read return end-of-stream without closing the connection, so the session can
     * still send a final reply (used on idle timeout). Must not block.
     */
    void shutdownInput();

    /**
     * The socket channel an idle session may hand to the {@link IdleParker} while it waits for its
     * next command, or null when this connection cannot be parked (in-memory test connections).
     */
    default java.nio.channels.SocketChannel parkableChannel() {
        return null;
    }

    /**
     * Switches the connection to TLS as the server side and runs the handshake now (RFC 4217 §4: after the
     * 234 reply to AUTH TLS; on the implicit listener, first thing). Later reads and writes are encrypted.
     */
    default void startTls(javax.net.ssl.SSLEngine engine) throws IOException {
        throw new IOException("TLS is not available on this connection");
    }

    /**
     * Ends TLS and goes on in clear text on the same socket (CCC, RFC 4217 §6): close_notify is exchanged (the
     * peer's awaited for up to {@code waitForPeerMillis}, else taken off the next bytes read when it comes).
     * {@link #tlsSession()} is null afterwards.
     */
    default void endTls(long waitForPeerMillis) throws IOException {
        throw new IOException("TLS is not on");
    }

    /** The TLS session once {@link #startTls} succeeded (and until {@link #endTls}), else null. */
    default javax.net.ssl.SSLSession tlsSession() {
        return null;
    }

    /**
     * True when the peer has ended this connection (its FIN or a reset arrived) or it was shut or closed
     * here, as the kernel knows it now, without reading from it ({@link PeerEnd}); false while it is open
     * and whenever that cannot be known. Any thread may ask.
     */
    default boolean peerEnded() {
        return false;
    }

    /** Drops buffers an idle connection can do without (before it is parked). */
    default void releaseIdleBuffers() {
    }

    /** Closes from any thread, also while another thread is blocked in a read or write. */
    @Override
    void close() throws IOException;
}
