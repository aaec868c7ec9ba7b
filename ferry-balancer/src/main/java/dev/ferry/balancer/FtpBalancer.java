package dev.ferry.balancer;

import dev.ferry.balancer.admin.BalancerStatus;
import dev.ferry.database.Database;
import dev.ferry.database.DatabaseBanList;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.check.HealthChecker;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.data.Relay;
import dev.ferry.balancer.frontend.Admission;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.balancer.frontend.ClientSession;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.balancer.passthrough.PassiveRanges;
import dev.ferry.balancer.passthrough.Passthrough;
import dev.ferry.balancer.policy.BalancePolicy;
import dev.ferry.balancer.proxy.ProxySession;
import dev.ferry.balancer.reload.ReloadPlan;
import dev.ferry.balancer.tls.BackendTlsClient;
import dev.ferry.balancer.tls.BalancerTls;
import dev.ferry.protocol.Printable;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.runtime.limits.LocalBanList;
import dev.ferry.runtime.limits.LocalSessionLimits;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.runtime.net.Acceptor;
import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.IdleParker;
import dev.ferry.runtime.net.Listener;
import dev.ferry.runtime.net.PassiveAddressing;
import dev.ferry.runtime.net.Watchdog;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ferry balancer}: the client-facing listener, its backends and their checks. The same
 * {@link Acceptor} as the server: a permit per connection (max sessions plus a margin for 421
 * refusals), one virtual thread per client session.
 *
 * <p>This class wires, starts, reloads and stops; what the admin page, API, metrics and banner read of
 * it is {@link #status()}.
 */
public final class FtpBalancer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.balancer");
    private static final int REFUSAL_MARGIN = 64;
    private static final int RELAY_BUFFER = 256 * 1024;

    /** As started: what the listener, passive ports and admission were built from (a reload cannot change those). */
    private final BalancerSettings settings;
    private final Listener listener;
    /** The implicit-FTPS listener (TLS from the first byte), or null. */
    private final Listener implicitListener;
    private final Acceptor implicitAcceptor;
    private final BalancerContext context;
    private volatile HealthChecker checker;   // replaced by a reload
    private final Acceptor acceptor;
    private final List<Backend> initialBackends;
    /** Backends a reload removed whose sessions have not all ended yet. */
    private final Set<Backend> retiring = ConcurrentHashMap.newKeySet();
    /** TLS passthrough's sessions and data ports; null in the other modes. */
    private final Passthrough passthrough;
    /** FTPS for the health checks of backends that speak it (terminated or passed through), else null. */
    private final BackendTlsClient checkTls;
    private final BalancerStatus status;
    /** The fleet's shared PostgreSQL ({@code database:}): bans shared between balancers, accounts for the admin API. */
    private final Database database;
    /** The database's ban list when {@code database:} is set, else null (a local one is used). */
    private final DatabaseBanList sharedBans;

    private FtpBalancer(BalancerSettings settings) throws IOException {
        Instant startedAt = Instant.now();
        checkBackends(settings);
        boolean passthroughMode = settings.tls().mode() == BalancerSettings.TlsMode.PASSTHROUGH;
        this.settings = settings;
        BalancerTls tls = BalancerTls.start(settings.tls(), settings.listen());
        this.checkTls = checkTls(settings, tls);
        EventLog log = new EventLog(LOG, settings.node());
        // Before anything is bound: a database that cannot be reached or has a newer schema stops the start.
        this.database = settings.database() == null ? null : Database.open(settings.database(), log);
        try {
            // Shared with every balancer and server on the database: a ban made or lifted on one holds on all at once.
            this.sharedBans = database == null ? null
                    : DatabaseBanList.start(database, settings.bans(), settings.node(), Clock.systemUTC(), log);
            List<Backend> backends = settings.backends().stream()
                    .map(spec -> new Backend(spec, settings.check().rise(), settings.check().fall(), log))
                    .toList();
            this.listener = Listener.bind(settings.listen(), "");
            Watchdog watchdog = new Watchdog("ferry-balancer-watchdog");
            DataPorts dataPorts = new DataPorts(listener.address().getAddress(), settings.passiveLow(), settings.passiveHigh(), log);
            Admission admission = new Admission(settings.maxSessions(), settings.queue().size(), settings.queue().timeout());
            this.initialBackends = backends;
            BalancerMetrics metrics = new BalancerMetrics(this::backendsInService, admission, dataPorts, settings.maxSessions(),
                    this::perAddressLimit);
            this.context = new BalancerContext(settings, backends, BalancePolicy.of(settings.balance()), watchdog,
                    dataPorts,
                    new PassiveAddressing(settings.publicAddress(), settings.networkAddresses()), new BufferPool(RELAY_BUFFER, 64),
                    admission, new AtomicLong(), ConcurrentHashMap.newKeySet(),
                    new IdleParker("ferry-balancer-idle-parker"), metrics, tls,
                    sharedBans != null ? sharedBans : new LocalBanList(settings.bans(), Clock.systemUTC(), settings.node()),
                    // The balancer only counts sessions per user for its page (max 0): the servers, which know the
                    // accounts' max-sessions, enforce them (across servers with the database).
                    new LocalSessionLimits(settings.node()));
            metrics.bansActive(context.bans()::bannedCount);
            try {
                this.passthrough = passthroughMode ? Passthrough.start(context, address().getAddress()) : null;
            } catch (IOException e) {
                listener.close();
                context.idleParker().close();
                watchdog.close();
                throw e;
            }
            this.status = new BalancerStatus(context, listener.address(), startedAt, retiring,
                    passthrough != null ? new BalancerStatus.PassivePorts(passthrough::passivePortsText, passthrough::dataPortCount)
                            : BalancerStatus.PassivePorts.range(settings.passiveLow(), settings.passiveHigh()), database);
            this.checker = new HealthChecker(backends, settings.check(), settings.proxyProtocol(), settings.source(), checkTls, metrics::checkDone,
                    context.log());
            this.acceptor = acceptor("ferry-balancer-acceptor", listener.channel(), false);
            InetSocketAddress implicit = tls == null ? null : settings.tls().implicitListen();
            if (implicit != null) {
                try {
                    this.implicitListener = Listener.bind(implicit, " for implicit FTPS");
                } catch (IOException e) {
                    listener.close();
                    throw e;
                }
                this.implicitAcceptor = acceptor("ferry-balancer-implicit-acceptor", implicitListener.channel(), true);
            } else {
                this.implicitListener = null;
                this.implicitAcceptor = null;
            }
        } catch (IOException | RuntimeException e) {
            // every failure after the open: the database's pool and LISTEN connection must not outlive the start
            closeShared();
            throw e;
        }
    }

    private Acceptor acceptor(String name, ServerSocketChannel on, boolean implicitTls) {
        return new Acceptor(name, on, context.admission().capacity() + REFUSAL_MARGIN,
                (channel, release) -> {
                    Runnable session = passthrough != null ? passthrough.session(channel) : ProxySession.accepted(context, channel, implicitTls);
                    Thread.ofVirtual().start(() -> {
                        try {
                            session.run();
                        } finally {
                            release.run();
                        }
                    });
                }, context.log());
    }

    /**
     * The login check must speak FTPS to backends that do (they may refuse a clear-text login): with TLS
     * terminated, the balancer's own FTPS client to the backends; in passthrough, where the balancer otherwise
     * never speaks TLS, one made for the checks when the backends are declared FTPS ({@code tls.backends}).
     */
    private static void checkBackends(BalancerSettings settings) throws IOException {
        if (settings.backends().isEmpty()) {
            throw new IOException("no backends configured (--backend NAME=HOST:PORT)");
        }
        if (settings.tls().mode() == BalancerSettings.TlsMode.PASSTHROUGH) {
            Passthrough.check(settings);
        }
        checkSource(settings.source());
    }

    /**
     * A {@code source} that is not this host's would fail every connection to a backend, checks included,
     * each with the kernel's EADDRNOTAVAIL: said once at start instead, naming the setting. Binding an ephemeral
     * port of it and closing it again is the kernel's own answer, and sends nothing.
     */
    private static void checkSource(InetAddress source) throws IOException {
        if (source == null) {
            return;
        }
        try (Socket probe = new Socket()) {
            probe.bind(new InetSocketAddress(source, 0));
        } catch (IOException e) {
            throw new IOException("balancer.source " + source.getHostAddress() + " (--source) cannot be used: "
                    + e.getMessage() + "; give one of this host's addresses, or leave it out to let routing pick", e);
        }
    }

    /**
     * {@code --check-config}: what the start checks before it binds, with nothing bound, no thread started and no
     * backend contacted: the backends, passthrough's ranges, a given certificate and key loaded, the backends' CA
     * file read. A self-signed certificate is not made (whether its directory is writable is the caller's check).
     * Throws the start's own exception with the start's message.
     */
    public static void check(BalancerSettings settings) throws IOException {
        checkBackends(settings);
        BalancerSettings.Tls tls = settings.tls();
        if (tls.mode() == BalancerSettings.TlsMode.TERMINATE && tls.certificate() != null) {
            BalancerTls.start(tls, settings.listen());
        } else if (tls.backends().ftps()) {
            BackendTlsClient.create(tls.backends().trustedCertificates());
        }
    }

    private static BackendTlsClient checkTls(BalancerSettings settings, BalancerTls tls) throws IOException {
        if (!settings.tls().backends().ftps()) {
            return null;
        }
        if (tls != null && tls.backends() != null) {
            return tls.backends();
        }
        return BackendTlsClient.create(settings.tls().backends().trustedCertificates());
    }

    public static FtpBalancer start(BalancerSettings settings) throws IOException {
        FtpBalancer b = new FtpBalancer(settings);
        b.checker.start();
        b.acceptor.start();
        if (b.implicitAcceptor != null) {
            b.implicitAcceptor.start();
        }
        BalancerTls tls = b.context.tls();
        if (tls != null) {
            b.context.log().info("tls").with("mode", "terminate")
                    .with("certificate", tls.server().identity().selfSigned() ? "self-signed" : settings.tls().certificate())
                    .with("fingerprint", tls.server().identity().fingerprint()).with("require", spelling(settings.tls().require()))
                    .with("session_reuse", spelling(settings.tls().reuse()))
                    .with("implicit", b.implicitListener == null ? null : HostPort.text(b.implicitTlsAddress()))
                    .with("backends", tls.backends() == null ? "plain" : "ftps").log();
            if (tls.backends() != null && !tls.backends().verifies()) {
                b.context.log().warn("tls-backends-unverified")
                        .with("reason", "no backend-ca: the link to the backends is encrypted, but their certificates are not checked").log();
            }
        }
        b.context.log().info("listening").with("address", HostPort.text(b.address())).with("backends", settings.backends().size())
                .with("balance", settings.balance().name().toLowerCase(Locale.ROOT))
                .with("check", settings.check().type().name().toLowerCase(Locale.ROOT).replace('_', '-'))
                .with("passive_ports", b.status.passivePortsText()).with("relay", Relay.mode())
                .with("bans", b.sharedBans != null ? "database" : "local").log();
        return b;
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

    private static String spelling(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /**
     * What the metrics read at every scrape (a reload changes it). The metrics are built before the
     * context that holds the list, and register their series at once: until then, the initial list.
     */
    private List<Backend> backendsInService() {
        BalancerContext c = context;
        return c == null ? initialBackends : c.backends();
    }

    /** The per-address limit in force (a reload changes it); as {@link #backendsInService}, for the metrics. */
    private int perAddressLimit() {
        BalancerContext c = context;
        return (c == null ? settings : c.settings()).perAddressLimit();
    }

    /** What the admin page and API, the metrics endpoint and the banner read: sessions, backends, settings in force. */
    public BalancerStatus status() {
        return status;
    }

    /** Stops at once: sessions in progress are told 421 and closed. */
    @Override
    public void close() {
        stop(Duration.ZERO);
    }

    /**
     * Applies a configuration read again (SIGHUP, the admin API): backends added, retired (no new
     * sessions; their sessions finish; they leave when the last one ended) or re-weighted; checks,
     * balancing, timeouts, retries, the per-address limit, greeting and PROXY protocol changed for new
     * sessions. Sessions in flight are not touched. What needs a restart (the listener, passive ports
     * and public address, max-sessions and queue, the admin listener) stays as it is and is named in
     * the result. The caller reads and validates the file first: a file with errors never gets here.
     */
    public synchronized ReloadPlan reload(BalancerSettings next) {
        BalancerSettings current = context.settings();
        if (passthrough != null) {
            passthrough.reload(next);   // first: a configuration it refuses changes nothing
        }
        List<Backend> running = context.backends();
        ReloadPlan plan = ReloadPlan.between(running, current, next);
        Set<Backend> retired = Collections.newSetFromMap(new IdentityHashMap<>());
        retired.addAll(plan.retired());
        Map<String, Backend> added = new HashMap<>();
        for (BalancerSettings.BackendSpec spec : plan.added()) {
            added.put(spec.name(), new Backend(spec, next.check().rise(), next.check().fall(), context.log()));
        }
        // The new list in the order of the file: kept backends stay the same objects (state, counters).
        Map<String, Backend> kept = new HashMap<>();
        for (Backend b : running) {
            if (!retired.contains(b)) {
                kept.put(b.name(), b);
            }
        }
        List<Backend> backends = new ArrayList<>();
        for (BalancerSettings.BackendSpec spec : next.backends()) {
            Backend b = added.containsKey(spec.name()) ? added.get(spec.name()) : kept.get(spec.name());
            backends.add(b);
        }
        plan.reweighted().forEach(Backend::setWeight);
        if (next.check().rise() != current.check().rise() || next.check().fall() != current.check().fall()) {
            kept.values().forEach(b -> b.setThresholds(next.check().rise(), next.check().fall()));
        }
        BalancePolicy policy = next.balance() == current.balance() ? context.policy() : BalancePolicy.of(next.balance());
        BalancerSettings.Tls tlsApplied = reloadTls(current.tls(), next.tls());
        // Settings that cannot change keep their running values, so that nothing reads a value not in force.
        BalancerSettings applied = next.withListen(current.listen()).withPassivePorts(current.passiveLow(), current.passiveHigh())
                .withPublicAddress(current.publicAddress()).withNetworkAddresses(current.networkAddresses())
                .withMaxSessions(current.maxSessions()).withQueue(current.queue()).withAdmin(current.admin())
                .withTls(tlsApplied);
        context.reconfigure(applied, backends, policy);
        for (Backend b : retired) {
            b.setAdminState(AdminState.DRAIN);
            retiring.add(b);
            Thread.ofVirtual().name("ferry-retire-" + b.name()).start(() -> awaitRetired(b));
        }
        HealthChecker old = checker;
        HealthChecker fresh = new HealthChecker(backends, applied.check(), applied.proxyProtocol(), applied.source(), checkTls,
                context.metrics()::checkDone, context.log());
        checker = fresh;
        old.close();
        fresh.start();
        context.log().info("reload").with("added", names(plan.added().stream().map(BalancerSettings.BackendSpec::name).toList()))
                .with("retired", names(plan.retired().stream().map(Backend::name).toList()))
                .with("reweighted", names(plan.reweighted().keySet().stream().map(b -> b.name() + ":" + plan.reweighted().get(b)).toList()))
                .with("backends", backends.size()).with("restart_needed", names(plan.needRestart())).log();
        return plan;
    }

    /**
     * The TLS part of a reload: the certificate files are read again (new sessions get the new certificate,
     * sessions in progress keep theirs); a file that fails keeps the old certificate and says why. Mode,
     * implicit listener and backend protocol keep their running values (ReloadPlan names them).
     */
    private BalancerSettings.Tls reloadTls(BalancerSettings.Tls current, BalancerSettings.Tls next) {
        BalancerSettings.Tls applied = next.withMode(current.mode()).withImplicitListen(current.implicitListen())
                .withBackends(current.backends());
        BalancerTls tls = context.tls();
        if (tls == null) {
            return applied;
        }
        try {
            tls.reload(applied);
            context.log().info("tls-reloaded")
                    .with("certificate", tls.server().identity().selfSigned() ? "self-signed" : applied.certificate())
                    .with("fingerprint", tls.server().identity().fingerprint()).log();
            return applied;
        } catch (IOException | RuntimeException e) {
            context.log().warn("reload-failed").with("what", "tls-certificate")
                    .with("error", Printable.of(String.valueOf(e.getMessage()), 200)).log();
            return applied.withCertificate(current.certificate(), current.key()).withPasswordFile(current.passwordFile())
                    .withSelfSignedDirectory(current.selfSignedDirectory()).withReuse(current.reuse());
        }
    }

    private static String names(List<String> names) {
        return names.isEmpty() ? "-" : String.join(",", names);
    }

    /** A retired backend leaves when its last session ended; one log line says so. */
    private void awaitRetired(Backend b) {
        try {
            while (b.activeSessions() > 0) {
                Thread.sleep(250);
            }
            context.log().info("backend-removed").with("backend", b.name()).with("address", HostPort.text(b.address())).log();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            retiring.remove(b);
        }
    }

    /**
     * Graceful stop (SIGTERM): stop accepting and checking, let the sessions in progress finish for
     * up to {@code grace}, then tell the rest 421 and close them.
     */
    public void stop(Duration grace) {
        acceptor.stop();
        if (implicitAcceptor != null) {
            implicitAcceptor.stop();
        }
        try {
            listener.close();
            if (implicitListener != null) {
                implicitListener.close();
            }
        } catch (IOException ignored) {
            // closing
        }
        checker.close();
        long until = System.nanoTime() + grace.toNanos();
        int left = context.admission().active() + context.admission().queued();
        if (left > 0 && !grace.isZero()) {
            context.log().info("stopping").with("sessions", left).with("grace_ms", grace.toMillis()).log();
        }
        while (context.admission().active() + context.admission().queued() > 0 && System.nanoTime() - until < 0) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<ClientSession> remaining = List.copyOf(context.live());
        if (!remaining.isEmpty()) {
            context.log().info("stop-closing").with("sessions", remaining.size()).log();
        }
        remaining.forEach(ClientSession::terminate);
        long closeBy = System.nanoTime() + 2_000_000_000L;
        while (!context.live().isEmpty() && System.nanoTime() - closeBy < 0) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        context.idleParker().close();
        context.dataPorts().close();
        if (passthrough != null) {
            passthrough.close();
        }
        context.watchdog().close();
        closeShared();
        context.log().info("stopped").log();
    }

    private void closeShared() {
        if (sharedBans != null) {
            sharedBans.close();
        }
        if (database != null) {
            database.close();
        }
    }

    /** The shared database ({@code database:}), or null. */
    public Database database() {
        return database;
    }
}
