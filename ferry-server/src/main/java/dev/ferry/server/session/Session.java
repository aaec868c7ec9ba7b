package dev.ferry.server.session;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.command.CommandParser;
import dev.ferry.protocol.command.PreLogin;
import dev.ferry.protocol.ftps.ControlProtection;
import dev.ferry.protocol.line.ControlLine;
import dev.ferry.protocol.line.ControlLineReader;
import dev.ferry.protocol.proxy.ProxyProtocol;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.IdleParker;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.server.ServerContext;
import dev.ferry.server.command.Gate;
import dev.ferry.server.command.SessionState;
import dev.ferry.server.data.ControlSide;
import dev.ferry.server.data.TransferRunner;
import dev.ferry.server.log.SessionEvents;
import dev.ferry.server.metrics.ServerMetrics;
import dev.ferry.server.proxy.UntrustedHeaders;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import javax.net.ssl.SSLException;

/**
 * One control connection, from greeting to close, on its own virtual thread.
 *
 * <p>Design: a plain blocking loop reads a line, parses it and hands it to the {@link Dispatcher}: before
 * login the shared pre-login grammar ({@link PreLogin}) answers; after it, the path argument is resolved once
 * by the verb's path kind and the {@link Gate} applies the verb table (login, READ/WRITE, data protection)
 * before the handler runs. Handlers live in {@code command/}, own no connection, and return a {@link Reply}
 * value, or null when they started a transfer that replies itself. The state they act on is one
 * {@link SessionState}; TLS on the control connection is {@link ControlTls}'s. This class keeps the
 * connection and the lifecycle: admission, the idle and login clocks, parking an idle session, and the end.
 *
 * <p>Transfers run on their own virtual thread ({@link TransferRunner}) so that ABOR and STAT are answered
 * meanwhile; any other command waits for the running transfer to finish first, which keeps replies in order
 * for pipelining clients. While a transfer runs the control connection is not idle: its idle guard is
 * disarmed and re-armed when the transfer ends.
 *
 * <p>State is confined to the control thread, except what a transfer thread gets in its plan and the reply
 * writer, which serializes whole replies.
 */
public final class Session implements Runnable {

    private static final Reply INTERNAL_ERROR = Reply.of(421, "Internal error; closing the connection.");
    private static final Reply BANNED = Reply.of(421, "Too many failed logins from your address; try again later.");

    private final ServerContext ctx;
    private final Connection connection;
    private final String id;
    /** The client, for every per-address rule: the socket's peer, or the client a trusted proxy named. */
    private final InetAddress client;
    /** Every line this session logs: node, session, event, client, user (and proxy_session) first. */
    private final SessionEvents log;
    /** Came through the implicit-FTPS listener: TLS from the first byte, data protected (PROT P) from the start. */
    private final boolean implicitTls;
    /** A trusted proxy's own connection (a health check): no per-address limit, no bans. */
    private final boolean proxyOwn;
    private final ReplyWriter replies;
    private final Watchdog.Guard readGuard;
    private final Watchdog.Guard writeGuard;
    private final ControlLineReader reader;
    private final long startNanos = System.nanoTime();

    private final SessionState state;
    private final TransferRunner transfers;
    private final ControlTls tls;
    private final Dispatcher dispatcher;

    /** How the session ended when it was not by QUIT (a failed AUTH TLS handshake). */
    private String ending;
    private volatile boolean closing;
    /** The server is stopping: every session still open is told 421 (RFC 959: closing control connection). */
    private volatile boolean stopping;
    private volatile boolean idleArmed;
    private volatile int firingsAtArm;
    private SessionRegistry.Refusal refusal;
    /** Past the admission checks (its 220 is on the way): counted in the metrics' sessions_total when it ends. */
    private boolean greeted;
    private volatile Runnable onEnd;

    public Session(ServerContext ctx, Connection connection) {
        this(ctx, connection, false);
    }

    /** A session whose connection starts with a TLS handshake when {@code implicitTls} (the implicit-FTPS listener). */
    public Session(ServerContext ctx, Connection connection, boolean implicitTls) {
        this(ctx, connection, implicitTls, false);
    }

    /**
     * {@code proxyOwn}: a trusted proxy's own connection (PROXY LOCAL or UNKNOWN), i.e. a balancer's health
     * check. It is exempt from the per-address limit and from bans, which are about clients: behind a balancer
     * on the clients' own host (ferry cluster, loopback) a client holding its address's limit, or banned there,
     * would otherwise fail the checks and take the whole server out of the balancer.
     */
    public Session(ServerContext ctx, Connection connection, boolean implicitTls, boolean proxyOwn) {
        this(ctx, connection, implicitTls, proxyOwn, null);
    }

