package dev.ferry.server.data;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;

/**
 * One passive-mode listener: waits for exactly one data connection from the session's data peer (its
 * client, or the trusted proxy that relays the client's data connections) and then closes, releasing
 * its port.
 */
public final class PassiveListener implements java.io.Closeable {

    private final ServerSocketChannel server;
    private final PassivePorts owner;
    private final int reservedPort;
    private final int port;
    private boolean closed;
    /** A connection taken early by {@link #connectionWaiting(InetAddress)}, handed out by the next accept. */
    private SocketChannel waiting;

    PassiveListener(ServerSocketChannel server, PassivePorts owner, int reservedPort) throws IOException {
        this.server = server;
        this.owner = owner;
        this.reservedPort = reservedPort;
        this.port = ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    public int port() {
        return port;
    }

    /**
     * True when a connection from {@code peer} is already waiting to be accepted (clients usually connect
     * before they send RETR). Never blocks; the connection is kept for {@link #accept}, which checks
     * its address again (and refuses one from another address).
     */
    public synchronized boolean connectionWaiting(InetAddress peer) throws IOException {
        if (waiting == null && !closed) {
            server.configureBlocking(false);
            try {
                waiting = server.accept();
            } finally {
                server.configureBlocking(true);
            }
        }
        if (waiting == null) {
            return false;
        }
        InetSocketAddress from = (InetSocketAddress) waiting.getRemoteAddress();
        return from != null && from.getAddress().equals(peer);
    }

    /**
     * Accepts the data connection from {@code peer}, waiting at most {@code timeoutMillis}.
     * Connections from any other address are closed and reported to {@code refused}.
     *
     * @return the connection, or null on timeout
     */
    public SocketChannel accept(InetAddress peer, long timeoutMillis, Consumer<InetSocketAddress> refused)
            throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        try {
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return null;
                }
                SocketChannel channel = takeWaiting();
                if (channel == null) {
                    try {
                        // The socket adaptor is the JDK's way to accept with a timeout.
                        server.socket().setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                        channel = server.socket().accept().getChannel();
                    } catch (SocketTimeoutException e) {
                        return null;
                    }
                }
                InetSocketAddress from = (InetSocketAddress) channel.getRemoteAddress();
                // SECURITY: only the session's data peer may connect (RFC 2577 §6, port stealing):
                // another host racing to the advertised port must never get the data. Behind a trusted
                // proxy that peer is the proxy, so the client itself connecting directly is refused too.
                if (from != null && from.getAddress().equals(peer)) {
                    return channel;
                }
                channel.close();
                refused.accept(from);
            }
        } finally {
            close();
        }
    }

    private synchronized SocketChannel takeWaiting() {
        SocketChannel c = waiting;
        waiting = null;
        return c;
    }

    public synchronized boolean isOpen() {
        return !closed;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (waiting != null) {
            try {
                waiting.close();
            } catch (IOException ignored) {
                // never handed out
            }
            waiting = null;
        }
        try {
            server.close();
        } catch (IOException ignored) {
            // best effort
        }
        owner.release(reservedPort);
    }
}
