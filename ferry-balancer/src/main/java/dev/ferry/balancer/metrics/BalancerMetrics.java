package dev.ferry.balancer.metrics;

import com.sun.net.httpserver.HttpHandler;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.runtime.metrics.MetricsEndpoint;
import dev.ferry.runtime.metrics.TransferBuckets;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The Prometheus metrics of one {@code ferry balancer}, in a registry of its own. Each metric is
 * listed in docs/metrics.md; keep the two in step.
 *
 * <p>Design: almost everything is read at scrape time from the counters the balancer keeps anyway
 * (each {@link Backend}'s sessions, errors, retries, transfers and bytes, the admission's
 * outcomes ({@link AdmissionStats}), {@link DataPorts}' pending routes), so the stats page and the metrics can never
 * disagree and the session code needs no hook for them. Three things exist only here, each fed
 * from one call site: check results with their durations ({@link #checkDone}, from the health
 * checker), transfer durations ({@link #transferDone}, from the session's relay) and sessions ended
 * by a timeout ({@link #timedOut}, from the session's timeout; the stats page reads them back). The check
 * hook also feeds {@link BackendTally} (failed checks, down transitions, downtime, peaks: HAProxy's stats CSV). The
 * {@code backend} label takes the configured backend names, a set the operator bounds.
 *
 * <p>The read-at-scrape series are registered by {@link FrontendSeries} (admission, limits, passive ports,
 * relay) and {@link BackendSeries} (each backend's counters and states), each given only what it reads;
 * this class keeps the registry and the series it feeds itself.
 *
 * <p>This class serves no HTTP itself: the balancer's admin listener mounts {@link #handler()}.
 */
public final class BalancerMetrics {

    /** A timeout that ended a proxied session (each told 421, and logged as {@code event=timeout kind=...}). */
    public enum Timeout {
        /** Not logged in within the login timeout. */
        LOGIN,
        /** The client said nothing for the client idle timeout. */
        CLIENT_IDLE;

        /** The label value and the log's {@code kind=}: login, client-idle. */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** Seconds: a check over a LAN takes about a millisecond; the check timeout is seconds. */
    private static final double[] CHECK_SECONDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final MetricsEndpoint endpoint = new MetricsEndpoint(registry);

    private final Counter checks;
    private final Histogram checkSeconds;
    private final Counter transfers;
    private final Counter bytes;
    private final Histogram transferSeconds;
    private final LongAdder[] timeouts = new LongAdder[Timeout.values().length];
    private final BackendTally tally = new BackendTally();

    /**
     * @param all         the backends in service, asked at every scrape (a reload may change them)
     * @param admission   sessions admitted, queued and refused, read at scrape time
     * @param dataPorts   the passive range, read at scrape time
     * @param maxSessions the session limit (max-sessions)
     * @param perAddress  the per-address limit in force, asked at every scrape (a reload may change it)
     */
    public BalancerMetrics(Supplier<List<Backend>> all, AdmissionStats admission, DataPorts dataPorts, int maxSessions,
                           IntSupplier perAddress) {
        for (int i = 0; i < timeouts.length; i++) {
            timeouts[i] = new LongAdder();
        }

        FrontendSeries.register(registry, admission, dataPorts, maxSessions, perAddress, this::timeouts);
        BackendSeries.register(registry, all);

        // Fed by hooks: the only series whose numbers live here.
        checks = Counter.builder().name("ferry_balancer_backend_checks_total")
                .help("Health checks of this backend, by result (ok, failed).")
                .labelNames("backend", "result").withoutExemplars().register(registry);
        checkSeconds = Histogram.builder().name("ferry_balancer_check_duration_seconds")
                .help("Duration of health checks, by backend (failed ones included: a timeout shows here).")
                .labelNames("backend").classicOnly().classicUpperBounds(CHECK_SECONDS).withoutExemplars()
                .register(registry);
        transfers = Counter.builder().name("ferry_balancer_transfers_total")
                .help("Data connections relayed, counted when each ends.").withoutExemplars().register(registry);
        bytes = Counter.builder().name("ferry_balancer_bytes_total")
                .help("Data bytes relayed, by direction (up: client to backend, down: backend to client), counted when "
                        + "each transfer ends.")
                .labelNames("direction").withoutExemplars().register(registry);
        transferSeconds = Histogram.builder().name("ferry_balancer_transfer_duration_seconds")
                .help("Duration of relayed data connections, from both ends connected to the last byte either way.")
                .classicOnly().classicUpperBounds(TransferBuckets.seconds()).withoutExemplars()
                .register(registry);

        // Series that exist from the start, so that rate() and alerts see a 0 before the first event.
        for (Backend b : all.get()) {
            checks.labelValues(b.name(), "ok");
            checks.labelValues(b.name(), "failed");
            checkSeconds.labelValues(b.name());
        }
        bytes.labelValues("up");
        bytes.labelValues("down");
    }

    /**
     * The bans gauge, read at scrape time from {@code banned} (the ban list is made after the metrics, with the
     * balancer's context). Called once.
     */
    public void bansActive(IntSupplier banned) {
        GaugeWithCallback.builder().name("ferry_balancer_bans_active")
                .help("Client addresses (IPv6: /64 prefixes) banned right now, after failed logins or by hand.")
                .callback(cb -> cb.call(banned.getAsInt())).register(registry);
    }

    /** One health check finished (the health checker's only call). */
    public void checkDone(Backend backend, CheckResult result) {
        checks.labelValues(backend.name(), result.ok() ? "ok" : "failed").inc();
        checkSeconds.labelValues(backend.name()).observe(result.latency().toNanos() / 1e9);
        tally.checkDone(backend, result);
    }

    /** Failed checks, down transitions, downtime and peak sessions per backend (the stats CSV's). */
    public BackendTally tally() {
        return tally;
    }

    /** One relayed data connection ended after {@code nanos}, having moved {@code up} and {@code down} bytes. */
    public void transferDone(long up, long down, long nanos) {
        transfers.inc();
        bytes.labelValues("up").inc(up);
        bytes.labelValues("down").inc(down);
        transferSeconds.observe(nanos / 1e9);
    }

    /** A session was closed by {@code kind} of timeout (the session's timeout handler's only call). */
    public void timedOut(Timeout kind) {
        timeouts[kind.ordinal()].increment();
    }

    /** Sessions closed by {@code kind} of timeout since the start. */
    public long timeouts(Timeout kind) {
        return timeouts[kind.ordinal()].sum();
    }

    /** GET /metrics in the Prometheus text format, to be mounted by an HTTP listener at the path it serves. */
    public HttpHandler handler() {
        return endpoint;
    }

    public void writeTo(OutputStream out) throws IOException {
        endpoint.writeTo(out);
    }

    /** The current text format, for tests and diagnostics. */
    public String text() {
        return endpoint.text();
    }
}