    /**
     * {@code proxySession}: the balancer's id of this session (PROXY v2 unique ID, proxy-protocol.txt §2.2.5),
     * logged on every line as {@code proxy_session} so that the balancer's lines and this server's match; null
     * when none came. A proxy-own session logs its INFO lines at DEBUG (see {@link SessionEvents}).
     */
    public Session(ServerContext ctx, Connection connection, boolean implicitTls, boolean proxyOwn,
                   String proxySession) {
        this.ctx = ctx;
        this.proxyOwn = proxyOwn;
        this.implicitTls = implicitTls;
        this.connection = connection;
        this.id = ctx.sessions().nextId();
        this.client = connection.remoteAddress().getAddress();
        // Where data connections come from (PASV) and go to (PORT): the client, or the trusted proxy that
        // relays them (it also rewrites PORT/EPRT to an address of its own).
        InetAddress dataPeer = connection.transportPeer().getAddress();
        InetAddress local = connection.localAddress().getAddress();
        this.log = new SessionEvents(ctx.sessionLog().session(id, HostPort.text(connection.remoteAddress())), proxyOwn);
        log.proxySession(proxySession);
        this.readGuard = ctx.watchdog().guard(connection::shutdownInput);
        this.writeGuard = ctx.watchdog().guard(() -> Closing.quietly(connection));
        this.replies = new ReplyWriter(connection, writeGuard, ctx.settings().limits().dataTimeout());
        this.reader = new ControlLineReader(connection, ctx.settings().limits().maxCommandLength());
        this.state = new SessionState(ControlProtection.forServer(ctx.tls() != null, implicitTls,
                ctx.settings().tls().allowCcc()), startNanos);
        ControlSide control = new Control();
        SessionEnd end = reason -> {
            closing = true;
            if (reason != null) {
                ending = reason;
            }
        };
        this.transfers = new TransferRunner(ctx, log, client, dataPeer, local, control);
        this.tls = new ControlTls(ctx, connection, writeGuard, reader, replies, state, end, log, implicitTls);
        this.dispatcher = new Dispatcher(ctx, state, transfers, control, replies, tls, end, log, client, dataPeer,
                local, proxyOwn);
    }

    public String id() {
        return id;
    }

    public InetAddress clientAddress() {
        return client;
    }

    /** The trusted proxy this session came through (its PROXY header named the client), or null. */
    public InetSocketAddress via() {
        InetSocketAddress peer = connection.transportPeer();
        return peer.equals(connection.remoteAddress()) ? null : peer;
    }

    /** Ends the session from outside (server stop): its blocked reads and writes fail at once. */
    public void close() {
        stopping = true;
        closing = true;
        // A parked session has no thread: shutting the input wakes it through the parker, and it ends itself.
        connection.shutdownInput();
        if (connection.parkableChannel() == null) {
            Closing.quietly(connection);
        }
    }

    public String user() {
        return state.user();
    }

    /** Called once when the session has ended (after its last reply and log line). */
    public void onEnd(Runnable callback) {
        this.onEnd = callback;
    }

    @Override
    public void run() {
        if (implicitTls && !tls.start()) {
            // Nothing was said and nothing was admitted: the connection just ends.
            readGuard.close();
            writeGuard.close();
            Closing.quietly(connection);
            Runnable callback = onEnd;
            if (callback != null) {
                callback.run();
            }
            return;
        }
        refusal = ctx.sessions().admit(this, proxyOwn ? null : client);
        try {
            if (refusal != null) {
                boolean tooMany = refusal == SessionRegistry.Refusal.TOO_MANY_SESSIONS;
                ctx.metrics().sessionRefused(tooMany ? ServerMetrics.Refusal.MAX_SESSIONS : ServerMetrics.Refusal.MAX_PER_ADDRESS);
                String reason = tooMany ? "refused-max-sessions" : "refused-max-per-address";
                via(log.info("refused").with("reason", reason)).log();
                replies.send(tooMany ? Replies.TOO_MANY_USERS : Replies.TOO_MANY_FROM_ADDRESS);
                finish(reason);
                return;
            }
            if (!proxyOwn && ctx.bans().isBanned(client)) {
                ctx.metrics().sessionRefused(ServerMetrics.Refusal.BANNED);
                // The client address is on the line (SessionLog): what fail2ban needs to keep it out.
                via(log.info("refused").with("reason", "banned")).log();
                replies.send(BANNED);
                finish("refused-banned");
                return;
            }
            // A trusted proxy's own connection is its health check, every few seconds per server: at INFO
            // it would bury the sessions (two lines per check). The balancer logs what checks decide.
            if (proxyOwn) {
                log.info("connect").with("proxy", "own").log();
            } else {
                via(log.info("connect")).log();
            }
            greeted = true;
            replies.send(220, ctx.settings().serverName() + " ready.");
        } catch (IOException e) {
            finish("error");
            return;
        }
        proceed();
    }

