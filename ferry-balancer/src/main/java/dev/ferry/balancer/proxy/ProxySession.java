package dev.ferry.balancer.proxy;

import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.BackendLogin;
import dev.ferry.balancer.backend.BackendReply;
import dev.ferry.balancer.frontend.Admission;
import dev.ferry.balancer.frontend.BackendConnect;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.balancer.frontend.ClientSession;
import dev.ferry.balancer.frontend.Features;
import dev.ferry.balancer.data.Flow;
import dev.ferry.balancer.data.TlsRelay;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.CommandParser;
import dev.ferry.protocol.command.FeatureList;
import dev.ferry.protocol.command.PreLogin;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.ftps.ControlProtection;
import dev.ferry.protocol.line.ControlLine;
import dev.ferry.protocol.line.ControlLineReader;
import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.SocketConnection;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.runtime.tls.TlsEndpoint;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's control connection through the balancer.
 *
 * <p>Design: the balancer greets the client itself and answers what comes before USER (FEAT,
 * OPTS, HOST, SYST, NOOP, HELP), so the backend can be chosen from the user name and a backend
 * that fails to connect or greet is replaced before the client notices. After USER two pumps run:
 * client to backend (commands forwarded as sent, each noted in a queue of {@link Awaited} replies), and
 * backend to client (whole replies, each final one matched to the command it answers). Every data
 * connection goes through a {@link DataRoute} with the backend in passive mode: PASV/EPSV replies are
 * rewritten to the balancer's public address and a port of its own range, whose data connection is
 * relayed to exactly the port the backend announced, on the backend's own host; a client's PORT/EPRT is
 * checked, answered once the backend opened a passive port, and served by the balancer connecting to
 * both. Replies the balancer makes itself wait until the backend has answered every earlier command, so
 * pipelined clients see replies in order.
 *
 * <p>A success reply is a promise: a transfer's 2xx reaches the client only when its data connection was
 * relayed to its end; a relay that fails or is given up resets both sides ({@link Flow}), and a transfer
 * whose data timed out is answered 426 by the balancer itself, since a stalled backend may never answer.
 *
 * <p>Idle sessions cost no threads: a pump that has waited {@link #PARK_AFTER_MILLIS} without input
 * hands its socket to the {@link dev.ferry.runtime.net.IdleParker} and its thread ends; a new one
 * continues when bytes arrive. So that a parked pump always wakes up, nothing here closes a socket
 * while the session lives: ending, timeouts and stuck writes shut the sockets down (a parked read
 * then sees end of stream), and the last pump to end closes everything in {@link #finish()}.
 *
 * <p>Abuse (docs/balancer.md, admission): a connection counts against its client address's limit from the
 * accept ({@link Admission#arrive}); once greeted, it must be logged in (230 from its backend) within the
 * login timeout, whatever it sends meanwhile; the login timeout and the client idle timeout end a session
 * with a 421 that says which.
 *
 * <p>TLS termination (docs/ftps.md): the balancer answers AUTH, PBSZ, PROT and CCC itself, before and
 * after login ({@link ControlProtection}, the server's rules); the control connection is TLS between client and balancer, and
 * TLS or plain between balancer and backend as configured. Data connections with TLS on either side
 * are relayed by {@link TlsRelay}, others by {@link Relay}. A transfer's final reply (226, 426, ...) is
 * held until the relay's backend-to-client direction has ended, so the client has the data and its end
 * (close_notify, FIN) before it reads the reply that says the transfer is over.
 */
public final class ProxySession implements Runnable, ClientSession {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.balancer");
    private static final int MAX_CLIENT_LINE = 4096;
    private static final int MAX_BACKEND_LINE = 8192;

    private final BalancerContext ctx;
    private final BackendDialer dialer;
    private final InetSocketAddress clientAddress;
    private final String id;
    private final long startNanos = System.nanoTime();
    private final Instant startedAt = Instant.now();
    private final Object clientWriteLock = new Object();
    private final Watchdog.Guard clientGuard;
    private final Watchdog.Guard clientWriteGuard;
    /** Armed while a command awaits its reply: a backend that stops answering ends the session. */
    private final Watchdog.Guard serverIdleGuard;
    /** Armed from the greeting until the backend accepts the login: what the client sends meanwhile does not reset it. */
    private final Watchdog.Guard loginGuard;
    /** Set once, by whichever comes first: the login (230/232 from the backend) or the login timeout. */
    private final AtomicBoolean loginOver = new AtomicBoolean();
    private final ReplyOrder order;
    private final PendingRoute pending;
    private final SessionTransfers transfers;
    /** The client's PASV/EPSV and PORT/EPRT, set at login (before the pumps start). */
    private PassiveBridge passive;
    private ActiveBridge active;

    static final long PARK_AFTER_MILLIS = 500;

    private final Connection clientConn;
    private ControlLineReader clientReader;
    private boolean clientWaiting;
    private final AtomicInteger pumps = new AtomicInteger(2);
    private final AtomicBoolean finished = new AtomicBoolean();
    // Volatile: the admin page reads these from its own threads.
    private volatile Backend backend;
    private volatile Connection backendConn;
    private Watchdog.Guard backendGuard;
    private volatile String user;
    /** The verb of the client's last command (never its argument: PASS carries a password). */
    private volatile Verb lastVerb;
    private String host;
    private boolean utf8;
    private long connectMillis = -1;
    /** The text of a backend's 421 greeting to this session, passed on when no backend takes it. */
    private String refusedWith;
    /** Counted among its address's connections ({@link Admission#arrive}). */
    private boolean arrived;
    private boolean admitted;
    private volatile String ending = "client-closed";

    /** The client side's TLS (the balancer's certificate as the session found it), once the handshake is done. */
    private volatile TlsEndpoint clientTls;
    private final boolean implicitTls;
    private final ControlProtection protection;
    /** A client accepted on a listener; {@code implicitTls}: the implicit-FTPS one (TLS before the greeting). */
    public static ProxySession accepted(BalancerContext ctx, SocketChannel client, boolean implicitTls) throws IOException {
        return new ProxySession(ctx, new SocketConnection(client), implicitTls, BackendDialer.sockets(ctx));
    }

    /** A session over any control connection, reaching backends through {@code dialer} (unit tests: in memory). */
    public ProxySession(BalancerContext ctx, Connection client, boolean implicitTls, BackendDialer dialer) {
        this.implicitTls = implicitTls;
        this.protection = ControlProtection.forBalancer(ctx.tls() != null, implicitTls);
        this.ctx = ctx;
        this.dialer = dialer;
        this.clientAddress = client.remoteAddress();
        this.id = "b" + Long.toString(ctx.sessionIds().incrementAndGet(), 36);
        this.clientConn = client;
        this.clientGuard = ctx.watchdog().guard(this::clientIdleExpired);
        this.clientWriteGuard = ctx.watchdog().guard(() -> shutdown(clientConn));
        this.serverIdleGuard = ctx.watchdog().guard(this::serverIdleExpired);
        this.loginGuard = ctx.watchdog().guard(this::loginExpired);
        this.order = new ReplyOrder(serverIdleGuard, () -> ctx.settings().timeouts().serverIdle());
        this.pending = new PendingRoute(ctx.dataPorts());
        this.transfers = new SessionTransfers(id, ctx, client, () -> protection.protectData() ? clientTls : null,
                order, this::send);
    }

    private void serverIdleExpired() {
        if (transfers.running() || order.awaitingDataConnection(ctx.settings().timeouts().data().toNanos())) {
            // The backend answers a transfer at its end: while bytes move, or while it waits for the data
            // connection the client has not made yet, it is not silent.
            serverIdleGuard.arm(ctx.settings().timeouts().serverIdle());
            return;
        }
        ending = "server-idle-timeout";
        LOG.warn("{} event=server-idle-timeout backend={}", id, backend == null ? "-" : backend.name());
        if (backend != null) {
            backend.countError();
        }
        Thread.ofVirtual().start(() -> {
            sendQuietly(Reply.of(421, "Server did not answer in time; closing the connection."));
            shutdown(clientConn);
            shutdown(backendConn);
        });
    }

    private void clientIdleExpired() {
        if (transfers.running()) {
            // A control connection that is quiet while its data connection transfers is not idle.
            clientGuard.arm(ctx.settings().timeouts().clientIdle());
            return;
        }
        ending = "client-idle-timeout";
        timedOut(BalancerMetrics.Timeout.CLIENT_IDLE, Replies.IDLE_TIMEOUT);
    }

    /** The login timeout ran out: unless the backend accepted the login just now, the session ends. */
    private void loginExpired() {
        if (!loginOver.compareAndSet(false, true)) {
            return;
        }
        ending = "login-timeout";
        timedOut(BalancerMetrics.Timeout.LOGIN, Replies.LOGIN_TIMEOUT);
    }

    /** A timeout ends the session: counted, logged, the client told 421 and both connections shut (off the watchdog's thread). */
    private void timedOut(BalancerMetrics.Timeout kind, Reply reply) {
        ctx.metrics().timedOut(kind);
        LOG.info("{} event=timeout kind={} user={}", id, kind.label(), user == null ? "-" : Printable.of(user, 64));
        Thread.ofVirtual().start(() -> {
            sendQuietly(reply);
            shutdown(clientConn);
            shutdown(backendConn);
        });
    }

    /**
     * Backend pump, each reply: 230 (or 232, RFC 2228) is the backend accepting the login, after USER/PASS (or
     * ACCT), the only commands that log in; from then on the login timeout no longer applies.
     */
    private void loginReplied(int code) {
        if ((code == 230 || code == 232) && loginOver.compareAndSet(false, true)) {
            loginGuard.disarm();
        }
    }

    /**
     * Ends the session from outside (the balancer stops, an administrator ends it): the client is
     * told 421, and both sockets are shut so that blocked or parked pumps end on their own.
     */
    @Override
    public void terminate(String end, String text) {
        ending = end;
        sendQuietly(Reply.of(421, text));
        shutdown(clientConn);
        shutdown(backendConn);
    }


    public String id() { return id; }
    public InetSocketAddress clientAddress() { return clientAddress; }
    /** The name given with USER, or null before it. */
    public String user() { return user; }
    /** The backend serving the session, or null before USER. */
    public Backend backend() { return backend; }
    public Instant startedAt() { return startedAt; }
    /** The verb of the client's last command, or null before the first; never an argument. */
    public Verb lastVerb() { return lastVerb; }
    public long bytesUp() { return transfers.bytesUp(); }
    public long bytesDown() { return transfers.bytesDown(); }
    public int transfers() { return transfers.count(); }
    public long transferBytes() { return transfers.transferBytes(); }
    public long inFlightUp() { return transfers.inFlightUp(); }
    public long inFlightDown() { return transfers.inFlightDown(); }

    @Override
    public void run() {
        ctx.live().add(this);
        boolean relaying = false;
        try {
            // SECURITY: counted from the accept, before the TLS handshake and the queue, so that one address cannot
            // hold more than its share of the balancer (connections in a handshake or queued included) and lock
            // everyone else out; over it, refused at once rather than queued.
            if (!ctx.admission().arrive(clientAddress.getAddress(), ctx.settings().perAddressLimit())) {
                ending = "refused-max-per-address";
                LOG.info("{} event=refused reason=max-per-address client={}", id, HostPort.text(clientAddress));
                if (!implicitTls) {
                    // On the implicit-FTPS listener the client expects a TLS handshake first: a clear-text 421 would
                    // only be a handshake error, and a handshake for every refused connection is what a flood wants.
                    send(Replies.TOO_MANY_FROM_ADDRESS);
                }
                return;
            }
            arrived = true;
            if (implicitTls && !startClientTls()) {
                return;
            }
            Admission.Outcome admitted = ctx.admission().enter();
            if (admitted != Admission.Outcome.ADMITTED) {
                ending = admitted == Admission.Outcome.QUEUE_FULL ? "refused-max-sessions" : "queue-timeout";
                LOG.info("{} event=refused reason={} client={}", id,
                        admitted == Admission.Outcome.QUEUE_FULL ? "max-sessions" : "queue-timeout", HostPort.text(clientAddress));
                send(Replies.TOO_MANY_USERS);
                return;
            }
            this.admitted = true;
            // SECURITY: a session holds a slot; one that is not logged in within the login timeout gives it back,
            // however many NOOPs it sends, so idle or stalling pre-login connections cannot fill max-sessions.
            loginGuard.arm(ctx.settings().timeouts().login());
            send(Reply.of(220, ctx.settings().greeting()));
            clientReader = new ControlLineReader(clientConn, MAX_CLIENT_LINE);
            relaying = preLogin(clientReader);
        } catch (IOException e) {
            LOG.debug("{} session ended before login: {}", id, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ending = "balancer-stop";
        } finally {
            if (!relaying) {
                finish();
            }
        }
        if (relaying) {
            Thread.ofVirtual().start(this::backendLoop);
            clientLoop();
        }
    }

    /** Called once, by the last pump to end (or before the pumps start): closes and logs. */
    private void finish() {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        ctx.ended(this, arrived, admitted);
        clientGuard.close();
        clientWriteGuard.close();
        serverIdleGuard.close();
        loginGuard.close();
        if (backendGuard != null) {
            backendGuard.close();
        }
        // A session's data routes end with it: a waiting port is freed, a running transfer is reset.
        pending.cancel();
        order.forEach(a -> {
            if (a.route != null) {
                a.route.cancel(ctx.dataPorts());
            }
        });
        transfers.end("session ended (" + ending + ")");
        Closing.quietly(clientConn);
        Closing.quietly(backendConn);
        if (backend != null) {
            backend.sessionEnded();
        }
        LOG.info("{} event=session client={} backend={} user={} connect_ms={} total_ms={} bytes_up={} bytes_down={} transfers={} end={}",
                id, HostPort.text(clientAddress), backend == null ? "-" : backend.name(), user == null ? "-" : Printable.of(user, 64),
                connectMillis, (System.nanoTime() - startNanos) / 1_000_000L, transfers.bytesUp(), transfers.bytesDown(),
                transfers.count(), ending);
    }

    /** A pump ended: wake the other one (its socket's input is shut) and finish when both are done. */
    private void pumpEnded(Connection other) {
        if (other != null) {
            other.shutdownInput();
        }
        if (pumps.decrementAndGet() == 0) {
            finish();
        }
    }

    /** Gives the pump's thread up until {@code conn} has input; {@code resume} continues the pump. */
    private void park(Connection conn, ControlLineReader reader, Runnable resume) throws IOException {
        reader.releaseBuffers();
        conn.releaseIdleBuffers();
        SocketChannel channel = conn.parkableChannel();
        channel.configureBlocking(false);
        ctx.idleParker().park(channel, () -> {
            try {
                channel.configureBlocking(true);
            } catch (IOException | RuntimeException e) {
                // closed meanwhile: the pump's next read fails and it ends normally
            }
            resume.run();
        });
    }

    /** True when the pump should park: it can (a socket, a parker) and nothing came for a while. */
    private boolean idleFor(Connection conn, ControlLineReader reader) throws IOException {
        return ctx.idleParker() != null && conn.parkableChannel() != null && !reader.awaitInput(PARK_AFTER_MILLIS);
    }


    /** Returns true once a backend has answered USER; false when the session ended here. */
    private boolean preLogin(ControlLineReader in) throws IOException {
        while (true) {
            String line = readClientLine(in);
            if (line == null) {
                return false;
            }
            CommandParser.Result parsed = CommandParser.parse(line);
            if (!(parsed instanceof CommandParser.Result.Parsed p)) {
                send(CommandParser.refusal(parsed));
                continue;
            }
            Command c = p.command();
            lastVerb = c.verb();
            // The grammar is the server's (PreLogin), so a client hears before USER what a Ferry server would
            // say; USER never waits here for a PASS, since it goes to the backend chosen for it.
            switch (PreLogin.step(c, false)) {
                case PreLogin.Step.Answer a -> {
                    if (c.verb() == Verb.OPTS && a.reply().code() == 200) {
                        // OPTS UTF8 ON (RFC 2640 §3.1): replayed to the backend chosen at USER.
                        utf8 = true;
                    }
                    send(a.reply());
                }
                case PreLogin.Step.Quit q -> {
                    ending = "quit";
                    send(q.reply());
                    return false;
                }
                case PreLogin.Step.Reinitialize r -> {
                    // SECURITY: the login timeout keeps running (PreLogin.Step.Reinitialize).
                    host = null;
                    protection.reinitialize();
                    send(r.reply());
                }
                case PreLogin.Step.Host h -> {
                    // RFC 7151: remembered and replayed to the backend chosen at USER.
                    host = h.name();
                    send(h.reply());
                }
                case PreLogin.Step.Handle h -> {
                    if (!handleBeforeLogin(h.command(), line, in)) {
                        return relayStarted;
                    }
                }
            }
        }
    }

    /** Set when USER went to a backend: the pumps take over. */
    private boolean relayStarted;

    /**
     * The pre-login commands that need the session's state; false when the pre-login phase is over (USER went to
     * a backend, see {@link #relayStarted}, or the session ends).
     */
    private boolean handleBeforeLogin(Command c, String line, ControlLineReader in) throws IOException {
        switch (c.verb()) {
            case USER -> {
                Reply refusal = protection.user(ctx.settings().tls().require());
                if (refusal != null) {
                    LOG.info("{} event=login-refused reason=tls-required", id);
                    send(refusal);
                    return true;
                }
                user = c.argument();
                // The backend holds the login from here (REIN included): the policy is in force for good.
                protection.loggedIn(ctx.settings().tls().require());
                relayStarted = chooseAndLogin(line);
                return false;
            }
            case FEAT -> send(FeatureList.reply(features()));
            // OPTS other than UTF8 concerns commands the backend serves, after login (RFC 2389 §4).
            case OPTS -> send(Reply.of(501, "OPTS before login: only UTF8 ON."));
            case AUTH -> {
                ControlProtection.Decision d = protection.auth(c.argument(), in.hasBufferedInput());
                send(d.reply());
                if (d.then() == ControlProtection.Action.START_TLS && !startClientTls()) {
                    // RFC 4217 §10.1: a handshake that failed midway leaves the connection in an unknown state.
                    return false;
                }
            }
            case PBSZ -> send(protection.protectionBufferSize(c.argument()));
            case PROT -> send(protection.protection(c.argument()));
            case CCC -> send(protection.clearCommandChannel(in.hasBufferedInput()).reply());
            // PreLogin hands PASS over only after a USER, which never stays here.
            default -> send(Replies.LOGIN_WITH_USER_FIRST);
        }
        return true;
    }

    /** FEAT before login: what every backend in service offers, as the balancer changes it ({@link Features}). */
    private List<String> features() {
        return Features.beforeLogin(ctx.backends(), protection.offered());
    }

    /**
     * The client's control connection handshake (after 234, or first thing on the implicit listener),
     * bounded by the handshake timeout; false (logged) when it failed: the session ends.
     */
    private boolean startClientTls() {
        TlsEndpoint tls = ctx.tls().server();
        clientWriteGuard.arm(ctx.settings().tls().handshakeTimeout());
        try {
            clientConn.startTls(tls.controlEngine());
        } catch (IOException | RuntimeException e) {
            ending = "tls-failed";
            LOG.info("{} event=tls-failed client={} error={}", id, HostPort.text(clientAddress),
                    Printable.of(String.valueOf(e.getMessage()), 160));
            return false;
        } finally {
            clientWriteGuard.disarm();
        }
        clientTls = tls;
        protection.tlsStarted();
        javax.net.ssl.SSLSession session = clientConn.tlsSession();
        LOG.info("{} event=tls protocol={} cipher={}{}", id, session.getProtocol(), session.getCipherSuite(),
                implicitTls ? " implicit=true" : "");
        return true;
    }

    private boolean chooseAndLogin(String userLine) throws IOException {
        BackendConnect.Opened<Connection> opened = BackendConnect.firstThatOpens(ctx, id, clientAddress, user,
                this::connectBackend);
        if (opened == null) {
            ending = "no-backend";
            send(Reply.of(421, refusedWith != null ? refusedWith : "No server available; try again later."));
            return false;
        }
        backend = opened.backend();
        backendConn = opened.connection();
        connectMillis = opened.connectMillis();
        transfers.serve(backend, backendConn);
        InetAddress local = clientConn.localAddress().getAddress();
        passive = new PassiveBridge(id, ctx, clientAddress.getAddress(), local, backend.address().getAddress(), pending, transfers);
        active = new ActiveBridge(id, ctx, clientAddress.getAddress(), local, backend.address(), pending, this::sendToBackend,
                transfers);
        // The backend's answer to USER goes to the client, like every reply after it.
        sendToBackend(userLine, Awaited.forwarded(Verb.USER));
        return true;
    }

    /** Connects and sets the backend up ({@link BackendLogin}); any failure here means "try another backend". */
    private Connection connectBackend(Backend b, Duration timeout) throws IOException {
        return dialer.dial(b, timeout, proxyHeader(), conn -> {
            try {
                backendReader = BackendLogin.run(conn, b, backendFtps() ? ctx.tls().backends() : null, host, utf8);
            } catch (BackendLogin.Refused e) {
                refusedWith = e.text();
                throw e;
            }
        });
    }

    private ControlLineReader backendReader;

    private ProxyHeader proxyHeader() {
        return new ProxyHeader(clientAddress, clientConn.localAddress());
    }


    /** Client to backend: commands forwarded as sent; data commands set up routes; PORT/EPRT become PASV. */
    private void clientLoop() {
        try {
            while (true) {
                if (!clientWaiting) {
                    clientGuard.arm(ctx.settings().timeouts().clientIdle());
                    clientWaiting = true;
                }
                if (idleFor(clientConn, clientReader)) {
                    park(clientConn, clientReader, this::clientLoop);
                    return;
                }
                ControlLine next;
                try {
                    next = clientReader.readLine();
                } catch (EOFException e) {
                    break;
                }
                clientWaiting = false;
                clientGuard.disarm();
                String line;
                switch (next) {
                    case ControlLine.Text t -> line = t.text();
                    case ControlLine.TooLong tl -> {
                        sendInOrder(Replies.lineTooLong(tl.limit()));
                        continue;
                    }
                    case ControlLine.BadEncoding b -> {
                        sendInOrder(Replies.BAD_UTF8);
                        continue;
                    }
                }
                CommandParser.Result parsed = CommandParser.parse(line);
                if (!(parsed instanceof CommandParser.Result.Parsed p)) {
                    // The backend words the error; its reply is passed on like any other.
                    sendToBackend(line, Awaited.forwarded(null));
                    continue;
                }
                Command c = p.command();
                Verb v = c.verb();
                lastVerb = v;
                Reply own = security(c);
                if (own != null) {
                    sendInOrder(own);
                    continue;
                }
                switch (v) {
                    case REIN -> {
                        protection.reinitialize();
                        active.reinitialize();
                        sendToBackend(line, Awaited.forwarded(v));
                    }
                    case PORT, EPRT -> {
                        Reply refusal = active.request(c);
                        if (refusal != null) {
                            sendInOrder(refusal);
                        }
                    }
                    case PASV -> sendToBackend(line, new Awaited(Awaited.Kind.PASSIVE, v, pending.open(DataRoute.Mode.PASSIVE, v, null)));
                    case EPSV -> {
                        if (c.argument() != null && c.argument().trim().equalsIgnoreCase("ALL")) {
                            active.epsvAll();
                            sendToBackend(line, Awaited.forwarded(v));
                        } else {
                            sendToBackend(line, new Awaited(Awaited.Kind.PASSIVE, v, pending.open(DataRoute.Mode.PASSIVE, v, null)));
                        }
                    }
                    default -> {
                        if (v == Verb.QUIT) {
                            ending = "quit";
                        }
                        if (v == Verb.ABOR) {
                            transfers.clientAborts();
                        }
                        if (v.movesData()) {
                            Reply unprotected = protection.dataTransfer(v);
                            if (unprotected != null) {
                                refuseTransfer(unprotected);
                                continue;
                            }
                            transferCommand(line, v);
                        } else {
                            sendToBackend(line, Awaited.forwarded(v));
                        }
                    }
                }
            }
        } catch (IOException e) {
            LOG.debug("{} client side ended: {}", id, e.toString());
        }
        pumpEnded(backendConn);
    }

    /**
     * After login: the balancer's own answer to a command about TLS, or null to go on. AUTH, PBSZ, PROT and
     * CCC never reach the backend: the client's TLS ends here, and an FTPS backend has its own with the
     * balancer. The data protection policy is checked on the transfer command ({@link #refuseTransfer}).
     */
    private Reply security(Command c) {
        return switch (c.verb()) {
            // USER went to the backend (ControlProtection.loggedIn): AUTH is refused, CCC is never allowed.
            case AUTH -> protection.auth(c.argument(), false).reply();
            case PBSZ -> protection.protectionBufferSize(c.argument());
            case PROT -> protection.protection(c.argument());
            case CCC -> protection.clearCommandChannel(false).reply();
            // REIN would leave an FTPS backend with PROT C (its data in clear text) while the balancer
            // goes on speaking TLS on data connections: refused; with plain backends it is passed on.
            case REIN -> backendFtps() ? Reply.of(502, "REIN is not available through this balancer; reconnect to log in again.") : null;
            default -> null;
        };
    }

    /**
     * RFC 4217 §10.2: the transfer command is answered 521 when the policy wants data protected and PROT is C
     * (not the PASV or PORT before it: PROT may change in between). The route that command would have used
     * must not outlive the refusal: its balancer port is freed, and an active route never connects.
     */
    private void refuseTransfer(Reply unprotected) throws IOException {
        pending.drop();
        LOG.info("{} event=transfer-refused reason=data-protection-required", id);
        sendInOrder(unprotected);
    }

    private boolean backendFtps() {
        return ctx.tls() != null && ctx.tls().backends() != null;
    }

    /** A transfer command: it uses the current route (a new one is needed for the next transfer, as backends do). */
    private void transferCommand(String line, Verb v) throws IOException {
        DataRoute route = pending.take();
        sendToBackend(line, new Awaited(Awaited.Kind.TRANSFER, v, route));
        active.commandSent(route);
    }

    /** Backend to client: whole replies; 227/229 rewritten; a transfer's final reply only as the data allows. */
    private void backendLoop() {
        try {
            while (true) {
                if (idleFor(backendConn, backendReader)) {
                    park(backendConn, backendReader, this::backendLoop);
                    return;
                }
                BackendReply reply = BackendReply.read(backendReader);
                loginReplied(reply.code);
                byte[] out;
                Awaited answered;
                if (!reply.isFinal()) {
                    Awaited head = order.head();
                    if (head != null && head.kind == Awaited.Kind.TRANSFER) {
                        head.begin();
                    }
                    out = head != null && (head.answered() || head.route != null && head.route.failure() != null)
                            ? null // the transfer already failed at the balancer: its 150 would promise data that never comes
                            : reply.toBytes();
                    answered = null;
                } else {
                    answered = order.take();
                    out = answered == null ? reply.toBytes() : switch (answered.kind) {
                        // FEAT after login: the backend's extensions, with the TLS the client has here (RFC 2389).
                        case FORWARDED -> answered.verb == Verb.FEAT ? featuresAfterLogin(reply) : reply.toBytes();
                        case PASSIVE -> passive.answer(reply, answered);
                        case ACTIVE -> active.ready(reply, answered);
                        case TRANSFER -> transfers.finalReply(reply, answered);
                    };
                }
                if (out != null) {
                    synchronized (clientWriteLock) {
                        writeAll(clientConn, out);
                    }
                }
                if (answered != null) {
                    order.replied();
                }
                if (reply.code == 421 || reply.code == 221) {
                    break;
                }
            }
        } catch (BackendReply.Hostile e) {
            ending = "backend-protocol-error";
            LOG.warn("{} event=backend-protocol-error backend={} error={}", id, backend.name(), e.getMessage());
            backend.countError();
            sendQuietly(Reply.of(421, "Server error; closing the connection."));
        } catch (EOFException e) {
            if (ending.equals("client-closed") && clientConn.isOpen()) {
                ending = "backend-closed";
                sendQuietly(Reply.of(421, "Server closed the connection."));
            }
        } catch (IOException e) {
            if (ending.equals("client-closed") && clientConn.isOpen()) {
                ending = "backend-error";
                sendQuietly(Reply.of(421, "Server connection lost."));
            }
        }
        order.backendEnded();
        pumpEnded(clientConn);
    }

    /** FEAT after login: the backend's extensions, shaped as the client sees the pair (RFC 2389, {@link Features}). */
    private byte[] featuresAfterLogin(BackendReply reply) {
        Reply rewritten = Features.rewriteReply(reply.code, reply.lines, protection.offered());
        return rewritten == null ? reply.toBytes() : rewritten.toBytes();
    }


    /** The next client line, or null when the client is gone; bad lines are answered here. */
    private String readClientLine(ControlLineReader in) throws IOException {
        while (true) {
            clientGuard.arm(ctx.settings().timeouts().clientIdle());
            ControlLine line;
            try {
                line = in.readLine();
            } catch (EOFException e) {
                return null;
            } catch (IOException e) {
                return null;
            } finally {
                clientGuard.disarm();
            }
            switch (line) {
                case ControlLine.Text t -> {
                    return t.text();
                }
                case ControlLine.TooLong tl -> sendInOrder(Replies.lineTooLong(tl.limit()));
                case ControlLine.BadEncoding b -> sendInOrder(Replies.BAD_UTF8);
            }
        }
    }

    /**
     * Sends a command to the backend, first noting what its final reply will answer. A client far ahead of
     * its replies waits here (bounded by the server-idle timeout) instead of growing the queue.
     */
    private void sendToBackend(String line, Awaited what) throws IOException {
        if (backendGuard == null) {
            backendGuard = ctx.watchdog().guard(() -> shutdown(backendConn));
        }
        order.expect(what);
        writeAll(backendConn, (line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    /** A reply of our own after the backend answered every earlier command (pipelining order). */
    private void sendInOrder(Reply reply) throws IOException {
        order.awaitTurn();
        send(reply);
    }

    private void send(Reply reply) throws IOException {
        synchronized (clientWriteLock) {
            writeAll(clientConn, reply.toBytes());
        }
    }

    private void sendQuietly(Reply reply) {
        try {
            send(reply);
        } catch (IOException ignored) {
            // the client is gone
        }
    }

    /** Writes everything under a write guard of its own (a peer that stops reading is cut off). */
    private void writeAll(Connection conn, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        Watchdog.Guard g = conn == clientConn ? clientWriteGuard : backendGuard;
        try {
            while (b.hasRemaining()) {
                if (g != null) {
                    g.arm(ctx.settings().timeouts().data());
                }
                conn.write(b);
            }
        } finally {
            if (g != null) {
                g.disarm();
            }
        }
    }

    /** Ends both directions of a socket without closing it, so a parked read wakes up. */
    private static void shutdown(Connection conn) {
        if (conn == null) {
            return;
        }
        conn.shutdownInput();
        SocketChannel channel = conn.parkableChannel();
        if (channel == null) {
            return; // in memory: the pumps end on the shut input, and finish() closes
        }
        try {
            channel.shutdownOutput();
        } catch (IOException | RuntimeException ignored) {
            // already closed or not connected
        }
    }
}
