package dev.ferry.balancer.metrics;

import com.sun.net.httpserver.HttpHandler;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import dev.ferry.balancer.backend.CheckState;
import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.data.Relay;
import dev.ferry.runtime.metrics.MetricsEndpoint;
import dev.ferry.runtime.metrics.TransferBuckets;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
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
import java.util.function.ToDoubleFunction;

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
 * by a timeout ({@link #timedOut}, from the session's timeout; the stats page reads them back). The
 * {@code backend} label takes the configured backend names, a set the operator bounds.
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

        // ---- the frontend
        gauge("ferry_balancer_sessions_open", "Client sessions admitted and not yet ended.", admission::active);
        gauge("ferry_balancer_sessions_max", "The session limit (max-sessions).", () -> maxSessions);
        gauge("ferry_balancer_sessions_per_address_max", "The limit of connections from one client address, sessions and "
                + "queued clients together (max-sessions-per-address).", perAddress);
        gauge("ferry_balancer_sessions_queued", "Clients waiting in the queue for a session slot.", admission::queued);
        CounterWithCallback.builder().name("ferry_balancer_sessions_total").help("Client sessions admitted.")
                .callback(cb -> cb.call(admission.admitted())).register(registry);
        CounterWithCallback.builder().name("ferry_balancer_sessions_refused_total")
                .help("Clients told 421 before the greeting, by reason: max-sessions (the queue was full), queue-timeout "
                        + "(no slot within queue.timeout), max-per-address (their address held max-sessions-per-address "
                        + "connections; never queued).")
                .labelNames("reason")
                .callback(cb -> {
                    cb.call(admission.refusedQueueFull(), "max-sessions");
                    cb.call(admission.refusedQueueTimeout(), "queue-timeout");
                    cb.call(admission.refusedPerAddress(), "max-per-address");
                }).register(registry);
        CounterWithCallback.builder().name("ferry_balancer_session_timeouts_total")
                .help("Sessions the balancer closed with 421 on a timeout, by kind: login (not logged in within "
                        + "timeouts.login of the greeting), client-idle (no command within timeouts.client-idle).")
                .labelNames("kind")
                .callback(cb -> {
                    for (Timeout t : Timeout.values()) {
                        cb.call(timeouts(t), t.label());
                    }
                }).register(registry);
        gauge("ferry_balancer_passive_ports_in_use",
                "Passive ports with a data connection announced to a client and not yet arrived.", dataPorts::portsInUse);
        gauge("ferry_balancer_passive_ports", "Ports in the passive range (passive.ports); 0 when the kernel picks any "
                + "free port.", dataPorts::size);
        GaugeWithCallback.builder().name("ferry_balancer_relay_info")
                .help("How bulk transfers are relayed in this process: mode splice (in the kernel) or copy.")
                .labelNames("mode").callback(cb -> cb.call(1, Relay.mode())).register(registry);
        CounterWithCallback.builder().name("ferry_balancer_relay_spliced_directions_total")
                .help("Transfer directions handed to the kernel (splice) after their first MiB.")
                .callback(cb -> cb.call(Relay.splicedDirections())).register(registry);

        // ---- per backend, from its own counters
        perBackendGauge(all, "ferry_balancer_backend_sessions_open", "Sessions on this backend now.", Backend::activeSessions);
        perBackendCounter(all, "ferry_balancer_backend_sessions_total", "Sessions sent to this backend.",
                Backend::totalSessions);
        perBackendGauge(all, "ferry_balancer_backend_up", "1 when the checks say the backend is up, 0 when down.",
                b -> b.checkState() == CheckState.UP ? 1 : 0);
        GaugeWithCallback.builder().name("ferry_balancer_backend_admin_state")
                .help("The state the operator set: 1 for the backend's current state (ready, drain, maint), 0 for the others.")
                .labelNames("backend", "state")
                .callback(cb -> {
                    for (Backend b : all.get()) {
                        for (AdminState s : AdminState.values()) {
                            cb.call(b.adminState() == s ? 1 : 0, b.name(), s.name().toLowerCase(Locale.ROOT));
                        }
                    }
                }).register(registry);
        perBackendGauge(all, "ferry_balancer_backend_weight", "The backend's weight.", Backend::weight);
        perBackendCounter(all, "ferry_balancer_backend_connect_failures_total",
                "Connects or greetings to this backend that failed while opening a session.", Backend::errors);
        perBackendCounter(all, "ferry_balancer_backend_retries_total",
                "Sessions sent to this backend after another backend failed them (redispatches).", Backend::retries);
        perBackendCounter(all, "ferry_balancer_backend_transfers_total",
                "Data connections relayed to or from this backend, counted when each ends.", Backend::transfers);
        CounterWithCallback.builder().name("ferry_balancer_backend_bytes_total")
                .help("Data bytes relayed for this backend, by direction (up: client to backend, down: backend to client), "
                        + "counted when each transfer ends.")
                .labelNames("backend", "direction")
                .callback(cb -> {
                    for (Backend b : all.get()) {
                        cb.call(b.bytesUp(), b.name(), "up");
                        cb.call(b.bytesDown(), b.name(), "down");
                    }
                }).register(registry);

        // ---- fed by hooks
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

    /** One health check finished (the health checker's only call). */
    public void checkDone(Backend backend, CheckResult result) {
        checks.labelValues(backend.name(), result.ok() ? "ok" : "failed").inc();
        checkSeconds.labelValues(backend.name()).observe(result.latency().toNanos() / 1e9);
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

    // ---- helpers ----------------------------------------------------------------------------

    private void gauge(String name, String help, IntSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsInt())).register(registry);
    }

    private void perBackendGauge(Supplier<List<Backend>> all, String name, String help, ToDoubleFunction<Backend> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("backend")
                .callback(cb -> all.get().forEach(b -> cb.call(value.applyAsDouble(b), b.name()))).register(registry);
    }

    private void perBackendCounter(Supplier<List<Backend>> all, String name, String help, ToDoubleFunction<Backend> value) {
        CounterWithCallback.builder().name(name).help(help).labelNames("backend")
                .callback(cb -> all.get().forEach(b -> cb.call(value.applyAsDouble(b), b.name()))).register(registry);
    }
}
