package dev.ferry.balancer.metrics;

import dev.ferry.balancer.data.DataPorts;
import dev.ferry.balancer.data.Relay;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.IntSupplier;
import java.util.function.ToLongFunction;

/**
 * The frontend's series of {@link BalancerMetrics}: admission and its limits, the sessions timeouts ended,
 * the passive ports and how the relay works. All are read at scrape time from what the balancer keeps anyway.
 */
final class FrontendSeries {

    private final PrometheusRegistry registry;

    private FrontendSeries(PrometheusRegistry registry) {
        this.registry = registry;
    }

    /**
     * @param timeouts sessions ended by each kind of timeout (the one counter of these that only the metrics keep)
     */
    static void register(PrometheusRegistry registry, AdmissionStats admission, DataPorts dataPorts, int maxSessions,
                         IntSupplier perAddress, ToLongFunction<BalancerMetrics.Timeout> timeouts) {
        new FrontendSeries(registry).register(admission, dataPorts, maxSessions, perAddress, timeouts);
    }

    private void register(AdmissionStats admission, DataPorts dataPorts, int maxSessions, IntSupplier perAddress,
                          ToLongFunction<BalancerMetrics.Timeout> timeouts) {
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
                    for (BalancerMetrics.Timeout t : BalancerMetrics.Timeout.values()) {
                        cb.call(timeouts.applyAsLong(t), t.label());
                    }
                }).register(registry);
        gauge("ferry_balancer_passive_ports_in_use",
                "Passive ports with a data connection announced to a client and not yet arrived.", dataPorts::portsInUse);
        gauge("ferry_balancer_passive_ports",
                "Ports in the passive range (passive.ports); 0 when the kernel picks any free port.", dataPorts::size);
        GaugeWithCallback.builder().name("ferry_balancer_relay_info")
                .help("How bulk transfers are relayed in this process: mode splice (in the kernel) or copy.")
                .labelNames("mode").callback(cb -> cb.call(1, Relay.mode())).register(registry);
        CounterWithCallback.builder().name("ferry_balancer_relay_spliced_directions_total")
                .help("Transfer directions handed to the kernel (splice) after their first MiB.")
                .callback(cb -> cb.call(Relay.splicedDirections())).register(registry);
    }

    private void gauge(String name, String help, IntSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsInt())).register(registry);
    }
}
