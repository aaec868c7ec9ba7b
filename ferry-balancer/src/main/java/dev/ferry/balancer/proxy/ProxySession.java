package dev.ferry.balancer.proxy;

import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.BackendLogin;
import dev.ferry.balancer.backend.BackendReply;
import dev.ferry.balancer.frontend.Admission;
import dev.ferry.balancer.frontend.BackendConnect;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.balancer.frontend.ClientSession;
import dev.ferry.balancer.frontend.Features;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.data.Flow;
import dev.ferry.balancer.data.Relay;
import dev.ferry.balancer.data.TlsRelay;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.ActiveTarget;
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
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
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
    private final AtomicInteger activeRelays = new AtomicInteger();
    /** Commands sent to the backend and not answered yet, in order; guarded by itself. */
    private final ArrayDeque<Awaited> awaited = new ArrayDeque<>();
    /** Commands a client may have on the way before it reads a reply; more wait (bounded, not dropped). */
    static final int MAX_AWAITED = 256;

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
    /** Bytes of the transfer in progress (null: none), not yet in the backend's totals. */
    private volatile LongAdder currentUp;
    private volatile LongAdder currentDown;
    private String host;
    private boolean utf8;
    private long connectMillis = -1;
    /** The text of a backend's 421 greeting to this session, passed on when no backend takes it. */
    private String refusedWith;
    /** Counted among its address's connections ({@link Admission#arrive}). */
    private boolean arrived;
    private boolean admitted;
    private volatile long bytesUp;
    private volatile long bytesDown;
    private final AtomicInteger transfers = new AtomicInteger();
    private volatile String ending = "client-closed";
    /** The data route set up by the last PASV/EPSV/PORT/EPRT and not used by a transfer yet (client pump). */
    private volatile DataRoute currentRoute;
    /** Data connections being made or relayed now: given up when the session ends. */
    private final Set<Flow> flows = ConcurrentHashMap.newKeySet();

    /** The client side's TLS (the balancer's certificate as the session found it), once the handshake is done. */
    private volatile TlsEndpoint clientTls;
    private final boolean implicitTls;
    private final ControlProtection protection;
    /** EPSV ALL went to the backend (RFC 2428 §4): PORT and EPRT are refused until REIN. Client pump only. */
    private boolean epsvAll;
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
    }

    private void serverIdleExpired() {
        if (activeRelays.get() > 0 || awaitingDataConnection()) {
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
        if (activeRelays.get() > 0) {
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

    // ---- read by the admin page (any thread) -------------------------------------------------

    public String id() { return id; }
    public InetSocketAddress clientAddress() { return clientAddress; }
    /** The name given with USER, or null before it. */
    public String user() { return user; }
    /** The backend serving the session, or null before USER. */
    public Backend backend() { return backend; }
    public Instant startedAt() { return startedAt; }
    /** The verb of the client's last command, or null before the first; never an argument. */
    public Verb lastVerb() { return lastVerb; }
    public long bytesUp() { return bytesUp; }
    public long bytesDown() { return bytesDown; }
    public int transfers() { return transfers.get(); }

    /** Bytes the running transfer has moved so far (both directions), or -1 when none runs. */
    public long transferBytes() {
        LongAdder up = currentUp;
        LongAdder down = currentDown;
        return up == null || down == null ? -1 : up.sum() + down.sum();
    }

    /** Bytes up of the transfer in progress, which the backend's totals do not hold yet (0: none). */
    public long inFlightUp() {
        LongAdder up = currentUp;
        return up == null ? 0 : up.sum();
    }

    /** Bytes down of the transfer in progress, which the backend's totals do not hold yet (0: none). */
    public long inFlightDown() {
        LongAdder down = currentDown;
        return down == null ? 0 : down.sum();
    }

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
        // A session's data routes end with it: a waiting port is freed, a running transfer is reset (its
        // client or its backend has gone, so nothing it still carries can be confirmed to anyone). A transfer
        // whose data already ended cleanly is not running: its last bytes may still wait in our socket for a
        // client that reads slowly (QUIT during a transfer is answered after it, RFC 959 §4.1.1), and a reset
        // would drop them; the relay ends when that client closes, or at the data timeout.
        DataRoute route = currentRoute;
        if (route != null) {
            route.cancel(ctx.dataPorts());
        }
        synchronized (awaited) {
            for (Awaited a : awaited) {
                if (a.route != null) {
                    a.route.cancel(ctx.dataPorts());
                }
            }
        }
        for (Flow f : flows) {
            if (f.down() != Flow.End.CLEAN && f.up() != Flow.End.CLEAN) {
                f.giveUp("session ended (" + ending + ")");
            }
        }
        Closing.quietly(clientConn);
        Closing.quietly(backendConn);
        if (backend != null) {
            backend.sessionEnded();
        }
        LOG.info("{} event=session client={} backend={} user={} connect_ms={} total_ms={} bytes_up={} bytes_down={} transfers={} end={}",
                id, HostPort.text(clientAddress), backend == null ? "-" : backend.name(), user == null ? "-" : Printable.of(user, 64),
                connectMillis, (System.nanoTime() - startNanos) / 1_000_000L, bytesUp, bytesDown, transfers.get(), ending);
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

    // ---- before login: the balancer answers itself ------------------------------------------

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

    // ---- after login: the two pumps ---------------------------------------------------------

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
                        epsvAll = false;
                        sendToBackend(line, Awaited.forwarded(v));
                    }
                    case PORT, EPRT -> {
                        Reply refusal = activeMode(c);
                        if (refusal != null) {
                            sendInOrder(refusal);
                        }
                    }
                    case PASV -> sendToBackend(line, new Awaited(Awaited.Kind.PASSIVE, v, newRoute(DataRoute.Mode.PASSIVE, v, null)));
                    case EPSV -> {
                        if (c.argument() != null && c.argument().trim().equalsIgnoreCase("ALL")) {
                            epsvAll = true;
                            sendToBackend(line, Awaited.forwarded(v));
                        } else {
                            sendToBackend(line, new Awaited(Awaited.Kind.PASSIVE, v, newRoute(DataRoute.Mode.PASSIVE, v, null)));
                        }
                    }
                    default -> {
                        if (v == Verb.QUIT) {
                            ending = "quit";
                        }
                        if (v == Verb.ABOR) {
                            clientAborts();
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
        DataRoute route = currentRoute;
        currentRoute = null;
        if (route != null) {
            route.replace();
            route.cancel(ctx.dataPorts());
        }
        LOG.info("{} event=transfer-refused reason=data-protection-required", id);
        sendInOrder(unprotected);
    }

    private boolean backendFtps() {
        return ctx.tls() != null && ctx.tls().backends() != null;
    }

    /**
     * A new data route for a PASV/EPSV/PORT/EPRT, replacing the one not used yet: its balancer port is
     * freed at once (one session cannot hold more than one of the range's ports for its address).
     */
    private DataRoute newRoute(DataRoute.Mode mode, Verb verb, InetSocketAddress clientTarget) {
        DataRoute previous = currentRoute;
        if (previous != null) {
            previous.replace();
            previous.cancel(ctx.dataPorts());
        }
        DataRoute route = new DataRoute(mode, verb, clientTarget);
        currentRoute = route;
        return route;
    }

    /**
     * ABOR (RFC 959 §4.1.3): the client gives its transfer up and need not read its data connection any
     * more (ftplib and Commons Net read the 426 and 226 first, then close it), so the transfer's final
     * reply must not wait for that connection's end. An upload's relay is given up (reset on both sides):
     * its end must never reach the backend as a clean one, which would commit the file. A download's relay
     * is left to the backend, which aborts it when it reads the ABOR: reset here first, the backend could
     * see its data connection fail before the ABOR and answer for a lost connection instead (it did in 2
     * of 3 runs of CommonsNetTransfersTest's abort).
     */
    private void clientAborts() {
        synchronized (awaited) {
            for (Awaited a : awaited) {
                if (a.kind == Awaited.Kind.TRANSFER && !a.answered()) {
                    a.abortedByClient();
                    Flow f = a.route == null ? null : a.route.flow();
                    if (f != null && a.upload()) {
                        f.giveUp("client sent ABOR");
                    }
                }
            }
        }
    }

    /** A transfer command: it uses the current route (a new one is needed for the next transfer, as backends do). */
    private void transferCommand(String line, Verb v) throws IOException {
        DataRoute route = currentRoute;
        currentRoute = null;
        sendToBackend(line, new Awaited(Awaited.Kind.TRANSFER, v, route));
        if (route != null && route.commandSent()) {
            startActive(route);
        }
    }

    /**
     * PORT/EPRT from the client: checked, then served by putting the backend in passive mode (PASV, or
     * EPSV to an IPv6 backend); the client is told 200 once the backend has a port open, and the balancer
     * makes both data connections when the transfer command comes (DataRoute). Returns a reply to send
     * instead, or null when the backend was asked.
     */
    private Reply activeMode(Command c) throws IOException {
        if (epsvAll) {
            return Replies.epsvAllInEffect(c.verb().name());
        }
        ActiveTarget.Result checked = c.verb() == Verb.PORT
                ? ActiveTarget.port(c.argument(), clientAddress.getAddress())
                : ActiveTarget.eprt(c.argument(), clientAddress.getAddress());
        if (checked instanceof ActiveTarget.Result.Refused r) {
            if (r.reason() != ActiveTarget.Reason.SYNTAX) {
                LOG.info("{} event=active-refused verb={} reason={}", id, c.verb(), r.reason().label());
            }
            return r.reply();
        }
        HostPort target = ((ActiveTarget.Result.Accepted) checked).target();
        DataRoute route = newRoute(DataRoute.Mode.ACTIVE, c.verb(), target.toSocketAddress());
        boolean ipv6 = backend.address().getAddress() instanceof Inet6Address;
        sendToBackend(ipv6 ? "EPSV" : "PASV", new Awaited(Awaited.Kind.ACTIVE, c.verb(), route));
        return null;
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
                    Awaited head = headAwaited();
                    if (head != null && head.kind == Awaited.Kind.TRANSFER) {
                        head.begin();
                    }
                    out = head != null && (head.answered() || head.route != null && head.route.failure() != null)
                            ? null // the transfer already failed at the balancer: its 150 would promise data that never comes
                            : reply.toBytes();
                    answered = null;
                } else {
                    answered = takeAwaited();
                    out = answered == null ? reply.toBytes() : switch (answered.kind) {
                        // FEAT after login: the backend's extensions, with the TLS the client has here (RFC 2389).
                        case FORWARDED -> answered.verb == Verb.FEAT ? featuresAfterLogin(reply) : reply.toBytes();
                        case PASSIVE -> passive(reply, answered);
                        case ACTIVE -> activeReady(reply, answered);
                        case TRANSFER -> transferEnded(reply, answered);
                    };
                }
                if (out != null) {
                    synchronized (clientWriteLock) {
                        writeAll(clientConn, out);
                    }
                }
                if (answered != null) {
                    replied();
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
        synchronized (awaited) {
            awaited.notifyAll();
        }
        pumpEnded(clientConn);
    }

    /** FEAT after login: the backend's extensions, shaped as the client sees the pair (RFC 2389, {@link Features}). */
    private byte[] featuresAfterLogin(BackendReply reply) {
        Reply rewritten = Features.rewriteReply(reply.code, reply.lines, protection.offered());
        return rewritten == null ? reply.toBytes() : rewritten.toBytes();
    }

    /**
     * The backend's 227/229 for a client's PASV/EPSV: registers a route from a port of our own range to the
     * port the backend opened (on the backend's own host: backends need no public address), and tells the
     * client our address and port instead. Any other reply is passed on.
     */
    private byte[] passive(BackendReply reply, Awaited a) throws IOException {
        DataRoute route = a.route;
        InetSocketAddress target = backendPassivePort(reply);
        if (target == null) {
            return reply.toBytes();
        }
        if (route.replaced()) {
            // A later PASV/EPSV/PORT/EPRT came before this answer: nothing may connect through this one any more.
            return Reply.of(425, "Superseded by a later " + currentVerb() + "; use the port it gave.").toBytes();
        }
        boolean extended = a.verb == Verb.EPSV;
        InetAddress local = clientConn.localAddress().getAddress();
        Inet4Address advertised = extended ? null : ctx.addressing().advertise(clientAddress.getAddress(), local);
        if (!extended && advertised == null) {
            return Replies.PASV_NEEDS_IPV4.toBytes();
        }
        route.backendPort(target);
        long deadline = System.nanoTime() + ctx.settings().timeouts().data().toNanos();
        DataPorts.Route registration = new DataPorts.Route(clientAddress.getAddress(),
                dataConnection -> Thread.ofVirtual().start(() -> passiveConnected(route, dataConnection)),
                () -> LOG.info("{} event=data-expired", id), deadline);
        int port = ctx.dataPorts().register(registration);
        if (port < 0) {
            LOG.info("{} event=passive-exhausted", id);
            return Replies.NO_PASSIVE_PORT.toBytes();
        }
        route.registered(port, registration);
        if (route.replaced()) {
            // Replaced while registering (the client pump runs on): the port must not stay taken.
            route.cancel(ctx.dataPorts());
        }
        return PassiveRewrite.toClient(extended, advertised, port).toBytes();
    }

    private String currentVerb() {
        DataRoute r = currentRoute;
        return r == null ? "data command" : r.verb.toString();
    }

    /**
     * The backend's answer to the balancer's PASV/EPSV for a client's PORT/EPRT: with a port, the client is
     * told 200 (RFC 959 §4.2: PORT's only success reply); an error is passed on as the PORT/EPRT's answer.
     */
    private byte[] activeReady(BackendReply reply, Awaited a) throws IOException {
        InetSocketAddress target = backendPassivePort(reply);
        if (target == null) {
            LOG.info("{} event=active-failed verb={} backend_reply={}", id, a.verb, reply.code);
            return reply.code >= 400 ? reply.toBytes()
                    : Reply.of(425, a.verb + " failed: the server answered " + reply.code + ".").toBytes();
        }
        if (a.route.backendPort(target)) {
            startActive(a.route);
        }
        return Replies.endpointSet(a.verb.name()).toBytes();
    }

    /**
     * The backend's passive port from a 227 or 229 reply, on the backend's own host; null for any other
     * reply. A 227/229 that cannot be read is hostile or broken (the session ends).
     */
    private InetSocketAddress backendPassivePort(BackendReply reply) throws BackendReply.Hostile {
        return PassiveRewrite.backendPort(reply.code, reply.lines, backend.address().getAddress());
    }

    /**
     * A transfer's final reply. The client gets a 2xx only when the balancer relayed that transfer's data
     * connection to its end: the direction that carried the file (client to backend for an upload, backend
     * to client otherwise) ended cleanly, so the bytes reached whoever wanted them. Otherwise it gets 425 or
     * 426 and the log says why. Any final reply waits until the backend -> client direction is over (at most
     * the data timeout): a client that reads 226 first may close the data connection before the last bytes
     * came, or (curl in active mode) take the transfer as failed.
     */
    private byte[] transferEnded(BackendReply reply, Awaited a) {
        DataRoute route = a.route;
        if (route != null) {
            // The transfer is over: a port its client never connected to (a 550 before any data, the
            // backend's accept timeout) is free again at once, not at the route's deadline.
            route.cancel(ctx.dataPorts());
        }
        Flow flow = route == null ? null : route.flow();
        if (!a.begun() && reply.code >= 300) {
            // Refused before it began (no 150: 425, 450, 550, 554 for a REST beyond the end...): no data will
            // move, and a client that connected its data connection first (Commons Net) keeps it open until
            // it reads this reply, so waiting for that connection's end would hold the reply for the data timeout.
            if (flow != null) {
                flow.giveUp("backend refused the transfer (" + reply.code + ")");
            }
            return a.answered() ? null : route != null && route.failure() != null ? route.failure().toBytes() : reply.toBytes();
        }
        Duration wait = a.isAbortedByClient() ? Duration.ZERO : ctx.settings().timeouts().data();
        Flow.End carried = null;
        if (flow != null && reply.code < 300 && !a.upload()) {
            flow.confirmDown();
        }
        if (flow != null) {
            Flow.End down = flow.awaitDown(wait);
            carried = a.upload() ? flow.awaitUp(wait) : down;
        }
        if (a.answered()) {
            return null;
        }
        if (route != null && route.failure() != null) {
            return route.failure().toBytes();
        }
        if (reply.code >= 300) {
            return reply.toBytes();
        }
        String why = route == null ? "no-data-command" : flow == null ? "no-data-connection"
                : carried == null ? "data-still-moving" : carried != Flow.End.CLEAN ? "data-" + carried.name().toLowerCase(Locale.ROOT) : null;
        if (why == null) {
            return reply.toBytes();
        }
        // SECURITY (of the data): a 2xx is a promise that the bytes arrived; the backend cannot know what
        // happened between the balancer and the client, so its 2xx is not passed on when the relay failed.
        LOG.info("{} event=transfer-failed cmd={} backend_reply={} reason={}{}", id, a.verb, reply.code, why,
                flow != null && flow.givenUpBecause() != null ? " detail=\"" + flow.givenUpBecause() + "\"" : "");
        return (flow == null ? Reply.of(425, "No data connection was made; transfer not done.")
                : Replies.DATA_CONNECTION_LOST).toBytes();
    }

    /** Passive mode: the client's data connection arrived on our port; connect to the backend's and relay. */
    private void passiveConnected(DataRoute route, SocketChannel clientData) {
        activeRelays.incrementAndGet();
        Flow flow = newFlow(route);
        try {
            SocketChannel backendData = connectBackendData(route, flow, clientData);
            if (backendData != null) {
                relay(route, flow, clientData, backendData);
            }
        } finally {
            flows.remove(flow);
            activeRelays.decrementAndGet();
        }
    }

    /**
     * Connects to the backend's passive port; null when it cannot be reached (then the client's side is
     * reset, the transfer will be answered 425, and the backend is counted an error).
     */
    private SocketChannel connectBackendData(DataRoute route, Flow flow, SocketChannel clientSide) {
        try {
            return BackendConnect.data(ctx, route.backendTarget(), null);
        } catch (IOException e) {
            LOG.warn("{} event=data-connect-failed side=backend target={} error={}", id, HostPort.text(route.backendTarget()), e.getMessage());
            backend.countError();
            route.fail(Reply.of(425, "Cannot open the data connection to the server."));
            Flow.reset(clientSide);
            flow.abandon("backend data port unreachable");
            return null;
        }
    }

    private void startActive(DataRoute route) {
        Thread.ofVirtual().start(() -> activeConnect(route));
    }

    /**
     * Active mode, once the transfer command went out: connect to the client's port (from the address the
     * client reached, which a multi-homed balancer's routing might not pick), then to the backend's passive
     * port, and relay. A client that cannot be reached gets 425 and the backend's side is reset at once, so
     * the backend ends its transfer (426) without ever seeing a clean end.
     */
    private void activeConnect(DataRoute route) {
        activeRelays.incrementAndGet();
        Flow flow = newFlow(route);
        try {
            SocketChannel toClient;
            try {
                toClient = BackendConnect.data(ctx, route.clientTarget, clientConn.localAddress().getAddress());
            } catch (IOException e) {
                LOG.info("{} event=data-connect-failed side=client target={} error={}", id, HostPort.text(route.clientTarget), e.getMessage());
                route.fail(Replies.cannotOpenDataConnection(route.clientTarget));
                resetBackendData(route);
                flow.abandon("client unreachable");
                return;
            }
            SocketChannel toBackend = connectBackendData(route, flow, toClient);
            if (toBackend == null) {
                return;
            }
            relay(route, flow, toClient, toBackend);
        } finally {
            flows.remove(flow);
            activeRelays.decrementAndGet();
        }
    }

    /** Connects to the backend's data port and resets it: the backend's transfer ends now, as a failure. */
    private void resetBackendData(DataRoute route) {
        try {
            Flow.reset(BackendConnect.data(ctx, route.backendTarget(), null));
        } catch (IOException e) {
            // Not reachable either: the backend gives up at its own accept timeout, and nothing was sent.
        }
    }

    /**
     * The flow of a route's data connection, known to the route before any connection is made (the backend's
     * final reply may come as soon as the backend's side is connected). A clean end is passed on only while
     * its sender's control connection is there: a peer that died ends its data with the same FIN as one that
     * finished (an upload would be committed cut short).
     */
    private Flow newFlow(DataRoute route) {
        Flow flow = new Flow(() -> !clientConn.peerEnded(), () -> backendConn == null || !backendConn.peerEnded());
        route.flow(flow);
        flows.add(flow);
        if (finished.get()) {
            flow.giveUp("session ended");
        }
        return flow;
    }

    /**
     * Relays one data connection, both sides connected, and counts it for the session, its backend
     * and the metrics: every transfer, passive or active, passes here.
     */
    private void relay(DataRoute route, Flow flow, SocketChannel clientSide, SocketChannel backendSide) {
        transfers.incrementAndGet();
        LongAdder up = new LongAdder();
        LongAdder down = new LongAdder();
        currentDown = down;
        currentUp = up;
        long start = System.nanoTime();
        java.util.function.LongConsumer upCounter = n -> {
            bytesUp += n;
            up.add(n);
        };
        java.util.function.LongConsumer downCounter = n -> {
            bytesDown += n;
            down.add(n);
        };
        try {
            boolean clientTlsOn = protection.protectData();
            if (clientTlsOn || backendFtps()) {
                TlsRelay.Result r = TlsRelay.run(
                        new TlsRelay.ClientSide(clientSide, clientTlsOn ? clientTls : null, clientConn.tlsSession()),
                        new TlsRelay.BackendSide(backendSide, backendFtps() ? ctx.tls().backends().engine(backend.address()) : null),
                        ctx.buffers(), ctx.watchdog(), ctx.settings().timeouts().data(), ctx.settings().tls().handshakeTimeout(),
                        ctx.settings().tls().reuse(), upCounter, downCounter, flow);
                dataTlsOutcome(route, r);
            } else {
                Relay.run(clientSide, backendSide, ctx.buffers(), ctx.watchdog(), ctx.settings().timeouts().data(),
                        upCounter, downCounter, flow);
            }
        } finally {
            if (flow.up() == null || flow.down() == null) {
                flow.abandon("relay ended early");
            }
            backend.countTransfer();
            backend.addBytes(up.sum(), down.sum());
            // Counted by the backend now: the status page must not add these bytes again.
            currentUp = null;
            currentDown = null;
            ctx.metrics().transferDone(up.sum(), down.sum(), System.nanoTime() - start);
        }
        if (flow.stall() != null) {
            dataTimedOut(route, flow);
        }
    }

    /**
     * A transfer's data connection moved nothing for the data timeout and was reset. A backend that stalled
     * may never answer, so the client is told 426 now (the backend's own final reply, if it comes, is
     * dropped); a stall on the backend's side counts against the backend.
     */
    private void dataTimedOut(DataRoute route, Flow flow) {
        Awaited transfer = null;
        synchronized (awaited) {
            Awaited head = awaited.peekFirst();
            if (head != null && head.kind == Awaited.Kind.TRANSFER && head.route == route && !head.answered()) {
                head.answer();
                transfer = head;
            }
        }
        Flow.Stall stall = flow.stall();
        // Whose side stopped: the file's direction was blocked writing to its receiver, or reading from its
        // sender. Without a transfer command there is no file, and nothing for the backend to send.
        String stalled = transfer == null ? "client"
                : transfer.upload() ? (stall.upWriting() ? "backend" : "client")
                : (stall.downWriting() ? "client" : "backend");
        LOG.warn("{} event=data-timeout cmd={} stalled={} backend={}", id, transfer == null ? "-" : transfer.verb,
                stalled, backend.name());
        if (stalled.equals("backend")) {
            backend.countError();
        }
        if (transfer != null) {
            sendQuietly(Replies.DATA_CONNECTION_TIMED_OUT);
        }
    }

    /**
     * A data connection whose TLS failed before any byte moved: the backend's side was reset, so it
     * answers 426; the client is told why instead, as ferry server tells it (RFC 4217 §10.2: 522).
     */
    private void dataTlsOutcome(DataRoute route, TlsRelay.Result r) {
        switch (r.outcome()) {
            case RELAYED -> LOG.debug("{} data connection relayed tls={}", id, r.clientTls() == null ? "-" : r.clientTls());
            case CLIENT_TLS_FAILED -> {
                LOG.info("{} event=data-tls-failed side=client error={}", id, Printable.of(r.error(), 160));
                route.fail(Replies.DATA_TLS_FAILED);
            }
            case CLIENT_NOT_RESUMED -> {
                LOG.info("{} event=data-refused reason=tls-session-not-resumed", id);
                route.fail(Replies.DATA_TLS_NOT_RESUMED);
            }
            case BACKEND_TLS_FAILED -> {
                LOG.warn("{} event=data-tls-failed side=backend backend={} error={}", id, backend.name(), Printable.of(r.error(), 160));
                backend.countError();
                route.fail(Reply.of(425, "Cannot open the data connection to the server."));
            }
        }
    }

    // ---- I/O helpers ------------------------------------------------------------------------

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
        synchronized (awaited) {
            long until = System.nanoTime() + ctx.settings().timeouts().serverIdle().toNanos();
            while (awaited.size() >= MAX_AWAITED && pumps.get() == 2 && waitAwaited(until)) {
                // the backend pump notifies as replies go out
            }
            awaited.addLast(what);
            serverIdleGuard.arm(ctx.settings().timeouts().serverIdle());
        }
        writeAll(backendConn, (line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The command the backend answers next, or null. */
    private Awaited headAwaited() {
        synchronized (awaited) {
            return awaited.peekFirst();
        }
    }

    /** The command a final reply answers (null: an unsolicited reply, such as a 421 on the backend's own timeout). */
    private Awaited takeAwaited() {
        synchronized (awaited) {
            return awaited.pollFirst();
        }
    }

    /** A final reply went out: the server-idle clock runs only while another command waits for its reply. */
    private void replied() {
        synchronized (awaited) {
            if (awaited.isEmpty()) {
                serverIdleGuard.disarm();
            } else {
                serverIdleGuard.arm(ctx.settings().timeouts().serverIdle());
            }
            awaited.notifyAll();
        }
    }

    /** Waits on the queue until {@code until}; false once that passed (or the thread was interrupted). */
    private boolean waitAwaited(long until) {
        long left = (until - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
            return false;
        }
        try {
            awaited.wait(left);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * A transfer command waits for a data connection the client has not made yet (within the data
     * timeout): the backend's silence then is the client's doing, not the backend's.
     */
    private boolean awaitingDataConnection() {
        long limit = ctx.settings().timeouts().data().toNanos();
        synchronized (awaited) {
            for (Awaited a : awaited) {
                if (a.kind == Awaited.Kind.TRANSFER && a.route != null && a.route.flow() == null
                        && a.route.failure() == null && System.nanoTime() - a.sentNanos < limit) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A reply of our own after the backend answered every earlier command (pipelining order). */
    private void sendInOrder(Reply reply) throws IOException {
        synchronized (awaited) {
            long until = System.nanoTime() + ctx.settings().timeouts().serverIdle().toNanos();
            while (!awaited.isEmpty() && backendConn != null && backendConn.isOpen() && pumps.get() == 2
                    && waitAwaited(until)) {
                // the backend pump notifies as replies go out
            }
        }
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