    /** Runs the command loop on the current thread until the session ends or parks. */
    private void proceed() {
        String reason;
        try {
            reason = loop();
            if (reason == null) {
                return; // parked: the idle parker resumes us on a new thread
            }
        } catch (SSLException e) {
            // A TLS alert, a record that does not decrypt, or a renegotiation the server refuses.
            reason = "error";
            log.info("tls-failed").with("during", "session")
                    .with("error", Printable.of(String.valueOf(e.getMessage()), 160)).log();
        } catch (IOException e) {
            reason = "error";
            log.debug("control-failed").with("error", e.toString()).log();
        } catch (RuntimeException e) {
            reason = "bug";
            // "internal error" in the line: what the test harnesses look for after every test.
            log.warn("internal-error").with("message", "session ended by an internal error").log(e);
            trySend(INTERNAL_ERROR);
        }
        finish(reason);
    }

    /** Continues a parked session: its client sent something (or its input was shut). */
    private void resume() {
        try {
            connection.parkableChannel().configureBlocking(true);
        } catch (IOException | RuntimeException e) {
            finish("error");
            return;
        }
        proceed();
    }

    private void finish(String reason) {
        try {
            transfers.abortAndWait();
            state.discardEndpoint();
            readGuard.close();
            writeGuard.close();
            Closing.quietly(connection);
            if (refusal == null) {
                ctx.sessions().leave(this, proxyOwn ? null : client);
                // A proxy-own session (a balancer's check, which may log in and transfer) logs at DEBUG
                // throughout; its disconnect still says proxy=own, and WARN lines stay WARN.
                Event line = log.info("disconnect").with("reason", reason)
                        .with("duration_ms", (System.nanoTime() - startNanos) / 1_000_000L)
                        .with("transfers", transfers.transfers()).with("bytes_in", transfers.bytesIn())
                        .with("bytes_out", transfers.bytesOut());
                if (log.refusedCount() > 0) {
                    line.with("refused", log.refusedCount());
                }
                if (proxyOwn) {
                    line.with("proxy", "own");
                }
                line.log();
                if (greeted) {
                    ctx.metrics().sessionEnded(reason);
                }
            }
        } finally {
            // Whatever ended the session (a quit, a dropped connection, a bug in a handler), its user's place goes,
            // and so does its hold on the user's bandwidth buckets.
            state.releaseLease();
            state.releaseBandwidth();
            Runnable callback = onEnd;
            if (callback != null) {
                callback.run();
            }
        }
    }

    /**
     * Reads and handles commands until the session ends (returns how it ended) or parks (returns
     * null: the thread is given up and the idle parker resumes the session later).
     */
    private String loop() throws IOException {
        while (!closing) {
            if (!idleArmed && transfers.running() == null) {
                armIdle();
            }
            if (ctx.idleParker() != null && connection.parkableChannel() != null
                    && !reader.awaitInput(IdleParker.PARK_AFTER_MILLIS) && !closing) {
                park();
                return null;
            }
            ControlLine line;
            try {
                ProxyProtocol.Signature header = reader.proxySignatureAhead();
                if (header != ProxyProtocol.Signature.NONE) {
                    return untrustedProxyHeader(header);
                }
                line = reader.readLine();
            } catch (EOFException e) {
                if (stopping) {
                    return stopped();
                }
                if (readGuard.firings() != firingsAtArm) {
                    boolean loggedIn = state.loggedIn();
                    log.info("timeout").with("kind", loggedIn ? "idle" : "login").log();
                    trySend(loggedIn ? Replies.IDLE_TIMEOUT : Replies.LOGIN_TIMEOUT);
                    return loggedIn ? "idle-timeout" : "login-timeout";
                }
                return "client-closed";
            }
            readGuard.disarm();
            idleArmed = false;
            if (stopping) {
                // Bytes queued before the stop are still readable: do not act on them.
                return stopped();
            }
            switch (line) {
                case ControlLine.Text t -> handle(t.text());
                case ControlLine.TooLong tl -> replies.send(Replies.lineTooLong(tl.limit()));
                case ControlLine.BadEncoding b -> replies.send(Replies.BAD_UTF8);
            }
        }
        return stopping ? stopped() : ending != null ? ending : "quit";
    }

