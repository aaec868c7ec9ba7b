package dev.ferry.server.session;

import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.protocol.Printable;
import dev.ferry.protocol.Reply;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.command.Command;
import dev.ferry.protocol.command.CommandParser;
import dev.ferry.protocol.command.Verb;
import dev.ferry.protocol.line.ControlLine;
import dev.ferry.protocol.line.ControlLineReader;
import dev.ferry.server.ServerSettings;
import dev.ferry.runtime.tls.TlsEndpoint;
import dev.ferry.server.auth.LoginResult;
import dev.ferry.server.data.TransferProgress;
import dev.ferry.server.fs.InvalidVirtualPathException;
import dev.ferry.server.fs.Storage;
import dev.ferry.server.fs.VirtualPath;
import dev.ferry.server.metrics.ServerMetrics;
import dev.ferry.runtime.net.Connection;
import dev.ferry.runtime.net.Watchdog;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One control connection, from greeting to close, on its own virtual thread.
 *
 * <p>Design: a plain blocking loop reads a line, parses it, and passes it through one gate that
 * applies the verb table (login needed, write permission) before the handler runs; handlers return
 * a {@link Reply} value, or null when they started a transfer that replies itself. Transfers run on
 * their own virtual thread ({@link Transfer}) so that ABOR and STAT are answered meanwhile; any other
 * command waits for the running transfer to finish first, which keeps replies in order for
 * pipelining clients. While a transfer runs the control connection is not idle: its idle guard is
 * disarmed and re-armed when the transfer ends.
 *
 * <p>State is confined to the control thread, except what a transfer thread reads from its own
 * {@link Transfer} and the reply writer, which serializes whole replies.
 */
