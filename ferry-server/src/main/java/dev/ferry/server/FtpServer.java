package dev.ferry.server;

import dev.ferry.protocol.Printable;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.ftps.TlsPolicy;
import dev.ferry.runtime.limits.BanList;
import dev.ferry.runtime.limits.LocalBanList;
import dev.ferry.runtime.limits.LocalSessionLimits;
import dev.ferry.runtime.limits.SessionLimits;
import dev.ferry.runtime.log.Event;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.net.Acceptor;
import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.IdleParker;
import dev.ferry.runtime.net.Listener;
import dev.ferry.runtime.net.PassiveAddressing;
import dev.ferry.runtime.net.SocketConnection;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.runtime.tls.TlsEndpoint;
import dev.ferry.runtime.tls.TlsIdentity;
import dev.ferry.database.Database;
import dev.ferry.database.DatabaseBanList;
import dev.ferry.database.DatabaseSessionLimits;
import dev.ferry.database.QuotaTable;
import dev.ferry.server.auth.Accounts;
import dev.ferry.server.auth.Authenticator;
import dev.ferry.server.auth.DatabaseAccounts;
import dev.ferry.server.policy.DatabaseQuotaLedger;
import dev.ferry.server.data.PassivePorts;
import dev.ferry.server.data.Transfers;
import dev.ferry.server.events.EventSettings;
import dev.ferry.server.fs.ObjectStore;
import dev.ferry.server.fs.StorageEngines;
import dev.ferry.server.fs.StaleUploads;
import dev.ferry.server.metrics.MetricsListener;
import dev.ferry.server.metrics.ServerMetrics;
import dev.ferry.server.proxy.ProxyGate;
import dev.ferry.server.session.Session;
import dev.ferry.server.session.SessionRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ferry server}: the listener and its acceptor.
 *
 * <p>Design: the {@link Acceptor} takes a permit per connection; permits are the session limit
 * plus a small margin, so connections beyond the limit are still accepted and told 421 rather than
 * left hanging in the kernel's queue, while the number of threads stays bounded. The listen backlog is large so that a
 * burst of simultaneous connects is queued, not dropped. Each connection runs on its own virtual thread, which
 * first passes the {@link ProxyGate} (a trusted balancer's PROXY header is read there) and then runs the session.
 */
public final class FtpServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.server");
    /** Connections beyond max-sessions that may be in the middle of being told 421. */
    private static final int REFUSAL_MARGIN = 64;
    /** Copy buffer of uploads: 256 KiB measured 1.2-1.3 CPU-s per GiB stored against 1.2-2.0 for 64 KiB. */
    private static final int TRANSFER_BUFFER = 256 * 1024;
    private static final int POOLED_BUFFERS = 32;

    private final ServerSettings settings;
    /** The daemon's lines (logger ferry.server), tagged with its node. */
    private final EventLog log;
    /** The fleet's shared PostgreSQL ({@code database:}), or null. */
    private final Database database;
    /** The database's ban list and session counts when {@code database:} is set, else null (local ones are used). */
    private DatabaseBanList sharedBans;
    private DatabaseSessionLimits sharedLimits;
    private final Listener listener;
    private final ServerContext context;
    private final Acceptor acceptor;
    /** The implicit-FTPS listener and its acceptor, or null. */
    private final Listener implicitListener;
    private final Acceptor implicitAcceptor;
    private final ProxyGate proxyGate;
    /** Connections still at the gate (not yet sessions), so that close() can end them too. */
    private final Set<SocketConnection> atGate = ConcurrentHashMap.newKeySet();
    /** GET /metrics, when the settings name an address for it; else null. */
    private MetricsListener metricsListener;
    /** The start-up sweep of stale upload temp files (see {@link #sweepStaleUploads}). */
    private Thread sweeper;
    private volatile boolean closed;
    /** Removed temp files named one by one in the log; beyond this only their number. */
    private static final int SWEEP_LINES = 100;

    private FtpServer(ServerSettings settings) throws IOException {
        this.settings = settings;
        this.log = new EventLog(LOG, settings.node());
        if (settings.objectStore() == null && !Files.isDirectory(settings.root())) {
            throw new IOException("root directory " + settings.root() + " does not exist or is not a directory");
        }
        TlsEndpoint tls = null;
        checkTlsCombination(settings.tls());
        if (settings.tls().enabled()) {
            // Before any thread starts or anything is bound: a bad certificate stops the start with its message.
            tls = TlsEndpoint.create(TlsIdentity.load(settings.tls().identityFiles(), settings.listen(), Clock.systemUTC()),
                    settings.tls().reuse());
        }
        // Before anything is bound: a database that cannot be reached, refuses the login or has a newer schema stops
        // the start with its message (the schema is migrated here, once across the fleet).
        this.database = settings.database() == null ? null : Database.open(settings.database(), log);
        Accounts accounts;
        try {
            accounts = openAccounts(settings, database);
        } catch (IOException | RuntimeException e) {
            closeDatabase();
            throw e;
        }
        // Before anything is bound: an unreachable bucket or refused credentials stop the start with their message
        // (the server's store, and each store an account names as its own).
        StorageEngines storage;
        try {
            storage = StorageEngines.open(settings);
        } catch (IOException | RuntimeException e) {
            accounts.close();
            closeDatabase();
            throw e;
        }
        ServerSettings.Passive passive = settings.passive();
        // A balancer sends its header as soon as it has connected: the login timeout is ample for it.
        this.proxyGate = new ProxyGate(settings.trustedProxies(), settings.limits().loginTimeout());
        Watchdog watchdog = new Watchdog("ferry-watchdog");
        BanList bans;
        SessionLimits sessionLimits;
        try {
            if (database != null) {
                // Shared with every server and balancer on this database: bans heard at once (NOTIFY), session counts
                // exact across servers. The node key adds the listen address: two servers on one host are two slots.
                this.sharedBans = DatabaseBanList.start(database, settings.loginPolicy().banRules(), settings.node(),
                        Clock.systemUTC(), log);
                this.sharedLimits = DatabaseSessionLimits.start(database,
                        settings.node() + "@" + HostPort.text(settings.listen()), log);
                bans = sharedBans;
                sessionLimits = sharedLimits;
            } else {
                bans = new LocalBanList(settings.loginPolicy().banRules(), Clock.systemUTC(), settings.node());
                sessionLimits = new LocalSessionLimits(settings.node());
            }
        } catch (IOException | RuntimeException e) {
            storage.close();
            accounts.close();
            closeDatabase();
            throw e;
        }
        PassivePorts passivePorts = new PassivePorts(passive.portLow(), passive.portHigh());
        SessionRegistry sessions = new SessionRegistry(settings.limits().maxSessions(), settings.limits().maxSessionsPerAddress());
        this.context = new ServerContext(settings,
                accounts,
                bans,
                sessionLimits,
                watchdog,
                passivePorts,
                new PassiveAddressing(passive.publicAddress(), passive.networkAddresses()),
                new BufferPool(TRANSFER_BUFFER, POOLED_BUFFERS),
                sessions,
                storage,
                new IdleParker("ferry-idle-parker"),
                new ServerMetrics(sessions::count, settings.limits().maxSessions(), bans, passivePorts),
                tls);

        try {
            if (database != null) {
                // With a shared database the quota is counted there, across every server (docs/policy.md).
                int released = context.quotaLedger(new DatabaseQuotaLedger(new QuotaTable(database)));
                if (released > 0) {
                    log.info("quota-reservations-released").with("count", released)
                            .with("reason", "held by an earlier start of this node").log();
                }
            }
            this.listener = Listener.bind(settings.listen(), "");
        } catch (IOException e) {
            watchdog.close();
            context.idleParker().close();
            context.events().close(java.time.Duration.ZERO);
            storage.close();
            accounts.close();
            closeDatabase();
            throw e;
        }
        this.acceptor = new Acceptor("ferry-acceptor", listener.channel(), settings.limits().maxSessions() + REFUSAL_MARGIN,
                (channel, release) -> {
                    SocketConnection socket = new SocketConnection(channel);
                    Thread.ofVirtual().start(() -> serve(socket, release, false));
                }, log);
        if (settings.tls().implicitListen() != null) {
            try {
                this.implicitListener = Listener.bind(settings.tls().implicitListen(), " for implicit FTPS");
            } catch (IOException e) {
                listener.close();
                watchdog.close();
                context.idleParker().close();
                context.events().close(java.time.Duration.ZERO);
                storage.close();
                accounts.close();
                closeDatabase();
                throw e;
            }
            // Same session limit: a session is a session, whichever listener it came through.
            this.implicitAcceptor = new Acceptor("ferry-implicit-acceptor", implicitListener.channel(),
                    settings.limits().maxSessions() + REFUSAL_MARGIN, (channel, release) -> {
                        SocketConnection socket = new SocketConnection(channel);
                        Thread.ofVirtual().start(() -> serve(socket, release, true));
                    }, log);
        } else {
            this.implicitListener = null;
            this.implicitAcceptor = null;
        }
    }

    /**
     * The accounts {@code s} names: its source (users: ldap, users: hook) opened, else its users list. The root and
     * anonymous access are those of {@code s} (a reload passes the running ones: they change only with a restart).
     */
    static Accounts openAccounts(ServerSettings s, Database shared) throws IOException {
        return s.accountSource() != null ? s.accountSource().open(s, shared)
                : new Authenticator(s.users(), s.anonymous(), s.loginPolicy().credentialCacheTtl());
    }

    /** The shared database, closed last (after the accounts and everything else that may use it). */
    private void closeDatabase() {
        // The shared limits first: a clean stop gives this server's session places back at once.
        if (sharedLimits != null) {
            sharedLimits.close();
        }
        if (sharedBans != null) {
            sharedBans.close();
        }
        if (database != null) {
            database.close();
        }
    }

    /** What the start and reload lines say under users=: the source's name, or how many accounts the list has. */
    private static Object usersDescription(ServerSettings s) {
        return s.accountSource() != null ? s.accountSource().kind() : s.users().size();
    }

    private static void checkTlsCombination(ServerSettings.Tls tls) throws IOException {
        if (!tls.enabled() && tls.implicitListen() != null) {
            throw new IOException("tls: an implicit-FTPS listener needs TLS (it is turned off)");
        }
        if (!tls.enabled() && tls.allowCcc()) {
            throw new IOException("tls: TLS is turned off, so CCC cannot be allowed");
        }
        if (!tls.enabled() && tls.policy() != TlsPolicy.OPTIONAL) {
            throw new IOException("tls: TLS is turned off, so it cannot be required");
        }
    }

    /**
     * {@code --check-config}: what the start checks before it binds, with nothing bound or started: the root, the
     * TLS combination, and a given certificate and key loaded (a self-signed one is not made: whether its
     * directory is writable is the caller's check). Throws the start's own exception with the start's message.
     *
     * @param rootMadeAtStart the root is the default one, which the start creates when it is missing
     */
    public static void check(ServerSettings settings, boolean rootMadeAtStart) throws IOException {
        if (settings.objectStore() == null && !Files.isDirectory(settings.root())
                && !(rootMadeAtStart && Files.notExists(settings.root()))) {
            throw new IOException("root directory " + settings.root() + " does not exist or is not a directory");
        }
        checkTlsCombination(settings.tls());
        if (settings.tls().enabled() && settings.tls().certificate() != null) {
            TlsEndpoint.create(TlsIdentity.load(settings.tls().identityFiles(), settings.listen(), Clock.systemUTC()),
                    settings.tls().reuse());
        }
    }

    /** Passes the gate, then runs the session; {@code release} runs once, when the connection has ended. */
    private void serve(SocketConnection socket, Runnable release, boolean implicitTls) {
        Session session = null;
        atGate.add(socket);
        try {
            session = pass(socket, implicitTls);
        } finally {
            atGate.remove(socket);
            if (session == null) {
                socket.closeQuietly();
                release.run();
            }
        }
        if (session == null) {
            return; // dropped at the gate: closed and released above
        }
        // The permit is the session's, not its first thread's: a session may park and continue on
        // other threads (IdleParker).
        session.onEnd(release);
        session.run();
    }

    /** The session for a connection that passed the gate, or null when it was dropped there. */
    private Session pass(SocketConnection socket, boolean implicitTls) {
        try {
            return switch (proxyGate.open(socket)) {
                case ProxyGate.Outcome.Open open -> new Session(context, open.connection(), implicitTls, open.proxyOwn(),
                        open.proxySession());
                case ProxyGate.Outcome.Drop drop -> {
                    context.metrics().sessionRefused(ServerMetrics.Refusal.PROXY_PROTOCOL);
                    context.sessionLog().session(context.sessions().nextId(), HostPort.text(socket.remoteAddress()))
                            .info("refused").with("reason", "proxy-protocol").with("error", Printable.of(drop.reason(), 160))
                            .log();
                    yield null;
                }
            };
        } catch (IOException | RuntimeException e) {
            context.sessionLog().debug("gate-failed").with("client", HostPort.text(socket.remoteAddress()))
                    .with("error", e.toString()).log();
            return null;
        }
    }

    /** Binds and starts serving. */
    public static FtpServer start(ServerSettings settings) throws IOException {
        FtpServer server = new FtpServer(settings);
        if (settings.metricsListen() != null) {
            try {
                server.metricsListener = MetricsListener.start(settings.metricsListen(), server.context.metrics().handler());
            } catch (IOException e) {
                server.close();
                throw e;
            }
            server.log.info("metrics-listening").with("address", HostPort.text(server.metricsListener.address()))
                    .with("path", MetricsListener.PATH).log();
        }
        server.acceptor.start();
        // An object store keeps no temp files: an unfinished multipart upload is aborted by its session, and a
        // crash leaves only parts that the bucket's lifecycle rule (docs/storage.md) expires. Local homes (the
        // server's, or those of accounts with storage: local) are swept.
        server.sweepStaleUploads();
        if (server.implicitAcceptor != null) {
            server.implicitAcceptor.start();
            server.log.info("listening-implicit-tls").with("address", HostPort.text(server.implicitTlsAddress())).log();
        }
        if (server.context.tls() != null) {
            TlsIdentity id = server.context.tls().identity();
            server.log.info("tls").with("certificate", id.origin())
                    .with("subject", id.certificate().getSubjectX500Principal().getName())
                    .with("expires", id.certificate().getNotAfter().toInstant()).with("fingerprint", id.fingerprint())
                    .with("policy", settings.tls().policy().name().toLowerCase(Locale.ROOT))
                    .with("reuse", settings.tls().reuse().name().toLowerCase(Locale.ROOT))
                    .with("renegotiation", TlsEndpoint.refusesRenegotiation() ? "refused" : "allowed").log();
        }
        server.log.info("listening").with("address", HostPort.text(server.address()))
                .with(settings.objectStore() == null ? "root" : "storage", server.context.homes().describe())
                .with("passive_ports", settings.passive().portLow() == 0 ? "any"
                        : settings.passive().portLow() + "-" + settings.passive().portHigh())
                .with("users", usersDescription(settings)).with("anonymous", settings.anonymous().enabled())
                .with("bans", server.sharedBans != null ? "database" : "local")
                .with("session_limits", server.sharedLimits != null ? "database" : "local")
                .with("quota", server.database == null ? "memory" : "database")
                .with("proxy_protocol_from",
                        settings.trustedProxies().isEmpty() ? "-" : String.join(",", settings.trustedProxies()))
                .log();
        for (ObjectStore store : server.context.storage().otherStores()) {
            server.log.info("storage-opened").with("storage", store.url())
                    .with("users", StorageEngines.usersOn(settings.users(), store)).log();
        }
        if (settings.events().enabled()) {
            // SECURITY: the webhook as loggable (no user info, no query: a token may be there); the command's program only.
            server.log.info("events").with("webhook", EventSettings.loggable(settings.events().webhook()))
                    .with("command", settings.events().command().isEmpty() ? null : settings.events().command().get(0))
                    .with("on", String.join(",", settings.events().on().stream().map(EventSettings.Kind::label).sorted()
                            .toList()))
                    .with("queue", settings.events().queue()).with("workers", settings.events().workers()).log();
        }
        warnAboutHomes(server.log, settings.users(), settings.objectStore());
        // Off the start's path: linking splice(2) costs about 0.1 s of CPU, paid here once rather than by a first upload.
        Thread.ofVirtual().name("ferry-upload-mode").start(() -> server.log.info("uploads")
                .with("mode", Transfers.uploadMode()).with("reason", Transfers.uploadCopyReason()).log());
        return server;
    }

    /**
     * One WARN per account whose home is missing or not a directory, naming the user and the path, so that
     * the operator learns it at start (or reload) and not from the user's first failed login. The server
     * still starts: the other accounts work, and the directory may be created (or mounted) later.
     */
    static List<String> warnAboutHomes(EventLog log, List<ServerSettings.UserAccount> users) {
        return warnAboutHomes(log, users, null);
    }

    /** As above, for the accounts whose files are local: on an object store a home is a key prefix, never missing. */
    static List<String> warnAboutHomes(EventLog log, List<ServerSettings.UserAccount> users, ObjectStore serverStore) {
        List<String> problems = new ArrayList<>();
        for (ServerSettings.UserAccount user : users) {
            Path home = user.home();
            if (home == null || !user.storedLocally(serverStore) || Files.isDirectory(home)) {
                continue;
            }
            String problem = Files.exists(home) ? "not-a-directory" : "missing";
            problems.add(user.name() + " " + home + " " + problem);
            log.warn("home-" + problem).with("user", user.name()).with("home", home)
                    .with("hint", "this user cannot log in until the directory exists").log();
        }
        return problems;
    }

    /**
     * Removes the temp files of uploads that a crash of a server cut short, under every directory this one
     * serves (dev.ferry.server.fs.UploadTemp says why one in use by any process is never touched). In the
     * background: the listener is open already, and a large tree takes a while to walk; an upload meanwhile
     * is safe (its own temp file is locked and known to this JVM).
     */
    private void sweepStaleUploads() {
        Set<Path> roots = new LinkedHashSet<>();
        if (settings.objectStore() == null) {
            roots.add(settings.root());
            if (settings.anonymous().home() != null) {
                roots.add(settings.anonymous().home());
            }
        }
        for (ServerSettings.UserAccount user : settings.users()) {
            // Only local homes hold temp files (an account on an object store uploads in parts).
            if (user.home() != null && user.storedLocally(settings.objectStore())) {
                roots.add(user.home());
            }
        }
        if (roots.isEmpty()) {
            return;
        }
        sweeper = Thread.ofPlatform().daemon().name("ferry-stale-uploads").start(() -> {
            long start = System.nanoTime();
            int[] named = {0};
            StaleUploads.Result r = StaleUploads.sweep(roots, () -> closed, file -> {
                if (named[0]++ < SWEEP_LINES) {
                    log.info("stale-upload-removed").with("file", file).log();
                }
            });
            log.info("stale-uploads-swept").with("removed", r.removed()).with("in_use", r.kept())
                    .with("entries", r.entries()).with("complete", r.complete())
                    .with("ms", (System.nanoTime() - start) / 1_000_000L).log();
        });
    }

    /** Waits (bounded) for the start-up sweep of stale upload temp files; true when it has ended. */
    public boolean awaitStaleUploadSweep(java.time.Duration timeout) throws InterruptedException {
        return sweeper == null || sweeper.join(timeout);
    }

    public InetSocketAddress address() {
        return listener.address();
    }

    public int port() {
        return address().getPort();
    }

    /** The implicit-FTPS listener's address, or null when there is none. */
    public InetSocketAddress implicitTlsAddress() {
        return implicitListener == null ? null : implicitListener.address();
    }

    /** FTPS of this server, or null when TLS is off. */
    public TlsEndpoint tls() {
        return context.tls();
    }

    public ServerContext context() {
        return context;
    }

    /** The metrics listener's address, or null when the server has none. */
    public InetSocketAddress metricsAddress() {
        return metricsListener == null ? null : metricsListener.address();
    }

    /**
     * Applies a configuration read again (SIGHUP): the accounts (users file or config) and the TLS
     * certificate, for new logins and new TLS handshakes; sessions in progress keep theirs. Everything is
     * loaded and checked before anything changes, so a bad certificate, or an account's own object store that
     * cannot be reached, leaves the server as it was (the exception says why). A store an account names for the
     * first time is opened here; the server's own storage changes only with a restart. Returns the settings that
     * differ but take effect only after a restart.
     */
    public synchronized List<String> reload(ServerSettings next) throws IOException {
        TlsEndpoint tls = null;
        if (context.tls() != null && next.tls().enabled()) {
            tls = TlsEndpoint.create(TlsIdentity.load(next.tls().identityFiles(), settings.listen(), Clock.systemUTC()),
                    context.tls().reuse());
        }
        Accounts accounts = openAccounts(next.withRoot(settings.root()).withAnonymous(settings.anonymous())
                .withLoginPolicy(settings.loginPolicy()), database);
        // An account that names a store not open yet: opened (and checked) now, before any account changes, so a
        // wrong bucket leaves the server as it was. Kept open until the server stops (sessions may use it).
        List<ObjectStore> opened;
        try {
            opened = context.storage().openFor(next.users());
        } catch (IOException | RuntimeException e) {
            accounts.close();
            throw e;
        }
        Accounts previous = context.authenticator();
        context.replaceAuthenticator(accounts);
        // Its pool or client closes once the logins it is answering have their answer.
        previous.close();
        if (tls != null) {
            context.replaceTls(tls);
        }
        List<String> restart = ReloadDifferences.needingRestart(settings, next);
        warnAboutHomes(log, next.users(), settings.objectStore());
        Event reloaded = log.info("reloaded").with("users", usersDescription(next));
        if (!opened.isEmpty()) {
            // only when a store was opened: the line's usual shape stays "users=N certificate=..." for the tools
            // that read it
            reloaded.with("storage_opened", String.join(",", opened.stream().map(ObjectStore::url).toList()));
        }
        reloaded.with("certificate", tls == null ? null : tls.identity().fingerprint())
                .with("restart_needed", restart.isEmpty() ? null : String.join(",", restart)).log();
        return restart;
    }

    /** Stops accepting; sessions in progress are closed. */
    @Override
    public void close() {
        closed = true;
        acceptor.stop();
        if (implicitAcceptor != null) {
            implicitAcceptor.stop();
            try {
                implicitListener.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        if (metricsListener != null) {
            metricsListener.close();
        }
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (SocketConnection waiting : atGate) {
            waiting.closeQuietly();
        }
        for (Session s : context.sessions().sessions()) {
            s.close();
        }
        if (context.idleParker() != null) {
            context.idleParker().close();
        }
        context.watchdog().close();
        // Before the storage closes: a worker may still be reading an upload back for its hash.
        context.events().close();
        context.storage().close();
        context.authenticator().close();
        closeDatabase();
        log.info("stopped").log();
    }
}