    /**
     * The connection starts with a PROXY header, and the gate did not read it: the peer is not in
     * {@code proxy-protocol.trusted}. Almost always a balancer this server was not told to trust; its header's
     * pieces must not be answered as commands (the v2 signature holds two empty lines and "QUIT", so the
     * client behind the balancer saw "500 Empty command." and the server logged a normal quit). Say so to
     * the peer (the balancer fails its check on the 421 and passes it on to its client) and to the operator.
     */
    private String untrustedProxyHeader(ProxyProtocol.Signature header) {
        // SECURITY: the header is not read, let alone believed: the peer stays what the socket says.
        InetAddress peer = connection.transportPeer().getAddress();
        String version = header == ProxyProtocol.Signature.V1 ? "v1" : "v2";
        UntrustedHeaders.Warning warning = ctx.untrustedHeaders().record(peer);
        Event line = (warning != null ? log.warn("proxy-header-untrusted") : log.debug("proxy-header-untrusted"))
                .with("version", version).with("setting", "proxy-protocol.trusted").with("flag", "--proxy-protocol-from")
                .with("hint", peer.getHostAddress() + " sent a PROXY header but is not a trusted proxy: add it to"
                        + " proxy-protocol.trusted (--proxy-protocol-from), or turn proxy-protocol off on the balancer")
                .with("suppressed", warning == null ? 0 : warning.suppressed());
        line.log();
        trySend(Reply.of(421, "PROXY protocol header refused: " + peer.getHostAddress()
                + " is not a trusted proxy of this server (proxy-protocol.trusted); closing."));
        return "proxy-header-untrusted";
    }

    private String stopped() {
        trySend(Replies.SHUTTING_DOWN);
        return "server-stop";
    }

    private void park() throws IOException {
        // An idle session holds no passive port for a next PASV that may never come. Not while a transfer
        // runs: its listener may be the one it is accepting on (LIST waiting for the client's connection).
        if (transfers.running() == null) {
            state.releasePassive();
        }
        reader.releaseBuffers();
        connection.releaseIdleBuffers();
        SocketChannel channel = connection.parkableChannel();
        channel.configureBlocking(false);
        ctx.idleParker().park(channel, this::resume);
    }

    private void armIdle() {
        firingsAtArm = readGuard.firings();
        idleArmed = true;
        if (state.loggedIn()) {
            readGuard.arm(ctx.settings().limits().idleTimeout());
        } else {
            // The login timeout runs from the connection, not from the last command: NOOPs must
            // not keep an unauthenticated connection open forever.
            long left = ctx.settings().limits().loginTimeout().toNanos() - (System.nanoTime() - state.loginClockNanos());
            readGuard.arm(Duration.ofNanos(Math.max(1, left)));
        }
    }

    void handle(String line) throws IOException {
        CommandParser.Result parsed = CommandParser.parse(line);
        if (parsed instanceof CommandParser.Result.Parsed p) {
            dispatcher.dispatch(p.command());
        } else {
            replies.send(CommandParser.refusal(parsed));
        }
    }

    private void trySend(Reply reply) {
        try {
            replies.send(reply);
        } catch (IOException ignored) {
            // the connection is already gone; nothing more to tell the client
        }
    }

    /** The control side a transfer sees: replies, the client's end, the idle clock; not the session. */
    private final class Control implements ControlSide {

        @Override
        public void send(Reply reply) throws IOException {
            replies.send(reply);
        }

        @Override
        public void trySend(Reply reply) {
            Session.this.trySend(reply);
        }

        /**
         * Under TLS and through a trusted proxy it is the socket under them that is asked ({@link
         * Connection#peerEnded}). Not when the server itself ends the session (a stop shuts the input too):
         * that is an abort, and no upload commits then either.
         */
        @Override
        public boolean clientEnded() {
            return !stopping && connection.peerEnded();
        }

        @Override
        public void transferEnded() {
            armIdle();
        }
    }

    /** Adds {@code via=PROXY} (the trusted proxy) to the line of a proxied session. */
    private Event via(Event line) {
        InetSocketAddress via = via();
        return via == null ? line : line.with("via", HostPort.text(via));
    }
}