public final class Session implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.session");

    final ServerContext ctx;
    final Connection connection;
    final String id;
    /** The client, for every per-address rule: the socket's peer, or the client a trusted proxy named. */
    final InetAddress client;
    /**
     * Where data connections come from (PASV) and go to (PORT): the client, or the trusted proxy that
     * relays them (it also rewrites PORT/EPRT to an address of its own).
     */
    final InetAddress dataPeer;
    /** The client as operators write it in logs: 192.0.2.7:53142 or [2001:db8::7]:53142. */
    final String clientText;
    /** " via=PROXY" in the connect line of a proxied session, else empty. */
    private final String viaText;
    final ReplyWriter replies;
    private final Watchdog.Guard readGuard;
    private final Watchdog.Guard writeGuard;
    private final ControlLineReader reader;
    private final long startNanos = System.nanoTime();
    /** When the login timeout started: the connection, or the last REIN. */
    private long loginClockNanos = startNanos;

    // Login state
    private String pendingUser;
    private int failedLogins;
    LoginResult.Success account;
    Storage storage;
    VirtualPath cwd = VirtualPath.ROOT;

    // Transfer parameters
    boolean ascii;
    long restOffset;
    VirtualPath renameFrom;
    DataEndpoint endpoint;
    boolean epsvAll;
    String hashAlgorithm = "SHA-256";
    Set<String> mlstFacts = ALL_FACTS;
    /** PBSZ was accepted: PROT may follow (RFC 4217 §9). */
    boolean protectionBufferSet;
    /** PROT P: data connections are TLS too (RFC 4217 §9); clear until the client asks. */
    boolean protectData;
    /** Came through the implicit-FTPS listener: TLS from the first byte, data protected (PROT P) from the start. */
    private final boolean implicitTls;
    /**
     * The TLS context of the control connection's handshake (null before it): data connections take their
     * engines from it, not from the server's current one, so that a certificate reload in between neither
     * changes the certificate within a session nor stops data connections from resuming its TLS session.
     */
    TlsEndpoint sessionTls;
    /** The control connection's TLS session, kept after CCC: protected data connections are checked against it. */
    javax.net.ssl.SSLSession controlTlsSession;
    /** CCC ended TLS on the control connection: PROT is fixed and TLS does not come back (RFC 4217 §6). */
    private boolean controlCleared;
    /**
     * After CCC, how long to wait for the client's close_notify before sending ours unasked: clients that send
     * one do so at once; curl's default CCC mode sends none and waits for ours, so this is what it pays.
     */
    private static final long CCC_PEER_CLOSE_WAIT_MILLIS = 200;
    /** A trusted proxy's own connection (a health check): no per-address limit, no bans. */
    private final boolean proxyOwn;
    /** How the session ended when it was not by QUIT (a failed AUTH TLS handshake). */
    private String ending;
    private static final Set<String> ALL_FACTS = Set.copyOf(dev.ferry.server.listing.MlsxFormat.ALL_FACTS);
    Transfer transfer;
    private volatile boolean closing;
    /** The server is stopping: every session still open is told 421 (RFC 959: closing control connection). */
    private volatile boolean stopping;
    private volatile boolean idleArmed;
    private volatile int firingsAtArm;
    private SessionRegistry.Refusal refusal;
    /** Past the admission checks (its 220 is on the way): counted in the metrics' sessions_total when it ends. */
    private boolean greeted;
    private volatile Runnable onEnd;

    /**
     * A session silent this long gives its thread back and waits in the {@link
     * dev.ferry.runtime.net.IdleParker} (short enough that thousands of idle sessions cost no stacks,
     * long enough that a client in the middle of a conversation never pays for the hand-over).
     */
    public static final long PARK_AFTER_MILLIS = 500;

    // Totals for the disconnect line
    long bytesIn;
    long bytesOut;
    int transfers;

    private final DataCommands data;
    private final FileCommands files;
    private final InfoCommands info;

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
        this.protectData = implicitTls;
        this.protectionBufferSet = implicitTls;
        this.connection = connection;
        this.id = ctx.sessions().nextId();
        this.client = connection.remoteAddress().getAddress();
        this.dataPeer = connection.transportPeer().getAddress();
        this.clientText = HostPort.text(connection.remoteAddress());
        this.viaText = via() == null ? "" : " via=" + HostPort.text(via());
        this.readGuard = ctx.watchdog().guard(connection::shutdownInput);
        this.writeGuard = ctx.watchdog().guard(this::closeConnectionQuietly);
        this.replies = new ReplyWriter(connection, writeGuard, ctx.settings().limits().dataTimeout());
        this.reader = new ControlLineReader(connection, ctx.settings().limits().maxCommandLength());
        this.data = new DataCommands(this);
        this.files = new FileCommands(this);
        this.info = new InfoCommands(this);
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
            closeConnectionQuietly();
        }
    }

    /** The server is ending this session ({@link #close()}), as opposed to the client. */
    boolean stopping() {
        return stopping;
    }

    public String user() {
        return account == null ? null : account.user();
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
            closeConnectionQuietly();
            Runnable callback = onEnd;
            if (callback != null) {
                callback.run();
            }
            return;
        }
        String ending;
        refusal = ctx.sessions().admit(this, proxyOwn ? null : client);
        try {
            if (refusal != null) {
                boolean tooMany = refusal == SessionRegistry.Refusal.TOO_MANY_SESSIONS;
                ctx.metrics().sessionRefused(tooMany ? ServerMetrics.Refusal.MAX_SESSIONS : ServerMetrics.Refusal.MAX_PER_ADDRESS);
                ending = tooMany ? "refused-max-sessions" : "refused-max-per-address";
                LOG.info("{} event=refused client={}{} reason={}", id, clientText, viaText, ending);
                replies.send(421, tooMany
                        ? "Too many users connected; try again later."
                        : "Too many connections from your address; try again later.");
                finish(ending);
                return;
            }
            if (!proxyOwn && ctx.loginGuard().isBanned(client)) {
                ctx.metrics().sessionRefused(ServerMetrics.Refusal.BANNED);
                LOG.info("{} event=refused client={}{} reason=banned", id, clientText, viaText);
                replies.send(421, "Too many failed logins from your address; try again later.");
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
        String ending;
        try {
            ending = loop();
            if (ending == null) {
                return; // parked: the idle parker resumes us on a new thread
            }
        } catch (javax.net.ssl.SSLException e) {
            // A TLS alert, a record that does not decrypt, or a renegotiation the server refuses (TlsEndpoint).
            ending = "error";
            LOG.info("{} event=tls-failed client={} during=session error={}", id, clientText,
                    Printable.of(String.valueOf(e.getMessage()), 160));
        } catch (IOException e) {
            ending = "error";
            LOG.debug("{} control connection failed: {}", id, e.toString());
        } catch (RuntimeException e) {
            ending = "bug";
            LOG.warn("{} session ended by an internal error", id, e);
            trySend(421, "Internal error; closing the connection.");
        }
        finish(ending);
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

    private void finish(String ending) {
        try {
            if (transfer != null) {
                transfer.abort();
                transfer.join();
            }
            data.discardEndpoint();
            readGuard.close();
            writeGuard.close();
            closeConnectionQuietly();
            if (refusal == null) {
                ctx.sessions().leave(this, proxyOwn ? null : client);
                LOG.info("{} event=disconnect client={} user={} reason={} duration_ms={} transfers={} bytes_in={} bytes_out={}",
                        id, clientText, user() == null ? "-" : printable(user()), ending,
                        (System.nanoTime() - startNanos) / 1_000_000L, transfers, bytesIn, bytesOut);
                if (greeted) {
                    ctx.metrics().sessionEnded(ending);
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
            if (!idleArmed && (transfer == null || !transfer.isRunning())) {
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
                    boolean loggedIn = account != null;
                    LOG.info("{} event=timeout kind={} user={}", id, loggedIn ? "idle" : "login", user());
                    trySend(421, loggedIn ? "Idle timeout; closing the connection."
                            : "Login timeout; closing the connection.");
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
                case ControlLine.TooLong tl -> replies.send(500, "Command line too long (limit " + tl.limit() + " bytes).");
                case ControlLine.BadEncoding b -> replies.send(501, "Command is not valid UTF-8 (RFC 2640).");
            }
        }
        return stopping ? stopped() : ending != null ? ending : "quit";
    }

    private String stopped() {
        trySend(421, "Server is shutting down; closing the connection.");
        return "server-stop";
    }

    private void park() throws IOException {
        reader.releaseBuffers();
        connection.releaseIdleBuffers();
        java.nio.channels.SocketChannel channel = connection.parkableChannel();
        channel.configureBlocking(false);
        ctx.idleParker().park(channel, this::resume);
    }

    void armIdle() {
        firingsAtArm = readGuard.firings();
        idleArmed = true;
        if (account != null) {
            readGuard.arm(ctx.settings().limits().idleTimeout());
        } else {
            // The login timeout runs from the connection, not from the last command: NOOPs must
            // not keep an unauthenticated connection open forever.
            long left = ctx.settings().limits().loginTimeout().toNanos() - (System.nanoTime() - loginClockNanos);
            readGuard.arm(java.time.Duration.ofNanos(Math.max(1, left)));
        }
    }

    void handle(String line) throws IOException {
        switch (CommandParser.parse(line)) {
            case CommandParser.Result.Empty e -> replies.send(500, "Empty command.");
            case CommandParser.Result.Unknown u -> replies.send(500, "'" + u.name() + "': command not understood.");
            case CommandParser.Result.BadArguments b -> replies.send(501, b.message());
            case CommandParser.Result.Parsed p -> dispatch(p.command());
        }
    }

    private void dispatch(Command command) throws IOException {
        Verb verb = command.verb();
        LOG.debug("{} command {}", id, command);
        if (transfer != null) {
            if (transfer.isRunning()) {
                if (verb == Verb.ABOR) {
                    data.abortRunning();
                    return;
                }
                if (verb == Verb.STAT && command.argument() == null) {
                    replies.send(info.status());
                    return;
                }
                // Anything else waits: replies must come in command order.
                transfer.join();
            }
            transfer = null;
        }
        // The gate: one place applies the verb table before any handler runs.
        if (verb.needsLogin() && account == null) {
            replies.send(530, "Please log in with USER and PASS first.");
            return;
        }
        if (verb.permission() == Verb.Permission.WRITE && !account.writable()) {
            replies.send(550, "Permission denied: this account is read-only.");
            return;
        }
        // RFC 4217 §10.2: checked on the command that opens the data connection, before any 1xx reply.
        if (verb.movesData() && !protectData && tlsPolicy(account.user()).dataNeedsTls()) {
            replies.send(521, "Data connection cannot be opened with this PROT setting: send PBSZ 0 and PROT P.");
            return;
        }
        if (verb != Verb.RNTO) {
            renameFrom = null;
        }
        Reply reply = execute(command);
        if (reply != null) {
            replies.send(reply);
        }
    }

    /** One handler per verb; the exhaustive switch makes a verb without a handler a compile error. */
    private Reply execute(Command c) throws IOException {
        String arg = c.argument();
        return switch (c.verb()) {
            case USER -> user(arg);
            case PASS -> pass(arg == null ? "" : arg);
            case ACCT -> Reply.of(202, "ACCT not needed at this site.");
            case REIN -> reinitialize();
            case QUIT -> quit();
            case CWD -> files.cwd(arg);
            case CDUP -> files.cwd("..");
            case PWD -> Reply.of(257, Reply.quotePath(cwd.toString()) + " is the current directory.");
            case PORT -> data.port(arg);
            case EPRT -> data.eprt(arg);
            case PASV -> data.pasv();
            case EPSV -> data.epsv(arg);
            case TYPE -> type(arg);
            case STRU -> "F".equalsIgnoreCase(arg) ? Reply.of(200, "Structure set to F.")
                    : isOneOf(arg, "R", "P") ? Reply.of(504, "Only file structure (STRU F) is supported.")
                    : Reply.of(501, "Unknown structure '" + printable(arg) + "'.");
            case MODE -> "S".equalsIgnoreCase(arg) ? Reply.of(200, "Mode set to S.")
                    : isOneOf(arg, "B", "C") ? Reply.of(504, "Only stream mode (MODE S) is supported.")
                    : Reply.of(501, "Unknown mode '" + printable(arg) + "'.");
            case RETR -> data.retrieve(arg);
            case STOR -> data.store(arg, false);
            case APPE -> data.store(arg, true);
            case STOU -> data.storeUnique(arg);
            case ALLO -> Reply.of(202, "ALLO not needed at this site.");
            case REST -> restart(arg);
            case RNFR -> files.renameFrom(arg);
            case RNTO -> files.renameTo(arg);
            case ABOR -> data.abortIdle();
            case DELE -> files.delete(arg);
            case RMD -> files.removeDirectory(arg);
            case MKD -> files.makeDirectory(arg);
            case LIST -> data.list(arg, DataCommands.ListingKind.LIST);
            case NLST -> data.list(arg, DataCommands.ListingKind.NLST);
            case MLSD -> data.list(arg, DataCommands.ListingKind.MLSD);
            case MLST -> files.mlst(arg);
            case SITE -> info.site(arg);
            case SYST -> Reply.of(215, "UNIX Type: L8");
            case STAT -> arg == null ? info.status() : files.statPath(arg);
            case HELP -> info.help(arg);
            case NOOP -> Reply.of(200, "NOOP ok.");
            case FEAT -> info.features();
            case OPTS -> info.options(arg);
            case SIZE -> files.size(arg);
            case MDTM -> files.modificationTime(arg);
            case MFMT -> files.setModificationTime(arg);
            case HASH -> files.hash(arg);
            case HOST -> host(arg);
            case AUTH -> auth(arg);
            case PBSZ -> protectionBufferSize(arg);
            case PROT -> protection(arg);
            case CCC -> clearCommandChannel();
        };
    }

    private Reply user(String name) {
        if (account != null) {
            return Reply.of(530, "Already logged in; use REIN to log in as another user.");
        }
        // SECURITY: a login that must be protected is refused at USER, before the client sends its password
        // in clear text (RFC 4217 §10.1: deny USER and PASS before TLS is negotiated). A user whose own policy
        // differs from the server's is told so here, which reveals that the name exists: the price of keeping
        // that user's password off the wire.
        if (connection.tlsSession() == null && tlsPolicy(name).loginNeedsTls()) {
            pendingUser = null;
            return Reply.of(530, "TLS required: send AUTH TLS before logging in.");
        }
        pendingUser = name;
        if (ctx.authenticator().isAnonymousName(name)) {
            return Reply.of(331, "Anonymous login okay; send your e-mail address as password.");
        }
        // SECURITY: same reply for every name, so USER cannot probe which accounts exist (RFC 2577 §7).
        return Reply.of(331, "Password required for " + printable(name) + ".");
    }

    private Reply pass(String password) throws IOException {
        if (account != null) {
            return Reply.of(503, "Already logged in.");
        }
        if (pendingUser == null) {
            return Reply.of(503, "Login with USER first.");
        }
        String name = pendingUser;
        pendingUser = null;
        char[] secret = password.toCharArray();
        LoginResult result;
        try {
            result = ctx.authenticator().login(name, secret);
        } finally {
            Arrays.fill(secret, '\0');
        }
        if (result instanceof LoginResult.Success ok) {
            Path home = ok.home() != null ? ok.home() : ctx.settings().root();
            try {
                storage = ctx.homes().forHome(home);
            } catch (IOException e) {
                LOG.warn("{} event=login-failed user={} reason=home-unavailable", id, printable(name));
                ctx.metrics().loginFailed(false);
                return Reply.of(530, "Login failed: home directory unavailable.");
            }
            account = ok;
            cwd = VirtualPath.ROOT;
            if (!ok.anonymous() && !proxyOwn) {
                // SECURITY: anonymous logins always succeed; letting them clear the failure count
                // would let a guesser reset it between attempts and never be banned.
                ctx.loginGuard().recordSuccess(client);
            }
            ctx.metrics().loginSucceeded();
            LOG.info("{} event=login user={} anonymous={} writable={}", id, printable(ok.user()), ok.anonymous(), ok.writable());
            return Reply.of(230, "User " + printable(ok.user()) + " logged in.");
        }
        LoginResult.Failure failure = (LoginResult.Failure) result;
        failedLogins++;
        boolean banned = !proxyOwn && ctx.loginGuard().recordFailure(client);
        ctx.metrics().loginFailed(banned);
        LOG.info("{} event=login-failed user={} reason={} attempt={}{}", id, printable(name),
                failure.reason().name().toLowerCase(java.util.Locale.ROOT), failedLogins, banned ? " banned=true" : "");
        // SECURITY: a delay after every failure slows password guessing (RFC 2577 §5).
        sleep(ctx.settings().loginPolicy().failureDelay());
        if (banned || failedLogins >= ctx.settings().loginPolicy().maxAttemptsPerSession()) {
            closing = true;
            return Reply.of(421, "Too many failed logins; closing the connection.");
        }
        return Reply.of(530, "Login incorrect.");
    }

    private Reply reinitialize() {
        if (transfer != null) {
            transfer.join();
        }
        resetForNewUser();
        LOG.info("{} event=reinitialize", id);
        return Reply.of(220, "Service ready for new user.");
    }

    /**
     * REIN, and a successful AUTH TLS (RFC 4217 §4: "reset transfer parameters ... almost as if a REIN
     * command was issued"). TLS on the control connection stays on: RFC 4217 §13 has REIN revert to clear
     * text, but a protected session that one command turns back into clear text would defeat a policy
     * that requires TLS, so REIN here only resets the data protection (PROT lasts until REIN, §9).
     */
    private void resetForNewUser() {
        data.discardEndpoint();
        account = null;
        storage = null;
        pendingUser = null;
        cwd = VirtualPath.ROOT;
        ascii = false;
        restOffset = 0;
        epsvAll = false;
        protectData = implicitTls;
        protectionBufferSet = implicitTls;
        loginClockNanos = System.nanoTime();
    }

    /** The TLS policy of a user: the user's own (users file), else the server's. */
    TlsPolicy tlsPolicy(String user) {
        TlsPolicy own = ctx.authenticator().tlsPolicy(user);
        return own != null ? own : ctx.settings().tls().policy();
    }

    private Reply auth(String arg) throws IOException {
        if (ctx.tls() == null) {
            // RFC 2228: the command is known, the security extensions are not offered.
            return Reply.of(502, "TLS is not available on this server.");
        }
        String mechanism = arg.trim().toUpperCase(java.util.Locale.ROOT);
        // RFC 4217 §17: TLS, and TLS-C as its older synonym. SSL is what curl sends first (then TLS if
        // refused), as vsftpd and ProFTPD accept it: the same mechanism here, without the "data protected
        // too" meaning an old draft gave it; data protection is PROT's business (§9), and clients send PROT.
        if (!isOneOf(mechanism, "TLS", "TLS-C", "SSL")) {
            return Reply.of(504, "AUTH " + printable(arg) + " is not supported; use AUTH TLS.");
        }
        if (connection.tlsSession() != null) {
            return Reply.of(503, "TLS is already active on this connection.");
        }
        if (controlCleared) {
            return Reply.of(503, "TLS was ended by CCC on this connection; connect again to protect it.");
        }
        // SECURITY: bytes that arrived after AUTH and before the handshake were sent in clear text; taking
        // them as commands of the protected session would let a man in the middle inject commands into it
        // (the STARTTLS injection of CVE-2011-0411). AUTH must be the last thing sent before the handshake.
        if (reader.hasBufferedInput()) {
            return Reply.of(503, "Nothing may follow AUTH before the TLS handshake; send AUTH on its own.");
        }
        replies.send(234, "AUTH " + mechanism + " accepted; expecting the TLS handshake.");
        if (!startTls()) {
            // RFC 4217 §10.1: a handshake that failed midway leaves the connection in an unknown state: drop it.
            closing = true;
            ending = "tls-failed";
            return null;
        }
        // RFC 2228 §3 and RFC 4217 §4: after AUTH the user logs in again, transfer parameters are reset.
        if (transfer != null) {
            transfer.join();
        }
        long loginClock = loginClockNanos;
        boolean wasLoggedIn = account != null;
        resetForNewUser();
        if (!wasLoggedIn) {
            loginClockNanos = loginClock; // AUTH does not extend the login timeout
        }
        return null;
    }

    /**
     * CCC (RFC 4217 §6, RFC 2228 §3): the control connection goes on in clear text, for firewalls and NATs that
     * must read PASV/PORT. Refused unless the server allows it, and before login, so that USER and PASS stay
     * protected and an anonymous peer cannot make the server run TLS set-ups and shutdowns at will (§15.3).
     */
    private Reply clearCommandChannel() throws IOException {
        if (connection.tlsSession() == null) {
            return Reply.of(533, "The control connection is not protected.");
        }
        if (!ctx.settings().tls().allowCcc()) {
            return Reply.of(534, "CCC refused: the control connection stays protected.");
        }
        if (account == null) {
            return Reply.of(534, "CCC refused before login: log in first.");
        }
        // SECURITY: as for AUTH, nothing sent under TLS behind CCC may be taken as a clear-text command.
        if (reader.hasBufferedInput()) {
            return Reply.of(503, "Nothing may follow CCC before the TLS shutdown; send CCC on its own.");
        }
        if (transfer != null) {
            transfer.join();
        }
        replies.send(200, "CCC accepted; the control connection continues in clear text.");
        try {
            connection.endTls(CCC_PEER_CLOSE_WAIT_MILLIS);
        } catch (IOException e) {
            LOG.info("{} event=tls-failed client={} during=ccc error={}", id, clientText,
                    Printable.of(String.valueOf(e.getMessage()), 160));
            closing = true;
            ending = "tls-failed";
            return null;
        }
        controlCleared = true;
        LOG.info("{} event=ccc user={} prot={}", id, printable(account.user()), protectData ? "P" : "C");
        return null;
    }

    /** The handshake on the control connection, bounded by the handshake timeout; false (logged) when it failed. */
    private boolean startTls() {
        writeGuard.arm(ctx.settings().tls().handshakeTimeout());
        TlsEndpoint tls = ctx.tls();
        try {
            sessionTls = tls;
            connection.startTls(tls.controlEngine());
        } catch (IOException | RuntimeException e) {
            LOG.info("{} event=tls-failed client={} error={}", id, clientText,
                    Printable.of(String.valueOf(e.getMessage()), 160));
            return false;
        } finally {
            writeGuard.disarm();
        }
        javax.net.ssl.SSLSession session = connection.tlsSession();
        controlTlsSession = session;
        LOG.info("{} event=tls protocol={} cipher={}{}", id, session.getProtocol(), session.getCipherSuite(),
                implicitTls ? " implicit=true" : "");
        return true;
    }

    /** PBSZ (RFC 2228 §3, RFC 4217 §9): TLS is a stream, so the only size is 0. */
    private Reply protectionBufferSize(String arg) {
        if (controlCleared) {
            return Reply.of(503, "PBSZ cannot change after CCC (RFC 4217 §6).");
        }
        if (connection.tlsSession() == null) {
            return Reply.of(503, "Security data exchange not completed (send AUTH first).");
        }
        if (!arg.trim().matches("[0-9]{1,10}")) {
            return Reply.of(501, "PBSZ needs a decimal number (PBSZ 0).");
        }
        protectionBufferSet = true;
        // RFC 2228: a server that wants a smaller buffer answers with its size; for TLS that is 0.
        return Reply.of(200, "PBSZ=0");
    }

    /** PROT (RFC 2228 §3, RFC 4217 §9): P (TLS) or C (clear) for the data connections that follow. */
    private Reply protection(String arg) {
        if (controlCleared) {
            return Reply.of(503, "PROT cannot change after CCC (RFC 4217 §6): data connections keep the current level.");
        }
        if (connection.tlsSession() == null) {
            return Reply.of(503, "Security data exchange not completed (send AUTH first).");
        }
        if (!protectionBufferSet) {
            return Reply.of(503, "PBSZ must come before PROT (send PBSZ 0).");
        }
        return switch (arg.trim().toUpperCase(java.util.Locale.ROOT)) {
            case "P" -> {
                protectData = true;
                yield Reply.of(200, "Protection level set to P (data connections use TLS).");
            }
            case "C" -> {
                if (account != null && tlsPolicy(account.user()).dataNeedsTls()) {
                    yield Reply.of(534, "PROT C refused: data connections must be protected here.");
                }
                protectData = false;
                yield Reply.of(200, "Protection level set to C (data connections in clear text).");
            }
            // RFC 4217 §9: TLS offers Private or Clear only; RFC 2228: 536 for a level the mechanism lacks.
            case "S", "E" -> Reply.of(536, "PROT " + arg.trim().toUpperCase(java.util.Locale.ROOT)
                    + " is not supported with TLS; use P or C.");
            default -> Reply.of(504, "Unknown protection level '" + printable(arg) + "'; use P or C.");
        };
    }

    private Reply quit() {
        closing = true;
        return Reply.of(221, "Goodbye.");
    }

    private Reply type(String arg) {
        String t = arg.toUpperCase(java.util.Locale.ROOT).replaceAll(" +", " ");
        return switch (t) {
            case "I", "L 8" -> {
                ascii = false;
                yield Reply.of(200, "Type set to I.");
            }
            case "A", "A N" -> {
                ascii = true;
                yield Reply.of(200, "Type set to A.");
            }
            case "A T", "A C", "E", "E N", "E T", "E C" -> Reply.of(504, "Only TYPE A (non-print) and TYPE I are supported.");
            default -> Reply.of(501, "Unknown type '" + printable(arg) + "'.");
        };
    }

    private Reply restart(String arg) {
        long offset;
        try {
            offset = Long.parseLong(arg.trim());
        } catch (NumberFormatException e) {
            offset = -1;
        }
        if (offset < 0) {
            return Reply.of(501, "REST needs a non-negative byte offset.");
        }
        restOffset = offset;
        return Reply.of(350, "Restarting at " + offset + ". Send STOR or RETR to start the transfer.");
    }

    private Reply host(String arg) {
        // RFC 7151 §3: HOST comes before USER/login; one virtual host is served, any valid name is accepted.
        if (account != null || pendingUser != null) {
            return Reply.of(503, "HOST must come before USER.");
        }
        if (!arg.matches("[A-Za-z0-9.\\-]{1,253}|\\[[0-9A-Fa-f:.]{2,45}\\]")) {
            return Reply.of(501, "HOST needs a domain name or an address literal.");
        }
        return Reply.of(220, "Host accepted.");
    }

    /** Resolves a path argument against the working directory, or returns null after a reply value. */
    VirtualPath resolve(String argument) throws InvalidVirtualPathException {
        return VirtualPath.resolve(cwd, argument);
    }

    void trySend(int code, String text) {
        trySend(Reply.of(code, text));
    }

    void trySend(Reply reply) {
        try {
            replies.send(reply);
        } catch (IOException ignored) {
            // the connection is already gone; nothing more to tell the client
        }
    }

    void closeConnectionQuietly() {
        try {
            connection.close();
        } catch (IOException ignored) {
            // best effort
        }
    }

    static boolean isOneOf(String arg, String... options) {
        for (String o : options) {
            if (o.equalsIgnoreCase(arg)) {
                return true;
            }
        }
        return false;
    }

    /** A user-supplied string made safe for a log line or reply. */
    static String printable(String s) {
        return Printable.of(s, 64);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    TransferProgress runningProgress() {
        Transfer t = transfer;
        return t != null && t.isRunning() ? t.progress : null;
    }

    List<String> describeEndpoint() {
        return data.describeEndpoint();
    }

}
