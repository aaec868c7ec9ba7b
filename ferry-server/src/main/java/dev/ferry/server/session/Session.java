package dev.ferry.server.session;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.CommandParser;
import dev.ferry.protocol.command.HelpText;
import dev.ferry.protocol.command.PreLogin;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.ftps.ControlProtection;
import dev.ferry.protocol.line.ControlLine;
import dev.ferry.protocol.line.ControlLineReader;
import dev.ferry.protocol.reply.Replies;
import dev.ferry.runtime.net.Closing;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.IdleParker;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.runtime.tls.TlsEndpoint;
import dev.ferry.server.ServerContext;
import dev.ferry.server.command.EndpointCommands;
import dev.ferry.server.command.FileCommands;
import dev.ferry.server.command.Gate;
import dev.ferry.server.command.InfoCommands;
import dev.ferry.server.command.LoginCommands;
import dev.ferry.server.command.ParameterCommands;
import dev.ferry.server.command.SessionState;
import dev.ferry.server.command.TransferCommands;
import dev.ferry.server.command.TransferCommands.ListingKind;
import dev.ferry.server.data.ControlSide;
import dev.ferry.server.data.DataTls;
import dev.ferry.server.data.Transfer;
import dev.ferry.server.data.TransferRunner;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.metrics.ServerMetrics;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One control connection, from greeting to close, on its own virtual thread.
 *
 * <p>Design: a plain blocking loop reads a line, parses it and dispatches it. Before login the shared
 * pre-login grammar ({@link PreLogin}) answers; after it, the path argument is resolved once by the verb's
 * path kind and the {@link Gate} applies the verb table (login, READ/WRITE, data protection) before the
 * handler runs. Handlers live in {@code command/}, own no connection, and return a {@link Reply} value, or
 * null when they started a transfer that replies itself. The state they act on is one {@link SessionState};
 * this class keeps the connection and the lifecycle: admission, the idle and login clocks, parking an idle
 * session, TLS on the control connection (AUTH, CCC), and the end.
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

    private static final Logger LOG = LoggerFactory.getLogger("ferry.session");

    /**
     * A session silent this long gives its thread back and waits in the {@link IdleParker} (short enough
     * that thousands of idle sessions cost no stacks, long enough that a client in the middle of a
     * conversation never pays for the hand-over).
     */
    public static final long PARK_AFTER_MILLIS = 500;
    /**
     * After CCC, how long to wait for the client's close_notify before sending ours unasked: clients that send
     * one do so at once; curl's default CCC mode sends none and waits for ours, so this is what it pays.
     */
    private static final long CCC_PEER_CLOSE_WAIT_MILLIS = 200;
    private static final Reply INTERNAL_ERROR = Reply.of(421, "Internal error; closing the connection.");
    private static final Reply BANNED = Reply.of(421, "Too many failed logins from your address; try again later.");
    private static final Reply ALLO_NOT_NEEDED = Reply.of(202, "ALLO not needed at this site.");

    private final ServerContext ctx;
    private final Connection connection;
    private final String id;
    /** The client, for every per-address rule: the socket's peer, or the client a trusted proxy named. */
    private final InetAddress client;
    /** The client as operators write it in logs: 192.0.2.7:53142 or [2001:db8::7]:53142. */
    private final String clientText;
    /** " via=PROXY" in the connect line of a proxied session, else empty. */
    private final String viaText;
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
    private final LoginCommands login;
    private final ParameterCommands parameters;
    private final EndpointCommands endpoints;
    private final TransferCommands transferCommands;
    private final FileCommands files;
    private final InfoCommands info;

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
        this.clientText = HostPort.text(connection.remoteAddress());
        this.viaText = via() == null ? "" : " via=" + HostPort.text(via());
        this.readGuard = ctx.watchdog().guard(connection::shutdownInput);
        this.writeGuard = ctx.watchdog().guard(() -> Closing.quietly(connection));
        this.replies = new ReplyWriter(connection, writeGuard, ctx.settings().limits().dataTimeout());
        this.reader = new ControlLineReader(connection, ctx.settings().limits().maxCommandLength());
        this.state = new SessionState(ControlProtection.forServer(ctx.tls() != null, implicitTls,
                ctx.settings().tls().allowCcc()), startNanos);
        ControlSide control = new Control();
        this.transfers = new TransferRunner(ctx, id, dataPeer, local, control);
        this.login = new LoginCommands(ctx, state, id, client, proxyOwn);
        this.parameters = new ParameterCommands(state);
        this.endpoints = new EndpointCommands(ctx, state, id, client, dataPeer, local);
        this.transferCommands = new TransferCommands(ctx, state, transfers, control, id, dataPeer);
        this.files = new FileCommands(state, id);
        this.info = new InfoCommands(state, ctx.settings().serverName(), ctx.tls() != null);
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
        if (implicitTls && !startTls()) {
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
                LOG.info("{} event=refused client={}{} reason={}", id, clientText, viaText, reason);
                replies.send(tooMany ? Replies.TOO_MANY_USERS : Replies.TOO_MANY_FROM_ADDRESS);
                finish(reason);
                return;
            }
            if (!proxyOwn && ctx.loginGuard().isBanned(client)) {
                ctx.metrics().sessionRefused(ServerMetrics.Refusal.BANNED);
                LOG.info("{} event=refused client={}{} reason=banned", id, clientText, viaText);
                replies.send(BANNED);
                finish("refused-banned");
                return;
            }
            LOG.info("{} event=connect client={}{}", id, clientText, viaText);
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
            // A TLS alert, a record that does not decrypt, or a renegotiation the server refuses (TlsEndpoint).
            reason = "error";
            LOG.info("{} event=tls-failed client={} during=session error={}", id, clientText,
                    Printable.of(String.valueOf(e.getMessage()), 160));
        } catch (IOException e) {
            reason = "error";
            LOG.debug("{} control connection failed: {}", id, e.toString());
        } catch (RuntimeException e) {
            reason = "bug";
            LOG.warn("{} session ended by an internal error", id, e);
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
                LOG.info("{} event=disconnect client={} user={} reason={} duration_ms={} transfers={} bytes_in={} bytes_out={}",
                        id, clientText, user() == null ? "-" : printable(user()), reason,
                        (System.nanoTime() - startNanos) / 1_000_000L, transfers.transfers(), transfers.bytesIn(),
                        transfers.bytesOut());
                if (greeted) {
                    ctx.metrics().sessionEnded(reason);
                }
            }
        } finally {
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
                    && !reader.awaitInput(PARK_AFTER_MILLIS) && !closing) {
                park();
                return null;
            }
            ControlLine line;
            try {
                line = reader.readLine();
            } catch (EOFException e) {
                if (stopping) {
                    return stopped();
                }
                if (readGuard.firings() != firingsAtArm) {
                    boolean loggedIn = state.loggedIn();
                    LOG.info("{} event=timeout kind={} user={}", id, loggedIn ? "idle" : "login", user());
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

    private String stopped() {
        trySend(Replies.SHUTTING_DOWN);
        return "server-stop";
    }

    private void park() throws IOException {
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
            dispatch(p.command());
        } else {
            replies.send(CommandParser.refusal(parsed));
        }
    }

    private void dispatch(Command command) throws IOException {
        Verb verb = command.verb();
        LOG.debug("{} command {}", id, command);
        Transfer running = transfers.running();
        if (running != null) {
            if (verb == Verb.ABOR) {
                transfers.abortRunning();
                return;
            }
            if (verb == Verb.STAT && command.argument() == null) {
                replies.send(info.status(client, running.progress, null));
                return;
            }
        }
        // Anything else waits: replies must come in command order.
        transfers.awaitEnd();
        Reply reply = state.loggedIn() ? afterLogin(command) : beforeLogin(command);
        if (reply != null) {
            replies.send(reply);
        }
    }

    /** Before login: the shared pre-login grammar; the few verbs it hands back run here. */
    private Reply beforeLogin(Command command) throws IOException {
        return switch (PreLogin.step(command, state.pendingUser() != null)) {
            case PreLogin.Step.Answer a -> a.reply();
            case PreLogin.Step.Quit q -> quit(q.reply());
            case PreLogin.Step.Reinitialize r -> reinitialize(r.reply());
            // One virtual host is served: any valid name is accepted (RFC 7151 §3).
            case PreLogin.Step.Host h -> h.reply();
            case PreLogin.Step.Handle h -> execute(h.command(), null, null);
        };
    }

    /** After login: the path resolved once by the verb's path kind, the gate, then the handler. */
    private Reply afterLogin(Command command) throws IOException {
        Verb verb = command.verb();
        String pathArg = Gate.pathArgument(command);
        VirtualPath target = null;
        InvalidVirtualPathException invalid = null;
        try {
            target = Gate.target(verb, pathArg, state.cwd());
        } catch (InvalidVirtualPathException e) {
            invalid = e;
        }
        Reply refused = Gate.check(verb, target, state);
        if (refused != null) {
            return refused;
        }
        VirtualPath renameFrom = state.takeRenameFrom();
        if (invalid != null) {
            return Gate.invalidPath(verb, invalid);
        }
        return switch (verb) {
            case RNTO -> files.renameTo(command.argument(), renameFrom, target);
            case LIST -> transferCommands.list(pathArg, target, ListingKind.LIST);
            case NLST -> transferCommands.list(pathArg, target, ListingKind.NLST);
            case MLSD -> transferCommands.list(pathArg, target, ListingKind.MLSD);
            default -> execute(command, target, pathArg);
        };
    }

    /**
     * One handler per verb; the exhaustive switch makes a verb without a handler a compile error. {@code path}
     * is the argument resolved by the verb's path kind (null before login and for verbs that name none).
     */
    private Reply execute(Command c, VirtualPath path, String pathArg) throws IOException {
        String arg = c.argument();
        return switch (c.verb()) {
            case USER -> login.user(arg);
            case PASS -> loginAttempt(arg == null ? "" : arg);
            case ACCT -> Replies.ACCT_NOT_NEEDED;
            case REIN -> reinitialize(Replies.READY_FOR_NEW_USER);
            case QUIT -> quit(Replies.GOODBYE);
            case CWD -> files.cwd(arg, path);
            case CDUP -> files.cwd("..", state.cwd().parent());
            case PWD -> Reply.of(257, Reply.quotePath(state.cwd().toString()) + " is the current directory.");
            case PORT -> endpoints.port(arg);
            case EPRT -> endpoints.eprt(arg);
            case PASV -> endpoints.pasv();
            case EPSV -> endpoints.epsv(arg);
            case TYPE -> parameters.type(arg);
            case STRU -> ParameterCommands.structure(arg);
            case MODE -> ParameterCommands.mode(arg);
            case RETR -> transferCommands.retrieve(arg, path);
            case STOR -> transferCommands.store(path, false);
            case APPE -> transferCommands.store(path, true);
            case STOU -> transferCommands.storeUnique(arg);
            case ALLO -> ALLO_NOT_NEEDED;
            case REST -> parameters.restart(arg);
            case RNFR -> files.renameFrom(arg, path);
            case RNTO, LIST, NLST, MLSD -> throw new IllegalStateException(c.verb() + " is dispatched after login");
            case ABOR -> endpoints.abortIdle();
            case DELE -> files.delete(arg, path);
            case RMD -> files.removeDirectory(arg, path);
            case MKD -> files.makeDirectory(arg, path);
            case MLST -> files.mlst(arg, path);
            case SITE -> InfoCommands.site(arg);
            case SYST -> Replies.SYSTEM_TYPE;
            case STAT -> arg == null ? info.status(client, null, endpoints.describe()) : files.statPath(arg, path);
            case HELP -> HelpText.reply(arg);
            case NOOP -> Replies.NOOP_OK;
            case FEAT -> info.features();
            case OPTS -> info.options(arg);
            case SIZE -> files.size(arg, path);
            case MDTM -> files.modificationTime(arg, path);
            case MFMT -> files.setModificationTime(arg);
            case HASH -> files.hash(arg, path);
            // RFC 7151 §3: HOST comes before USER; after login it is out of sequence.
            case HOST -> Replies.HOST_AFTER_USER;
            case AUTH -> auth(arg);
            case PBSZ -> state.protection().protectionBufferSize(arg);
            case PROT -> state.protection().protection(arg);
            case CCC -> clearCommandChannel();
        };
    }

    private Reply loginAttempt(String password) {
        Reply reply = login.pass(password);
        if (reply == LoginCommands.TOO_MANY_FAILURES) {
            closing = true;
        }
        return reply;
    }

    private Reply quit(Reply goodbye) {
        closing = true;
        return goodbye;
    }

    /**
     * REIN (RFC 959 §4.1.1): logged out, transfer parameters and data protection reset (RFC 4217 §9). TLS on
     * the control connection stays on (see ControlProtection.reinitialize). SECURITY: only a REIN that ends a
     * login restarts the login clock; one before login keeps it running from the connection, or a client
     * that never logs in could stay for ever by sending REIN (PreLogin.Step.Reinitialize).
     */
    private Reply reinitialize(Reply ready) {
        boolean endsLogin = state.loggedIn();
        state.reset(endsLogin);
        state.protection().reinitialize();
        LOG.info("{} event=reinitialize", id);
        return ready;
    }

    /** AUTH (RFC 2228 §3, RFC 4217 §4): the answer is ControlProtection's; the handshake is the connection's. */
    private Reply auth(String arg) throws IOException {
        ControlProtection.Decision decision = state.protection().auth(arg, reader.hasBufferedInput());
        if (decision.then() != ControlProtection.Action.START_TLS) {
            return decision.reply();
        }
        replies.send(decision.reply());
        if (!startTls()) {
            // RFC 4217 §10.1: a handshake that failed midway leaves the connection in an unknown state: drop it.
            closing = true;
            ending = "tls-failed";
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
    private Reply clearCommandChannel() throws IOException {
        ControlProtection.Decision decision = state.protection().clearCommandChannel(reader.hasBufferedInput());
        if (decision.then() != ControlProtection.Action.END_TLS) {
            return decision.reply();
        }
        replies.send(decision.reply());
        try {
            connection.endTls(CCC_PEER_CLOSE_WAIT_MILLIS);
        } catch (IOException e) {
            LOG.info("{} event=tls-failed client={} during=ccc error={}", id, clientText,
                    Printable.of(String.valueOf(e.getMessage()), 160));
            closing = true;
            ending = "tls-failed";
            return null;
        }
        state.protection().controlCleared();
        LOG.info("{} event=ccc user={} prot={}", id, printable(state.user()),
                state.protection().protectData() ? "P" : "C");
        return null;
    }

    /** The handshake on the control connection, bounded by the handshake timeout; false (logged) when it failed. */
    private boolean startTls() {
        writeGuard.arm(ctx.settings().tls().handshakeTimeout());
        // Data connections take their engines from this context, not from the server's current one (DataTls).
        TlsEndpoint tls = ctx.tls();
        try {
            connection.startTls(tls.controlEngine());
        } catch (IOException | RuntimeException e) {
            LOG.info("{} event=tls-failed client={} error={}", id, clientText,
                    Printable.of(String.valueOf(e.getMessage()), 160));
            return false;
        } finally {
            writeGuard.disarm();
        }
        SSLSession session = connection.tlsSession();
        state.dataTls(new DataTls(tls, session));
        LOG.info("{} event=tls protocol={} cipher={}{}", id, session.getProtocol(), session.getCipherSuite(),
                implicitTls ? " implicit=true" : "");
        return true;
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

    /** A user-supplied string made safe for a log line. */
    private static String printable(String s) {
        return Printable.of(s, Replies.ECHO_LIMIT);
    }
}
