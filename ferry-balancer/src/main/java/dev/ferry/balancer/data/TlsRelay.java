package dev.ferry.balancer.data;

import dev.ferry.server.ServerSettings.SessionReuse;
import dev.ferry.server.data.BufferPool;
import dev.ferry.server.net.Watchdog;
import dev.ferry.server.tls.ServerTls;
import dev.ferry.server.tls.TlsChannel;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Relay}'s sibling for a data connection with TLS on at least one side: the client's (PROT P at a
 * TLS-terminating balancer, the balancer in the server role) and/or the backend's (FTPS backends, the
 * balancer in the client role). Bytes are decrypted and encrypted again here, so nothing can be spliced;
 * everything else is Relay's: one virtual thread per direction, a guard that shuts both sockets down
 * when no byte moved for the data timeout, byte counters, and an end passed on as a half close.
 *
 * <p>Honest ends (RFC 8446 §6.1, RFC 5246 §7.2.1: data that ends without close_notify may be truncated):
 * a direction whose TLS source ends with close_notify, or whose plain source ends with FIN, is passed on
 * as close_notify (to a TLS side) and FIN. A TLS source that ends without close_notify is passed on as an
 * abort (RST, no close_notify), so that the receiver knows the data is not whole: a backend answers an
 * upload cut this way with 426 and does not store it. The exception is a source that ends after the
 * other direction has already ended: that is a receiver closing at the end of its transfer (many clients
 * close a download's connection without close_notify), not a cut.
 *
 * <p>Handshakes: the backend's first (the balancer is its TLS client and speaks first; a backend such as
 * vsftpd starts its handshake only after it has answered 150, which it does on its own), then the client's
 * (clients start theirs after the 150, which reaches them independently of this relay). Nothing here waits
 * for the client before the backend, so no handshake waits for the other.
 *
 * <p>Throughput: the 256 KiB pooled buffer collects every record the source has already delivered before
 * it is written, so a write to a TLS side wraps several records at once (TlsChannel's data mode).
 */
public final class TlsRelay {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.balancer");

    /** How a TLS relay went; only the failures before any byte moved change the transfer's final reply. */
    public enum Outcome { RELAYED, CLIENT_TLS_FAILED, CLIENT_NOT_RESUMED, BACKEND_TLS_FAILED }

    /**
     * The client's side: its data socket and, under PROT P, the balancer's server-side TLS for it.
     *
     * @param tls            null: clear text (PROT C)
     * @param controlSession the client's control connection's TLS session (for the reuse check), or null
     */
    public record ClientSide(SocketChannel socket, ServerTls tls, SSLSession controlSession) {}

    /** The backend's side: its data socket and, with FTPS backends, a client engine (null: plain). */
    public record BackendSide(SocketChannel socket, SSLEngine engine) {}

    /** What the session learns besides the outcome: for its log line. */
    public record Result(Outcome outcome, String clientTls, String error) {}

    private TlsRelay() {}

    /**
     * Handshakes, then relays until both directions ended or one failed; then closes both sockets.
     * {@code downstreamEnded} runs once when the backend -> client direction is over; when a handshake
     * failed it does not run: the caller acts on the result first (a 522 for the client), then ends it.
     */
    public static Result run(ClientSide client, BackendSide backend, BufferPool pool, Watchdog watchdog,
                             Duration timeout, Duration handshakeTimeout, SessionReuse reuse,
                             LongConsumer up, LongConsumer down, Runnable downstreamEnded) {
        SocketChannel c = client.socket();
        SocketChannel b = backend.socket();
        Watchdog.Guard guard = watchdog.guard(() -> {
            Relay.shutdownQuietly(c);
            Relay.shutdownQuietly(b);
        });
        try {
            ByteChannel backendChannel = b;
            TlsChannel backendTls = null;
            if (backend.engine() != null) {
                backendTls = new TlsChannel(b, backend.engine(), false);
                guard.arm(handshakeTimeout);
                try {
                    backendTls.handshake();
                } catch (IOException | RuntimeException e) {
                    abort(c);
                    abort(b);
                    return new Result(Outcome.BACKEND_TLS_FAILED, null, String.valueOf(e.getMessage()));
                }
                backendChannel = backendTls;
            }
            ByteChannel clientChannel = c;
            TlsChannel clientTls = null;
            String clientText = null;
            if (client.tls() != null) {
                long handshakeStart = System.currentTimeMillis();
                clientTls = new TlsChannel(c, client.tls().dataEngine(), false);
                guard.arm(handshakeTimeout);
                try {
                    clientTls.handshake();
                } catch (IOException | RuntimeException e) {
                    // SECURITY: the backend's side is aborted, not ended: a backend must not take an upload
                    // (an empty one here) as complete when the client never got through.
                    abort(c);
                    abort(b);
                    return new Result(Outcome.CLIENT_TLS_FAILED, null, String.valueOf(e.getMessage()));
                }
                boolean resumed = ServerTls.resumes(clientTls.session(), client.controlSession(), handshakeStart);
                clientText = resumed ? "resumed" : "full";
                // SECURITY: a data connection that resumes the control connection's TLS session comes from the
                // holder of that session's keys; any other client that reached the port first (port theft,
                // RFC 4217 §10.2 and §15.2.6) is refused when reuse is required.
                if (!resumed && reuse == SessionReuse.REQUIRED) {
                    abort(c);
                    abort(b);
                    return new Result(Outcome.CLIENT_NOT_RESUMED, clientText, null);
                }
                clientChannel = clientTls;
            }
            guard.disarm();
            Ends ends = new Ends();
            ByteChannel fromClient = clientChannel;
            ByteChannel toBackend = backendChannel;
            TlsChannel clientTlsFinal = clientTls;
            TlsChannel backendTlsFinal = backendTls;
            Thread upstream = Thread.ofVirtual().start(() -> direction(fromClient, clientTlsFinal, c, toBackend, backendTlsFinal, b,
                    pool, guard, timeout, up, ends.up, ends.down));
            try {
                direction(backendChannel, backendTls, b, clientChannel, clientTls, c, pool, guard, timeout, down, ends.down, ends.up);
            } finally {
                downstreamEnded.run();
            }
            Relay.joinUninterruptibly(upstream);
            return new Result(Outcome.RELAYED, clientText, null);
        } finally {
            guard.close();
            Relay.closeQuietly(c);
            Relay.closeQuietly(b);
        }
    }

    /** Which directions are over: an end without close_notify after the other direction ended is no cut. */
    private static final class Ends {
        final AtomicBoolean up = new AtomicBoolean();
        final AtomicBoolean down = new AtomicBoolean();
    }

    private static void direction(ByteChannel from, TlsChannel fromTls, SocketChannel fromSocket,
                                  ByteChannel to, TlsChannel toTls, SocketChannel toSocket,
                                  BufferPool pool, Watchdog.Guard guard, Duration timeout, LongConsumer counter,
                                  AtomicBoolean ended, AtomicBoolean otherEnded) {
        ByteBuffer buffer = pool.take();
        try {
            while (true) {
                guard.arm(timeout);
                int n = from.read(buffer);
                if (n < 0) {
                    break;
                }
                // Gather what is already decrypted or received, so one write carries several records.
                while (fromTls != null && buffer.remaining() >= 16 * 1024 && fromTls.hasBufferedInput()) {
                    int more = from.read(buffer);
                    if (more < 0) {
                        break;
                    }
                    n += more;
                }
                Relay.writeOut(buffer, to, guard, timeout);
                counter.accept(n);
            }
            if (fromTls != null && !fromTls.endedCleanly() && !otherEnded.get()) {
                // SECURITY: no close_notify: the data may have been cut short by whoever closed the
                // connection; the receiver is told by an abort, never by a clean end (RFC 8446 §6.1).
                LOG.debug("relay direction ended without close_notify: aborting the other side");
                ended.set(true);
                abort(toSocket);
                abort(fromSocket);
                return;
            }
            ended.set(true);
            if (toTls != null) {
                toTls.shutdownOutput();
            }
            toSocket.shutdownOutput();
        } catch (IOException | RuntimeException e) {
            // One side failed: the whole relay ends, as an abort (a cut must not look like an end).
            LOG.debug("relay direction ended: {}", e.toString());
            ended.set(true);
            abort(toSocket);
            abort(fromSocket);
        } finally {
            pool.give(buffer);
        }
    }

    /** Ends a socket with RST (SO_LINGER 0): the peer reads an error, never end of file or close_notify. */
    static void abort(SocketChannel c) {
        try {
            if (c.isOpen()) {
                c.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException | RuntimeException ignored) {
            // closed meanwhile
        }
        Relay.closeQuietly(c);
    }
}
