package dev.ferry.balancer.data;

import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.runtime.tls.SessionReuse;
import dev.ferry.runtime.tls.TlsChannel;
import dev.ferry.runtime.tls.TlsEndpoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.function.LongConsumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Relay}'s sibling for a data connection with TLS on at least one side: the client's (PROT P at a
 * TLS-terminating balancer, the balancer in the server role) and/or the backend's (FTPS backends, the
 * balancer in the client role). Bytes are decrypted and encrypted again here, so nothing can be spliced;
 * everything else is Relay's: one virtual thread per direction, a guard that gives the relay up when no
 * byte moved for the data timeout, byte counters, and ends passed on as {@link Flow} says.
 *
 * <p>Honest ends (RFC 8446 §6.1, RFC 5246 §7.2.1: data that ends without close_notify may be truncated):
 * a direction whose TLS source ends with close_notify, or whose plain source ends with FIN while its
 * sender's control connection is still there, is passed on as close_notify (to a TLS side) and FIN. A TLS
 * source that ends without close_notify gives the relay up (RST, no close_notify), so that the receiver
 * knows the data is not whole: a backend answers an upload cut this way with 426 and does not store it.
 * The exception is a source that ends after the other direction has already ended: that is a receiver
 * closing at the end of its transfer (many clients close a download's connection without close_notify),
 * not a cut.
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
    public record ClientSide(SocketChannel socket, TlsEndpoint tls, SSLSession controlSession) {}

    /** The backend's side: its data socket and, with FTPS backends, a client engine (null: plain). */
    public record BackendSide(SocketChannel socket, SSLEngine engine) {}

    /** What the session learns besides the outcome: for its log line. */
    public record Result(Outcome outcome, String clientTls, String error) {}

    private TlsRelay() {}

    /**
     * Handshakes, then relays until both directions ended (each recorded in {@code flow}); then closes both
     * sockets. When a handshake fails or is refused both sockets are reset and the result says why, for the
     * client's reply (a 522); the caller then ends the flow.
     */
    public static Result run(ClientSide client, BackendSide backend, BufferPool pool, Watchdog watchdog,
                             Duration timeout, Duration handshakeTimeout, SessionReuse reuse,
                             LongConsumer up, LongConsumer down, Flow flow) {
        SocketChannel c = client.socket();
        SocketChannel b = backend.socket();
        Watchdog.Guard guard = watchdog.guard(flow::timedOut);
        flow.attach(c, b);
        try {
            ByteChannel backendChannel = b;
            TlsChannel backendTls = null;
            if (backend.engine() != null) {
                backendTls = new TlsChannel(b, backend.engine(), false);
                guard.arm(handshakeTimeout);
                try {
                    backendTls.handshake();
                } catch (IOException | RuntimeException e) {
                    return refused(flow, new Result(Outcome.BACKEND_TLS_FAILED, null, String.valueOf(e.getMessage())));
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
                    // SECURITY: the backend's side is reset, not ended: a backend must not take an upload
                    // (an empty one here) as complete when the client never got through.
                    return refused(flow, new Result(Outcome.CLIENT_TLS_FAILED, null, String.valueOf(e.getMessage())));
                }
                boolean resumed = TlsEndpoint.resumes(clientTls.session(), client.controlSession(), handshakeStart);
                clientText = resumed ? "resumed" : "full";
                // SECURITY: a data connection that resumes the control connection's TLS session comes from the
                // holder of that session's keys; any other client that reached the port first (port theft,
                // RFC 4217 §10.2 and §15.2.6) is refused when reuse is required.
                if (!resumed && reuse == SessionReuse.REQUIRED) {
                    return refused(flow, new Result(Outcome.CLIENT_NOT_RESUMED, clientText, null));
                }
                clientChannel = clientTls;
            }
            guard.disarm();
            ByteChannel fromClient = clientChannel;
            ByteChannel toBackend = backendChannel;
            TlsChannel clientTlsFinal = clientTls;
            TlsChannel backendTlsFinal = backendTls;
            Thread upstream = Thread.ofVirtual().start(() -> direction(fromClient, clientTlsFinal, toBackend, backendTlsFinal, b,
                    true, pool, guard, timeout, up, flow));
            direction(backendChannel, backendTls, clientChannel, clientTls, c, false, pool, guard, timeout, down, flow);
            Relay.joinUninterruptibly(upstream);
            return new Result(Outcome.RELAYED, clientText, null);
        } finally {
            guard.close();
            if (flow.up() != Flow.End.CLEAN || flow.down() != Flow.End.CLEAN) {
                Flow.lingerZero(c);
                Flow.lingerZero(b);
            }
            Closing.quietly(c);
            Closing.quietly(b);
        }
    }

    /**
     * A handshake failed or was refused: both sockets reset, nothing relayed. The directions are not marked
     * ended: the caller acts on the result first (a 522 for the client), then ends the flow ({@link Flow#abandon}).
     */
    private static Result refused(Flow flow, Result result) {
        flow.giveUp("data connection TLS: " + result.outcome());
        return result;
    }

    private static void direction(ByteChannel from, TlsChannel fromTls, ByteChannel to, TlsChannel toTls, SocketChannel toSocket,
                                  boolean upstream, BufferPool pool, Watchdog.Guard guard, Duration timeout,
                                  LongConsumer counter, Flow flow) {
        ByteBuffer buffer = pool.take();
        boolean clean = false;
        boolean failed = false;
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
                Relay.setWriting(flow, upstream, true);
                Relay.writeOut(buffer, to, guard, timeout);
                Relay.setWriting(flow, upstream, false);
                counter.accept(n);
                if (upstream && n > 0) {
                    flow.upMoved = true;
                }
            }
            boolean otherEnded = (upstream ? flow.down() : flow.up()) != null;
            boolean closeNotify = fromTls != null && fromTls.endedCleanly();
            if (fromTls != null && !closeNotify && !otherEnded) {
                // SECURITY: no close_notify: the data may have been cut short by whoever closed the
                // connection; the receiver is told by a reset, never by a clean end (RFC 8446 §6.1).
                flow.giveUp("TLS data ended without close_notify");
            } else if (closeNotify ? !flow.givenUp() : flow.mayPassEnd(upstream)) {
                // A close_notify comes from the peer's TLS stack, never from its kernel as it dies: no need to ask
                // its control connection whether this end is a completion.
                if (toTls != null) {
                    toTls.shutdownOutput();
                }
                toSocket.shutdownOutput();
                clean = true;
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("relay direction ended: {}", e.toString());
            failed = true;
        } finally {
            pool.give(buffer);
            flow.ended(upstream, clean, failed);
        }
    }

}
