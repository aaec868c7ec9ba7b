package dev.ferry.server.session;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.ftps.ControlProtection;
import dev.ferry.protocol.line.ControlLineReader;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.runtime.tls.TlsEndpoint;
import dev.ferry.server.ServerContext;
import dev.ferry.server.command.SessionState;
import dev.ferry.server.data.DataTls;
import dev.ferry.server.log.SessionEvents;
import java.io.IOException;
import javax.net.ssl.SSLSession;

/**
 * TLS on the control connection: the handshake (from the first byte on the implicit-FTPS listener, or after
 * AUTH's 234) and CCC's shutdown. Whether a command may do it is {@link ControlProtection}'s answer, shared
 * with the balancer; this class does the I/O that answer names and reports the outcome back to it.
 */
final class ControlTls {

    /**
     * After CCC, how long to wait for the client's close_notify before sending ours unasked: clients that send
     * one do so at once; curl's default CCC mode sends none and waits for ours, so this is what it pays.
     */
    private static final long CCC_PEER_CLOSE_WAIT_MILLIS = 200;

    private final ServerContext ctx;
    private final Connection connection;
    private final Watchdog.Guard writeGuard;
    private final ControlLineReader reader;
    private final ReplyWriter replies;
    private final SessionState state;
    private final SessionEnd end;
    private final SessionEvents log;
    private final boolean implicitTls;

    ControlTls(ServerContext ctx, Connection connection, Watchdog.Guard writeGuard, ControlLineReader reader,
               ReplyWriter replies, SessionState state, SessionEnd end, SessionEvents log,
               boolean implicitTls) {
        this.ctx = ctx;
        this.connection = connection;
        this.writeGuard = writeGuard;
        this.reader = reader;
        this.replies = replies;
        this.state = state;
        this.end = end;
        this.log = log;
        this.implicitTls = implicitTls;
    }

    /** AUTH (RFC 2228 §3, RFC 4217 §4): the answer is ControlProtection's; the handshake is the connection's. */
    Reply auth(String arg) throws IOException {
        ControlProtection.Decision decision = state.protection().auth(arg, reader.hasBufferedInput());
        if (decision.then() != ControlProtection.Action.START_TLS) {
            return decision.reply();
        }
        replies.send(decision.reply());
        if (!start()) {
            // RFC 4217 §10.1: a handshake that failed midway leaves the connection in an unknown state: drop it.
            end.afterReply("tls-failed");
            return null;
        }
        state.protection().tlsStarted();
        // RFC 2228 §3 and RFC 4217 §4: after AUTH the user logs in again, transfer parameters are reset. AUTH
        // does not extend the login timeout of a session that was not logged in.
        state.reset(state.loggedIn());
        return null;
    }

    /**
     * CCC (RFC 4217 §5, RFC 2228 §3): the control connection goes on in clear text, for firewalls and NATs that
     * must read PASV/PORT. Whether it may is ControlProtection's answer; the TLS shutdown is the connection's.
     */
    Reply clearCommandChannel() throws IOException {
        ControlProtection.Decision decision = state.protection().clearCommandChannel(reader.hasBufferedInput());
        if (decision.then() != ControlProtection.Action.END_TLS) {
            return decision.reply();
        }
        replies.send(decision.reply());
        try {
            connection.endTls(CCC_PEER_CLOSE_WAIT_MILLIS);
        } catch (IOException e) {
            log.info("tls-failed").with("during", "ccc")
                    .with("error", Printable.of(String.valueOf(e.getMessage()), 160)).log();
            end.afterReply("tls-failed");
            return null;
        }
        state.protection().controlCleared();
        log.info("ccc").with("prot", state.protection().protectData() ? "P" : "C").log();
        return null;
    }

    /** The handshake on the control connection, bounded by the handshake timeout; false (logged) when it failed. */
    boolean start() {
        writeGuard.arm(ctx.settings().tls().handshakeTimeout());
        // Data connections take their engines from this context, not from the server's current one (DataTls).
        TlsEndpoint tls = ctx.tls();
        try {
            connection.startTls(tls.controlEngine());
        } catch (IOException | RuntimeException e) {
            log.info("tls-failed").with("error", Printable.of(String.valueOf(e.getMessage()), 160)).log();
            return false;
        } finally {
            writeGuard.disarm();
        }
        SSLSession session = connection.tlsSession();
        state.dataTls(new DataTls(tls, session));
        var line = log.info("tls").with("protocol", session.getProtocol()).with("cipher", session.getCipherSuite());
        if (implicitTls) {
            line.with("implicit", true);
        }
        line.log();
        return true;
    }
}
