package dev.ferry.balancer.frontend;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.data.Relay;
import dev.ferry.balancer.data.TlsRelay;
import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.CommandParser;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.line.ControlLine;
import dev.ferry.protocol.line.ControlLineReader;
import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.server.net.SocketConnection;
import dev.ferry.server.net.Watchdog;
import dev.ferry.server.tls.ServerTls;
import java.io.EOFException;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 * client to backend (commands forwarded as sent; PORT/EPRT checked and rewritten to a balancer
 * listener), and backend to client (whole replies; 227/229 rewritten to the balancer's public
 * address and a port of its own range, whose data connection is relayed to exactly the port the
 * backend announced, on the backend's own host). Replies the balancer makes itself wait until the
 * backend has answered every earlier command, so pipelined clients see replies in order.
 *
 * <p>Idle sessions cost no threads: a pump that has waited {@link #PARK_AFTER_MILLIS} without input
 * hands its socket to the {@link dev.ferry.server.net.IdleParker} and its thread ends; a new one
 * continues when bytes arrive. So that a parked pump always wakes up, nothing here closes a socket
 * while the session lives: ending, timeouts and stuck writes shut the sockets down (a parked read
 * then sees end of stream), and the last pump to end closes everything in {@link #finish()}.
 *
 * <p>TLS termination (docs/ftps.md): the balancer answers AUTH, PBSZ, PROT and CCC itself, before and
 * after login ({@link ClientProtection}); the control connection is TLS between client and balancer, and
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
    private final SocketChannel client;
    private final InetSocketAddress clientAddress;
    private final String id;
    private final long startNanos = System.nanoTime();
    private final Instant startedAt = Instant.now();
    private final Object clientWriteLock = new Object();
    private final Watchdog.Guard clientGuard;
    private final Watchdog.Guard clientWriteGuard;
    /** Armed while a command awaits its reply: a backend that stops answering ends the session. */
    private final Watchdog.Guard serverIdleGuard;
    private final AtomicInteger activeRelays = new AtomicInteger();
    private final Object outstandingLock = new Object();
    private int outstanding;

    static final long PARK_AFTER_MILLIS = 500;

    private final SocketConnection clientConn;
    private ControlLineReader clientReader;
    private boolean clientWaiting;
    private final AtomicInteger pumps = new AtomicInteger(2);
    private final AtomicBoolean finished = new AtomicBoolean();
    // Volatile: the admin page reads these from its own threads.
    private volatile Backend backend;
    private SocketChannel backendChannel;
    private SocketConnection backendConn;
    private Watchdog.Guard backendGuard;
    private volatile String user;
    /** The verb of the client's last command (never its argument: PASS carries a password). */
    private volatile Verb lastVerb;
    /** bytesUp + bytesDown when the running transfer started. */
    /** Bytes of the transfer in progress (null: none), not yet in the backend's totals. */
    private volatile LongAdder currentUp;
    private volatile LongAdder currentDown;
    private String host;
    private boolean utf8;
    private long connectMillis = -1;
    /** The text of a backend's 421 greeting to this session, passed on when no backend takes it. */
    private String refusedWith;
    private boolean admitted;
    private volatile long bytesUp;
    private volatile long bytesDown;
    private final AtomicInteger transfers = new AtomicInteger();
    private volatile String ending = "client-closed";
    private volatile ServerSocketChannel activeListener;

    /** The client side's TLS (the balancer's certificate as the session found it), once the handshake is done. */
    private volatile ServerTls clientTls;
    private final boolean implicitTls;
    private final ClientProtection protection;
    /** Counted down when the running relay's backend -> client direction ended; null before the first. */
    private volatile CountDownLatch downstream;
    /** The backend sent a preliminary reply (150, 125): its next final reply ends a transfer. Backend pump only. */
    private boolean transferAnswering;
    /** A reply that replaces the final reply of the transfer (522 for a refused data handshake). */
    private volatile Reply replaceFinal;

    public ProxySession(BalancerContext ctx, SocketChannel client) throws IOException {
        this(ctx, client, false);
    }

    /** {@code implicitTls}: the connection came through the implicit-FTPS listener (TLS before the greeting). */
    public ProxySession(BalancerContext ctx, SocketChannel client, boolean implicitTls) throws IOException {
        this.implicitTls = implicitTls;
        this.protection = new ClientProtection(ctx.tls() != null, implicitTls);
        this.ctx = ctx;
        this.client = client;
        this.clientAddress = (InetSocketAddress) client.getRemoteAddress();
        this.id = "b" + Long.toString(ctx.sessionIds().incrementAndGet(), 36);
        this.clientConn = new SocketConnection(client);
        this.clientGuard = ctx.watchdog().guard(this::clientIdleExpired);
        this.clientWriteGuard = ctx.watchdog().guard(() -> shutdown(clientConn));
        this.serverIdleGuard = ctx.watchdog().guard(this::serverIdleExpired);
    }

    private void serverIdleExpired() {
        if (activeRelays.get() > 0) {
            // The backend answers a transfer at its end: while bytes move, it is not silent.
            serverIdleGuard.arm(ctx.settings().timeouts().serverIdle());
            return;
        }
        ending = "server-idle-timeout";
        LOG.info("{} event=server-idle-timeout backend={}", id, backend == null ? "-" : backend.name());
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
        clientConn.shutdownInput();
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
            if (implicitTls && !startClientTls()) {
                return;
            }
            Admission.Outcome admitted = ctx.admission().enter();
            if (admitted != Admission.Outcome.ADMITTED) {
                ending = admitted == Admission.Outcome.QUEUE_FULL ? "refused-max-sessions" : "queue-timeout";
                send(Reply.of(421, "Too many users connected; try again later."));
                return;
            }
            this.admitted = true;
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
        ctx.ended(this, admitted);
        clientGuard.close();
        clientWriteGuard.close();
        serverIdleGuard.close();
        if (backendGuard != null) {
            backendGuard.close();
        }
        ServerSocketChannel listener = activeListener;
        if (listener != null) {
            closeQuietly(listener);
        }
        closeQuietly(client);
        closeQuietly(backendChannel);
        if (backend != null) {
            backend.sessionEnded();
        }
        LOG.info("{} event=session client={} backend={} user={} connect_ms={} total_ms={} bytes_up={} bytes_down={} transfers={} end={}",
                id, HostPort.text(clientAddress), backend == null ? "-" : backend.name(), user == null ? "-" : Printable.of(user, 64),
                connectMillis, (System.nanoTime() - startNanos) / 1_000_000L, bytesUp, bytesDown, transfers.get(), ending);
    }

    /** A pump ended: wake the other one (its socket's input is shut) and finish when both are done. */
    private void pumpEnded(SocketConnection other) {
        if (other != null) {
            other.shutdownInput();
        }
        if (pumps.decrementAndGet() == 0) {
            finish();
        }
    }

    /** Gives the pump's thread up until {@code conn} has input; {@code resume} continues the pump. */
    private void park(SocketConnection conn, ControlLineReader reader, Runnable resume) throws IOException {
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

    private boolean idleFor(ControlLineReader reader) throws IOException {
        return ctx.idleParker() != null && !reader.awaitInput(PARK_AFTER_MILLIS);
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
                send(switch (parsed) {
                    case CommandParser.Result.Unknown u -> Reply.of(500, "'" + u.name() + "': command not understood.");
                    case CommandParser.Result.BadArguments b -> Reply.of(501, b.message());
                    default -> Reply.of(500, "Empty command.");
                });
                continue;
            }
            Command c = p.command();
            lastVerb = c.verb();
            switch (c.verb()) {
                case USER -> {
                    Reply refusal = protection.user(ctx.settings().tls().require());
                    if (refusal != null) {
                        LOG.info("{} event=login-refused reason=tls-required", id);
                        send(refusal);
                        continue;
                    }
                    user = c.argument();
                    return chooseAndLogin(line);
                }
                case QUIT -> {
                    ending = "quit";
                    send(Reply.of(221, "Goodbye."));
                    return false;
                }
                case FEAT -> send(Reply.multiLine(211, "Features:", features(), "End"));
                case OPTS -> {
                    String a = c.argument().trim().toUpperCase(Locale.ROOT);
                    if (a.equals("UTF8 ON") || a.equals("UTF-8 ON") || a.equals("UTF8")) {
                        utf8 = true;
                        send(Reply.of(200, "UTF8 mode is always on."));
                    } else {
                        send(Reply.of(501, "OPTS before login: only UTF8 ON."));
                    }
                }
                case HOST -> {
                    // RFC 7151: remembered and replayed to the backend chosen at USER.
                    host = c.argument();
                    send(Reply.of(220, "Host accepted."));
                }
                case SYST -> send(Reply.of(215, "UNIX Type: L8"));
                case NOOP -> send(Reply.of(200, "NOOP ok."));
                case HELP -> send(Reply.of(214, "Log in with USER and PASS; then every command is served by the backend."));
                case AUTH -> {
                    Reply refusal = protection.auth(c.argument(), false, in.hasBufferedInput());
                    if (refusal != null) {
                        send(refusal);
                        continue;
                    }
                    send(Reply.of(234, "AUTH " + ClientProtection.mechanism(c.argument()) + " accepted; expecting the TLS handshake."));
                    if (!startClientTls()) {
                        // RFC 4217 §10.1: a handshake that failed midway leaves the connection in an unknown state.
                        return false;
                    }
                }
                case PBSZ -> send(protection.protectionBufferSize(c.argument()));
                case PROT -> send(protection.protection(c.argument(), ctx.settings().tls().require(), false));
                case CCC -> send(protection.clearCommandChannel());
                case PASS -> send(Reply.of(503, "Login with USER first."));
                default -> send(Reply.of(530, "Please log in with USER and PASS first."));
            }
        }
    }

    private static final List<String> FEATURES = List.of("EPRT", "EPSV", "HOST", "MDTM",
            "MLST type*;size*;modify*;perm*;unique*;", "PASV", "REST STREAM", "SIZE", "TVFS", "UTF8");

    private List<String> features() {
        if (!protection.available()) {
            return FEATURES;
        }
        List<String> all = new java.util.ArrayList<>(ClientProtection.FEATURES);
        all.addAll(FEATURES);
        all.sort(null);
        return all;
    }

    /**
     * The client's control connection handshake (after 234, or first thing on the implicit listener),
     * bounded by the handshake timeout; false (logged) when it failed: the session ends.
     */
    private boolean startClientTls() {
        ServerTls tls = ctx.tls().server();
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
        if (!implicitTls) {
            protection.tlsStarted();
        }
        javax.net.ssl.SSLSession session = clientConn.tlsSession();
        LOG.info("{} event=tls protocol={} cipher={}{}", id, session.getProtocol(), session.getCipherSuite(),
                implicitTls ? " implicit=true" : "");
        return true;
    }

    private boolean chooseAndLogin(String userLine) throws IOException {
        BackendConnect.Opened<SocketChannel> opened = BackendConnect.firstThatOpens(ctx, id, clientAddress, user,
                this::connectBackend);
        if (opened == null) {
            ending = "no-backend";
            send(Reply.of(421, refusedWith != null ? refusedWith : "No server available; try again later."));
            return false;
        }
        backend = opened.backend();
        backendChannel = opened.connection();
        connectMillis = opened.connectMillis();
        // The backend's answer to USER goes to the client, like every reply after it.
        sendToBackend(userLine);
        return true;
    }

    /** Connects, reads the greeting, replays HOST and UTF8; any failure here means "try another backend". */
    private SocketChannel connectBackend(Backend b, Duration timeout) throws IOException {
        return BackendConnect.control(ctx, b, timeout, proxyHeader(), channel -> {
            SocketConnection conn = new SocketConnection(channel);
            ControlLineReader reader = new ControlLineReader(conn, MAX_BACKEND_LINE);
            BackendReply greeting = BackendReply.read(reader);
            if (greeting.code != 220) {
                if (greeting.code == 421) {
                    // The backend is up but will not take this client now (its per-address limit, a
                    // ban, its session limit): worth trying another backend, and worth telling the
                    // client in the backend's words if none takes it.
                    refusedWith = Printable.of(greeting.text(), 200);
                }
                throw new IOException("greeting " + greeting.code);
            }
            if (ctx.tls() != null && ctx.tls().backends() != null) {
                backendTls(b, conn, reader);
            }
            if (host != null) {
                exchange(conn, reader, "HOST " + host);
            }
            if (utf8) {
                exchange(conn, reader, "OPTS UTF8 ON");
            }
            this.backendReader = reader;
            this.backendConn = conn;
            return channel;
        });
    }

    private ControlLineReader backendReader;

    /**
     * FTPS to the backend (RFC 4217 §4, §8, §9), right after its greeting: AUTH TLS, the handshake as a TLS
     * client, PBSZ 0 and PROT P, so that the control connection and every data connection to the backend
     * are protected. The session's data connections resume this session (same peer host and port).
     */
    private void backendTls(Backend b, SocketConnection conn, ControlLineReader reader) throws IOException {
        BackendReply auth = exchange(conn, reader, "AUTH TLS");
        if (auth.code != 234) {
            throw new IOException("AUTH TLS answered " + auth.code + " (the backend does not offer FTPS)");
        }
        try {
            conn.startTls(ctx.tls().backends().engine(b.address()));
        } catch (IOException e) {
            throw new IOException("TLS handshake failed: " + e.getMessage(), e);
        }
        BackendReply pbsz = exchange(conn, reader, "PBSZ 0");
        BackendReply prot = exchange(conn, reader, "PROT P");
        if (pbsz.code != 200 || prot.code != 200) {
            throw new IOException("PBSZ/PROT answered " + pbsz.code + "/" + prot.code);
        }
    }

    /** A command of the balancer's own to a backend being set up, and its reply. */
    private static BackendReply exchange(SocketConnection conn, ControlLineReader reader, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            conn.write(b);
        }
        return BackendReply.read(reader);
    }

    private ProxyHeader proxyHeader() throws IOException {
        return new ProxyHeader(clientAddress, (InetSocketAddress) client.getLocalAddress());
    }

    // ---- after login: the two pumps ---------------------------------------------------------

    /** Client to backend: commands forwarded as sent; PORT/EPRT checked and rewritten. */
    private void clientLoop() {
        try {
            while (true) {
                if (!clientWaiting) {
                    clientGuard.arm(ctx.settings().timeouts().clientIdle());
                    clientWaiting = true;
                }
                if (idleFor(clientReader)) {
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
                        sendInOrder(Reply.of(500, "Command line too long (limit " + tl.limit() + " bytes)."));
                        continue;
                    }
                    case ControlLine.BadEncoding b -> {
                        sendInOrder(Reply.of(501, "Command is not valid UTF-8 (RFC 2640)."));
                        continue;
                    }
                }
                CommandParser.Result parsed = CommandParser.parse(line);
                if (parsed instanceof CommandParser.Result.Parsed p) {
                    Verb v = p.command().verb();
                    lastVerb = v;
                    Reply own = security(p.command());
                    if (own != null) {
                        sendInOrder(own);
                        continue;
                    }
                    if (v == Verb.REIN) {
                        protection.reinitialize();
                    }
                    if (v == Verb.PORT || v == Verb.EPRT) {
                        Reply refusal = activeMode(p.command());
                        if (refusal != null) {
                            sendInOrder(refusal);
                        }
                        continue;
                    }
                    if (v == Verb.QUIT) {
                        ending = "quit";
                    }
                    if (v == Verb.ABOR) {
                        // The client gives the transfer up and need not read its data connection any more
                        // (ftplib and Commons Net read the replies first, then close it): the replies that
                        // end the transfer (426, 226) must not wait for that connection's end, or such a
                        // client waits the data timeout for them.
                        CountDownLatch ended = downstream;
                        if (ended != null) {
                            ended.countDown();
                        }
                    }
                }
                // Everything else goes to the backend as the client sent it.
                sendToBackend(line);
            }
        } catch (IOException e) {
            LOG.debug("{} client side ended: {}", id, e.toString());
        }
        pumpEnded(backendConn);
    }

    /**
     * After login: the balancer's own answer to a command about TLS, or null to go on. AUTH, PBSZ, PROT and
     * CCC never reach the backend: the client's TLS ends here, and an FTPS backend has its own with the
     * balancer. Data channel commands are refused while the policy wants data protected and PROT is C.
     */
    private Reply security(Command c) {
        return switch (c.verb()) {
            case AUTH -> protection.auth(c.argument(), true, false);
            case PBSZ -> protection.protectionBufferSize(c.argument());
            case PROT -> protection.protection(c.argument(), ctx.settings().tls().require(), true);
            case CCC -> protection.clearCommandChannel();
            case PASV, EPSV, PORT, EPRT -> protection.dataChannel(ctx.settings().tls().require());
            // REIN would leave an FTPS backend with PROT C (its data in clear text) while the balancer
            // goes on speaking TLS on data connections: refused; with plain backends it is passed on.
            case REIN -> backendFtps() ? Reply.of(502, "REIN is not available through this balancer; reconnect to log in again.") : null;
            default -> null;
        };
    }

    private boolean backendFtps() {
        return ctx.tls() != null && ctx.tls().backends() != null;
    }

    /**
     * A transfer's final reply (the one after its 150) waits until the relay's backend -> client direction has ended (its data
     * written and the client's side shut, close_notify included), at most the data timeout: a client
     * that reads 226 first may close the data connection before the last bytes came, or (curl in active
     * mode) take the transfer as failed. Only that direction: clients keep their own end open until the 226.
     */
    private void awaitDownstream() {
        CountDownLatch ended = downstream;
        if (ended == null) {
            return;
        }
        try {
            ended.await(ctx.settings().timeouts().data().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Backend to client: whole replies, 227/229 rewritten. */
    private void backendLoop() {
        try {
            while (true) {
                if (idleFor(backendReader)) {
                    park(backendConn, backendReader, this::backendLoop);
                    return;
                }
                BackendReply reply = BackendReply.read(backendReader);
                Reply replacement = null;
                if (!reply.isFinal()) {
                    transferAnswering = true;
                } else if (transferAnswering) {
                    transferAnswering = false;
                    awaitDownstream();
                    replacement = replaceFinal;
                    replaceFinal = null;
                }
                byte[] out = replacement != null ? replacement.toBytes() : switch (reply.code) {
                    case 227 -> passive(reply, false);
                    case 229 -> passive(reply, true);
                    default -> reply.toBytes();
                };
                synchronized (clientWriteLock) {
                    writeAll(clientConn, out);
                }
                synchronized (outstandingLock) {
                    if (reply.isFinal() && outstanding > 0) {
                        outstanding--;
                    }
                    if (outstanding > 0) {
                        serverIdleGuard.arm(ctx.settings().timeouts().serverIdle());
                    } else {
                        serverIdleGuard.disarm();
                    }
                    outstandingLock.notifyAll();
                }
                if (reply.code == 421 || reply.code == 221) {
                    break;
                }
            }
        } catch (BackendReply.Hostile e) {
            ending = "backend-protocol-error";
            LOG.warn("{} event=backend-protocol-error backend={} error={}", id, backend.name(), e.getMessage());
            sendQuietly(Reply.of(421, "Server error; closing the connection."));
        } catch (EOFException e) {
            if (ending.equals("client-closed") && client.isOpen()) {
                ending = "backend-closed";
                sendQuietly(Reply.of(421, "Server closed the connection."));
            }
        } catch (IOException e) {
            if (ending.equals("client-closed") && client.isOpen()) {
                ending = "backend-error";
                sendQuietly(Reply.of(421, "Server connection lost."));
            }
        }
        synchronized (outstandingLock) {
            outstandingLock.notifyAll();
        }
        pumpEnded(clientConn);
    }

    /**
     * A 227/229 from the backend: register a route from a port of our own range to the port the
     * backend opened (on the backend's host: backends need no public address), and tell the
     * client our address and port instead.
     */
    private byte[] passive(BackendReply reply, boolean extended) throws IOException {
        String text = String.join(" ", reply.lines);
        int backendPort;
        if (extended) {
            backendPort = HostPort.parse229(text);
        } else {
            HostPort hp = HostPort.parse227(text.length() > 4 ? text.substring(4) : text);
            backendPort = hp == null ? -1 : hp.port();
        }
        if (backendPort <= 0) {
            throw new BackendReply.Hostile("malformed " + reply.code + " reply");
        }
        InetSocketAddress target = new InetSocketAddress(backend.address().getAddress(), backendPort);
        InetAddress local = ((InetSocketAddress) client.getLocalAddress()).getAddress();
        Inet4Address advertised = extended ? null : ctx.addressing().advertise(clientAddress.getAddress(), local);
        if (!extended && advertised == null) {
            return Reply.of(425, "PASV needs IPv4; use EPSV on this connection.").toBytes();
        }
        long deadline = System.nanoTime() + ctx.settings().timeouts().data().toNanos();
        int port = ctx.dataPorts().register(new DataPorts.Route(clientAddress.getAddress(),
                dataConnection -> Thread.ofVirtual().start(() -> relayTo(dataConnection, target)),
                () -> LOG.info("{} event=data-expired", id), deadline));
        if (port < 0) {
            LOG.info("{} event=passive-exhausted", id);
            return Reply.of(425, "No passive port available; try again later.").toBytes();
        }
        return (extended ? Reply.of(229, HostPort.format229(port))
                : Reply.of(227, HostPort.format227(advertised, port))).toBytes();
    }

    private void relayTo(SocketChannel clientData, InetSocketAddress target) {
        SocketChannel backendData = null;
        activeRelays.incrementAndGet();
        CountDownLatch ended = transferStarting();
        try {
            backendData = connectData(target, null);
            relay(clientData, backendData, ended);
        } catch (IOException e) {
            LOG.info("{} event=data-connect-failed target={} error={}", id, HostPort.text(target), e.getMessage());
            closeQuietly(clientData);
        } finally {
            ended.countDown();
            activeRelays.decrementAndGet();
        }
    }

    /** A data connection arrived: the transfer's final reply waits for the latch (see {@link #awaitDownstream}). */
    private CountDownLatch transferStarting() {
        CountDownLatch ended = new CountDownLatch(1);
        replaceFinal = null; // a replacement left from an earlier data connection belongs to no transfer now
        downstream = ended;
        return ended;
    }

    /**
     * Relays one data connection, both sides connected, and counts it for the session, its backend
     * and the metrics: every transfer, passive or active, passes here.
     */
    private void relay(SocketChannel clientSide, SocketChannel backendSide, CountDownLatch ended) {
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
                        ctx.settings().tls().reuse(), upCounter, downCounter, ended::countDown);
                dataTlsOutcome(r);
            } else {
                Relay.run(clientSide, backendSide, ctx.buffers(), ctx.watchdog(), ctx.settings().timeouts().data(),
                        upCounter, downCounter, ended::countDown);
            }
        } finally {
            ended.countDown();
            backend.countTransfer();
            backend.addBytes(up.sum(), down.sum());
            // Counted by the backend now: the status page must not add these bytes again.
            currentUp = null;
            currentDown = null;
            ctx.metrics().transferDone(up.sum(), down.sum(), System.nanoTime() - start);
        }
    }

    /**
     * A data connection whose TLS failed before any byte moved: the backend's side was aborted, so it
     * answers 426; the client is told why instead, as ferry server tells it (RFC 4217 §10.2: 522).
     */
    private void dataTlsOutcome(TlsRelay.Result r) {
        switch (r.outcome()) {
            case RELAYED -> LOG.debug("{} data connection relayed tls={}", id, r.clientTls() == null ? "-" : r.clientTls());
            case CLIENT_TLS_FAILED -> {
                LOG.info("{} event=data-tls-failed side=client error={}", id, Printable.of(r.error(), 160));
                replaceFinal = Reply.of(522, "TLS negotiation on the data connection failed.");
            }
            case CLIENT_NOT_RESUMED -> {
                LOG.info("{} event=data-refused reason=tls-session-not-resumed", id);
                replaceFinal = Reply.of(522, "The data connection must resume the control connection's TLS session "
                        + "(TLS session reuse is required).");
            }
            case BACKEND_TLS_FAILED -> {
                LOG.warn("{} event=data-tls-failed side=backend backend={} error={}", id, backend.name(), Printable.of(r.error(), 160));
                replaceFinal = Reply.of(425, "Cannot open the data connection to the server.");
            }
        }
    }

    /** {@link BackendConnect#data}: from {@code from}, or from the address routing picks when null. */
    private SocketChannel connectData(InetSocketAddress target, InetAddress from) throws IOException {
        return BackendConnect.data(ctx, target, from);
    }

    /**
     * PORT/EPRT from the client: checked, then rewritten so the backend connects to a listener of
     * ours, whose connection is relayed to the client's address. Returns a reply to send instead
     * of forwarding, or null when the rewritten command went to the backend.
     */
    private Reply activeMode(Command c) throws IOException {
        HostPort target = c.verb() == Verb.PORT ? HostPort.parsePort(c.argument()) : HostPort.parseEprt(c.argument());
        if (target == null) {
            return Reply.of(501, c.verb() == Verb.PORT ? "Syntax: PORT h1,h2,h3,h4,p1,p2." : "Syntax: EPRT |af|address|port|.");
        }
        // SECURITY: data connections only to the client's own address (RFC 2577 §3, FTP bounce).
        if (!target.address().equals(clientAddress.getAddress())) {
            LOG.info("{} event=active-refused target={} reason=foreign-address", id, HostPort.text(target.toSocketAddress()));
            return Reply.of(501, c.verb() + " refused: data connections go only to your own address.");
        }
        if (target.port() < 1024) {
            return Reply.of(501, c.verb() + " refused: port " + target.port() + " is below 1024.");
        }
        ServerSocketChannel previous = activeListener;
        if (previous != null) {
            closeQuietly(previous);
        }
        InetAddress towardsBackend = ((InetSocketAddress) backendChannel.getLocalAddress()).getAddress();
        ServerSocketChannel listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(towardsBackend, 0), 1);
        activeListener = listener;
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        InetSocketAddress clientTarget = target.toSocketAddress();
        Thread.ofVirtual().start(() -> acceptActive(listener, clientTarget));
        String rewritten = towardsBackend instanceof Inet6Address
                ? "EPRT " + HostPort.formatEprt(towardsBackend, port)
                : "PORT " + HostPort.formatPort((Inet4Address) towardsBackend, port);
        sendToBackend(rewritten);
        return null;
    }

    private void acceptActive(ServerSocketChannel listener, InetSocketAddress clientTarget) {
        try {
            listener.socket().setSoTimeout((int) ctx.settings().timeouts().data().toMillis());
            SocketChannel fromBackend = listener.socket().accept().getChannel();
            // SECURITY: only the session's backend may use this listener.
            InetAddress peer = ((InetSocketAddress) fromBackend.getRemoteAddress()).getAddress();
            if (!peer.equals(backend.address().getAddress())) {
                LOG.info("{} event=data-refused from={} reason=not-the-backend", id, peer.getHostAddress());
                closeQuietly(fromBackend);
                return;
            }
            activeRelays.incrementAndGet();
            CountDownLatch ended = transferStarting();
            try {
                SocketChannel toClient = connectData(clientTarget, ((InetSocketAddress) client.getLocalAddress()).getAddress());
                relay(toClient, fromBackend, ended);
            } catch (IOException e) {
                LOG.info("{} event=data-connect-failed target={} error={}", id, HostPort.text(clientTarget), e.getMessage());
                closeQuietly(fromBackend);
            } finally {
                ended.countDown();
                activeRelays.decrementAndGet();
            }
        } catch (IOException e) {
            LOG.debug("{} active listener ended: {}", id, e.toString());
        } finally {
            closeQuietly(listener);
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
                case ControlLine.TooLong tl -> sendInOrder(Reply.of(500, "Command line too long (limit " + tl.limit() + " bytes)."));
                case ControlLine.BadEncoding b -> sendInOrder(Reply.of(501, "Command is not valid UTF-8 (RFC 2640)."));
            }
        }
    }

    private void sendToBackend(String line) throws IOException {
        if (backendGuard == null) {
            backendGuard = ctx.watchdog().guard(() -> shutdown(backendConn));
        }
        synchronized (outstandingLock) {
            outstanding++;
            serverIdleGuard.arm(ctx.settings().timeouts().serverIdle());
        }
        writeAll(backendConn, (line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    /** A reply of our own after the backend answered every earlier command (pipelining order). */
    private void sendInOrder(Reply reply) throws IOException {
        synchronized (outstandingLock) {
            long until = System.nanoTime() + ctx.settings().timeouts().serverIdle().toNanos();
            while (outstanding > 0 && backendChannel != null && backendChannel.isOpen() && pumps.get() == 2) {
                long left = (until - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    break;
                }
                try {
                    outstandingLock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
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
    private void writeAll(SocketConnection conn, byte[] bytes) throws IOException {
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

    /** Before the session is relaying (no pump can be parked yet): a plain write on a channel. */
    private static void writeAll(SocketChannel channel, byte[] bytes) throws IOException {
        BackendConnect.writeAll(channel, bytes);
    }

    /** Ends both directions of a socket without closing it, so a parked read wakes up. */
    private static void shutdown(SocketConnection conn) {
        if (conn == null) {
            return;
        }
        conn.shutdownInput();
        try {
            conn.parkableChannel().shutdownOutput();
        } catch (IOException | RuntimeException ignored) {
            // already closed or not connected
        }
    }

    static void closeQuietly(java.io.Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException ignored) {
            // best effort
        }
    }
}
