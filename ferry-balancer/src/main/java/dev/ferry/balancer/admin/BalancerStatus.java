package dev.ferry.balancer.admin;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.frontend.Admission;
import dev.ferry.balancer.frontend.BalancerContext;
import dev.ferry.balancer.frontend.ClientSession;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.balancer.tls.BalancerTls;
import dev.ferry.database.Database;
import dev.ferry.runtime.limits.BanList;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * What the admin page and API, the metrics endpoint and the start banner read of a running balancer:
 * live, read-only views over the state its sessions share. {@link dev.ferry.balancer.FtpBalancer} builds
 * one at start and keeps to wiring, start, reload and stop; this class changes nothing it reads.
 */
public final class BalancerStatus {

    /**
     * Where clients' data connections go, as the page names them: the balancer's own passive range, or in
     * TLS passthrough the backends' ranges (which a reload can change, hence suppliers).
     */
    public record PassivePorts(Supplier<String> text, IntSupplier count) {

        public PassivePorts {
            Objects.requireNonNull(text, "text");
            Objects.requireNonNull(count, "count");
        }

        /** The balancer's own range, both ends included; {@code low} 0 means "any port" (counted 0). */
        public static PassivePorts range(int low, int high) {
            String text = low == 0 ? "any" : low + "-" + high;
            int count = low == 0 ? 0 : high - low + 1;
            return new PassivePorts(() -> text, () -> count);
        }
    }

    private final BalancerContext context;
    private final InetSocketAddress address;
    private final Instant startedAt;
    private final Set<Backend> retiring;
    private final PassivePorts passivePorts;
    private final Database database;

    /**
     * @param address  the client-facing listener's address
     * @param retiring backends a reload removed whose sessions have not all ended (the balancer's live set)
     */
    public BalancerStatus(BalancerContext context, InetSocketAddress address, Instant startedAt, Set<Backend> retiring,
                          PassivePorts passivePorts) {
        this(context, address, startedAt, retiring, passivePorts, null);
    }

    /** @param database the fleet's PostgreSQL ({@code balancer.database}) whose accounts the admin API manages; null: none */
    public BalancerStatus(BalancerContext context, InetSocketAddress address, Instant startedAt, Set<Backend> retiring,
                          PassivePorts passivePorts, Database database) {
        this.database = database;
        this.context = Objects.requireNonNull(context, "context");
        this.address = Objects.requireNonNull(address, "address");
        this.startedAt = Objects.requireNonNull(startedAt, "startedAt");
        this.retiring = Objects.requireNonNull(retiring, "retiring");
        this.passivePorts = Objects.requireNonNull(passivePorts, "passivePorts");
    }

    /** The shared database ({@code balancer.database}), or null. */
    public Database database() {
        return database;
    }

    /** The client-facing listener's address. */
    public InetSocketAddress address() {
        return address;
    }

    public Instant startedAt() {
        return startedAt;
    }

    /** The settings in force (the last reload's). */
    public BalancerSettings settings() {
        return context.settings();
    }

    /** TLS termination (certificate, fingerprint), or null when the balancer does not terminate TLS. */
    public BalancerTls tls() {
        return context.tls();
    }

    /** The Prometheus metrics; {@link BalancerMetrics#handler()} serves them over HTTP. */
    /** Bans per client address: listed, made and lifted through the admin API. */
    public BanList bans() {
        return context.bans();
    }

    /** Logged-in sessions per user through this balancer. */
    public Map<String, Integer> userSessions() {
        return context.sessions().counts();
    }

    public BalancerMetrics metrics() {
        return context.metrics();
    }

    /** Sessions admitted and clients queued for a slot. */
    public Admission admission() {
        return context.admission();
    }

    /** The backends in service (the last reload's list). */
    public List<Backend> backends() {
        return context.backends();
    }

    /** Backends removed by a reload that still have sessions (they take no new ones). */
    public List<Backend> retiringBackends() {
        return List.copyOf(retiring);
    }

    /** Client connections in progress (queued, before login and relaying): a live, read-only view. */
    public Collection<ClientSession> sessions() {
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

    /**
     * Where clients' data connections go: the balancer's own passive range ("any" when none is set), or in
     * passthrough the backends' ranges, each relayed to its backend ("ftp1:40000-40049,ftp2:...").
     */
    public String passivePortsText() {
        return passivePorts.text().get();
    }

    /** How many passive ports {@link #passivePortsText()} names (0 for "any"). */
    public int passivePortCount() {
        return passivePorts.count().getAsInt();
    }
}
