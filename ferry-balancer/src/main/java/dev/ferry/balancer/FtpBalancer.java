package dev.ferry.balancer;

import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.check.HealthChecker;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.balancer.frontend.ProxySession;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.balancer.policy.BalancePolicy;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.data.BufferPool;
import dev.ferry.server.net.Acceptor;
import dev.ferry.server.net.IdleParker;
import dev.ferry.server.net.PassiveAddressing;
import dev.ferry.server.net.Watchdog;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import dev.ferry.balancer.frontend.Admission;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ferry balancer}: the client-facing listener, its backends and their checks. The same
 * {@link Acceptor} as the server: a permit per connection (max sessions plus a margin for 421
 * refusals), one virtual thread per client session.
 */
public final class FtpBalancer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.balancer");
    private static final int BACKLOG = 4096;
    private static final int REFUSAL_MARGIN = 64;
    private static final int RELAY_BUFFER = 256 * 1024;

    private final BalancerSettings settings;
    private final ServerSocketChannel listener;
    private final BalancerContext context;
    private final HealthChecker checker;
    private final Acceptor acceptor;
    private final Instant startedAt = Instant.now();

    private FtpBalancer(BalancerSettings settings) throws IOException {
        if (settings.backends().isEmpty()) {
            throw new IOException("no backends configured (--backend NAME=HOST:PORT)");
        }
        this.settings = settings;
        List<Backend> backends = settings.backends().stream()
                .map(spec -> new Backend(spec, settings.check().rise(), settings.check().fall()))
                .toList();
        this.listener = ServerSocketChannel.open();
        try {
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(settings.listen(), BACKLOG);
        } catch (IOException e) {
            listener.close();
            throw new IOException("cannot listen on " + settings.listen() + ": " + e.getMessage(), e);
        }
        Watchdog watchdog = new Watchdog("ferry-balancer-watchdog");
        ServerSettings.Passive addressing = new ServerSettings.Passive(settings.passiveLow(), settings.passiveHigh(),
                settings.publicAddress(), settings.networkAddresses(), settings.timeouts().data());
        DataPorts dataPorts = new DataPorts(((InetSocketAddress) listener.getLocalAddress()).getAddress(), settings.passiveLow(), settings.passiveHigh());
        Admission admission = new Admission(settings.maxSessions(), settings.queue().size(), settings.queue().timeout());
        BalancerMetrics metrics = new BalancerMetrics(backends, admission, dataPorts, settings.maxSessions());
        this.context = new BalancerContext(settings, backends, BalancePolicy.of(settings.balance()), watchdog,
                dataPorts,
                new PassiveAddressing(addressing), new BufferPool(RELAY_BUFFER, 64),
                admission, new AtomicLong(), java.util.concurrent.ConcurrentHashMap.newKeySet(),
                new IdleParker("ferry-balancer-idle-parker"), metrics);
        this.checker = new HealthChecker(backends, settings.check(), settings.proxyProtocol(), metrics::checkDone);
        this.acceptor = new Acceptor("ferry-balancer-acceptor", listener, context.admission().capacity() + REFUSAL_MARGIN,
                (channel, release) -> {
                    ProxySession session = new ProxySession(context, channel);
                    Thread.ofVirtual().start(() -> {
                        try {
                            session.run();
                        } finally {
                            release.run();
                        }
                    });
                });
    }

    public static FtpBalancer start(BalancerSettings settings) throws IOException {
        FtpBalancer b = new FtpBalancer(settings);
        b.checker.start();
        b.acceptor.start();
        LOG.info("event=listening address={} backends={} balance={} check={} passive_ports={} relay={}",
                HostPort.text(b.address()), settings.backends().size(), settings.balance().name().toLowerCase(java.util.Locale.ROOT),
                settings.check().type().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'),
                settings.passiveLow() == 0 ? "any" : settings.passiveLow() + "-" + settings.passiveHigh(),
                dev.ferry.balancer.data.Relay.mode());
        return b;
    }

    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) listener.getLocalAddress();
        } catch (IOException e) {
            return settings.listen();
        }
    }

    public int port() {
        return address().getPort();
    }

    /** Sessions admitted and clients queued for a slot. */
    public Admission admission() {
        return context.admission();
    }

    public List<Backend> backends() {
        return context.backends();
    }

    /** The Prometheus metrics; {@link BalancerMetrics#handler()} serves them over HTTP. */
    public BalancerMetrics metrics() {
        return context.metrics();
    }

    // ---- for the admin page and API (dev.ferry.balancer.admin) ----------------------------------

    public BalancerSettings settings() {
        return settings;
    }

    public Instant startedAt() {
        return startedAt;
    }

    /** Client connections in progress (queued, before login and relaying): a live, read-only view. */
    public Collection<ProxySession> sessions() {
        return Collections.unmodifiableSet(context.live());
    }

    /** Client connections accepted since start, refused ones included (HAProxy's frontend stot). */
    public long sessionsAccepted() {
        return context.sessionIds().get();
    }

    /** The balancer's passive ports with a data connection awaited now. */
    public int passivePortsInUse() {
        return context.dataPorts().portsInUse();
    }

    /** Stops at once: sessions in progress are told 421 and closed. */
    @Override
    public void close() {
        stop(Duration.ZERO);
    }

    /**
     * Graceful stop (SIGTERM): stop accepting and checking, let the sessions in progress finish for
     * up to {@code grace}, then tell the rest 421 and close them.
     */
    public void stop(Duration grace) {
        acceptor.stop();
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing
        }
        checker.close();
        long until = System.nanoTime() + grace.toNanos();
        int left = context.admission().active() + context.admission().queued();
        if (left > 0 && !grace.isZero()) {
            LOG.info("event=stopping sessions={} grace_ms={}", left, grace.toMillis());
        }
        while (context.admission().active() + context.admission().queued() > 0 && System.nanoTime() - until < 0) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<ProxySession> remaining = List.copyOf(context.live());
        if (!remaining.isEmpty()) {
            LOG.info("event=stop-closing sessions={}", remaining.size());
        }
        remaining.forEach(ProxySession::terminate);
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
        context.watchdog().close();
        LOG.info("event=stopped");
    }
}
