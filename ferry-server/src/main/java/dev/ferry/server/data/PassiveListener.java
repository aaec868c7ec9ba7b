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
 * client, or the trusted proxy that relays the client's data connections) per PASV/EPSV.
 *
 * <p>Reuse: once it has served its connection, the listener may stay open for the session's next
 * PASV/EPSV, which then advertises the same port again (RFC 959 §4.1.2 asks only that the server
 * listen on a data port; nothing says a new one). That saves a socket, bind, listen and close per
 * file for a client fetching many small files. It is only reused when its connection was used, so
 * no earlier PASV still expects one on it (a balancer's connect for a replaced route could
 * otherwise arrive late and be taken for the next transfer's); connections waiting when it is
 * reused came unasked and are closed. A kept listener holds its port: the range takes it back when
 * it runs out ({@link PassivePorts#open}), and the session gives it back when it goes idle or ends.
 */
public final class PassiveListener implements java.io.Closeable {

    private final ServerSocketChannel server;
    private final PassivePorts owner;
    private final int reservedPort;
    private final int port;
    private boolean closed;
    /** A connection taken early by {@link #connectionWaiting(InetAddress)}, handed out by the next accept. */
    private SocketChannel waiting;
    /** Served its connection and kept open for the session's next PASV/EPSV ({@link #reuse}). */
    private boolean kept;
    /** Connections closed unasked at a reuse before the listener is given up instead (its backlog is 4). */
    private static final int UNASKED_LIMIT = 16;

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
        SocketChannel accepted = null;
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
                    accepted = channel;
                    return channel;
                }
                channel.close();
                refused.accept(from);
            }
        } finally {
            // Served: kept for the next PASV/EPSV while the range has room, else its port goes back now.
            // Not served (a timeout, an abort, an error): closed, as nothing may come to it later.
            if (accepted == null || !keep()) {
                close();
            }
        }
    }

    private boolean keep() {
        synchronized (this) {
            if (closed) {
                return false;
            }
            kept = true;
        }
        if (owner.keep(this)) {
            return true;
        }
        synchronized (this) {
            kept = false;
        }
        return false;
    }

    /**
     * Takes a kept listener up again for a new PASV/EPSV: false when it cannot serve (never served, given
     * back to the range, or closed), and the caller opens a new one. Connections waiting now were not asked
     * for by this PASV, whose reply has not gone out yet: they are closed, not handed to its transfer.
     */
    public boolean reuse() {
        boolean drained;
        synchronized (this) {
            if (!kept || closed) {
                return false;
            }
            kept = false;
            drained = dropUnasked();
        }
        owner.unkeep(this);
        if (!drained) {
            close();
        }
        return drained;
    }

    /** Closes what waits in the backlog; false when the listener failed or more kept coming than a backlog holds. */
    private boolean dropUnasked() {
        try {
            server.configureBlocking(false);
            try {
                for (int i = 0; i < UNASKED_LIMIT; i++) {
                    SocketChannel unasked = server.accept();
                    if (unasked == null) {
                        return true;
                    }
                    unasked.close();
                }
                return false;
            } finally {
                server.configureBlocking(true);
            }
        } catch (IOException e) {
            return false;
        }
    }

    /** The range needs this port back: closes the listener only while it is kept (not taken up again). */
    synchronized boolean closeIfKept() {
        if (!kept || closed) {
            return false;
        }
        close();
        return true;
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
        kept = false;
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
        owner.unkeep(this);
        owner.release(reservedPort);
    }
}
