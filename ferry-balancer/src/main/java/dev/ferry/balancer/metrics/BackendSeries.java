package dev.ferry.balancer.metrics;

import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckState;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The per-backend series of {@link BalancerMetrics}, each read at scrape time from the {@link Backend}'s own
 * counters and states, labelled by the configured backend name.
 */
final class BackendSeries {

    private final PrometheusRegistry registry;
    private final Supplier<List<Backend>> all;

    private BackendSeries(PrometheusRegistry registry, Supplier<List<Backend>> all) {
        this.registry = registry;
        this.all = all;
    }

    /** {@code all}: the backends in service, asked at every scrape (a reload may change them). */
    static void register(PrometheusRegistry registry, Supplier<List<Backend>> all) {
        new BackendSeries(registry, all).register();
    }

    private void register() {
        gauge("ferry_balancer_backend_sessions_open", "Sessions on this backend now.", Backend::activeSessions);
        counter("ferry_balancer_backend_sessions_total", "Sessions sent to this backend.", Backend::totalSessions);
        gauge("ferry_balancer_backend_up", "1 when the checks say the backend is up, 0 when down.",
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
        gauge("ferry_balancer_backend_weight", "The backend's weight.", Backend::weight);
        counter("ferry_balancer_backend_connect_failures_total",
                "Connects or greetings to this backend that failed while opening a session.", Backend::errors);
        counter("ferry_balancer_backend_retries_total",
                "Sessions sent to this backend after another backend failed them (redispatches).", Backend::retries);
        counter("ferry_balancer_backend_transfers_total",
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
    }

    private void gauge(String name, String help, ToDoubleFunction<Backend> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("backend")
                .callback(cb -> all.get().forEach(b -> cb.call(value.applyAsDouble(b), b.name()))).register(registry);
    }

    private void counter(String name, String help, ToDoubleFunction<Backend> value) {
        CounterWithCallback.builder().name(name).help(help).labelNames("backend")
                .callback(cb -> all.get().forEach(b -> cb.call(value.applyAsDouble(b), b.name()))).register(registry);
    }
}
