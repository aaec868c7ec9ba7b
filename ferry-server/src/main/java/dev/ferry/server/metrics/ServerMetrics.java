package dev.ferry.server.metrics;

import dev.ferry.runtime.limits.BanList;
import dev.ferry.runtime.metrics.MetricsEndpoint;
import dev.ferry.runtime.metrics.TransferBuckets;
import dev.ferry.server.data.PassivePorts;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.IntSupplier;

/**
 * The Prometheus metrics of one {@code ferry server}: its own registry (never the library's global
 * one, so two servers in one JVM, as in the tests, keep apart) and every metric in it. Each metric
 * is listed in docs/metrics.md; keep the two in step.
 *
 * <p>Design: what the server already keeps (open sessions, active bans, passive ports in use) is
 * read by callbacks when Prometheus scrapes, so it can never drift from the truth; what happens
 * (a session ends, a login fails, a transfer ends) is counted at one call site each in the session
 * code, through the methods below. Label values come from closed sets (enums, or the fixed
 * strings below, anything else counted as "other"), so no client can grow the number of series.
 */
public final class ServerMetrics {

    /** What a data transfer did; the label value is the lower-case name. */
    public enum Direction { UPLOAD, DOWNLOAD, LIST }

    /** Why a connection was turned away before its greeting; the label value is the name in lower case, with hyphens. */
    public enum Refusal { MAX_SESSIONS, MAX_PER_ADDRESS, BANNED, PROXY_PROTOCOL }

    /** How a greeted session can end (the {@code reason} of its disconnect log line). */
    static final Set<String> ENDINGS = Set.of("quit", "client-closed", "idle-timeout", "login-timeout", "server-stop",
            "error", "bug");
    /** How a transfer can end (the {@code result} of its transfer log line). */
    static final Set<String> RESULTS = Set.of("ok", "failed", "aborted", "no-data-connection", "local-error", "timeout",
            "connection-lost", "control-closed");
    static final String OTHER = "other";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final MetricsEndpoint endpoint = new MetricsEndpoint(registry);

    private final Counter sessions;
    private final Counter refused;
    private final Counter logins;
    private final Counter bans;
    private final Counter transfers;
    private final Gauge transfersActive;
    private final Counter bytesReceived;
    private final Counter bytesSent;
    private final Histogram transferSeconds;
    private final Counter eventDeliveries;
    private final Counter eventsDropped;

    /**
     * @param openSessions sessions admitted and not yet ended (read at scrape time)
     * @param maxSessions  the session limit
     * @param banList      whose active bans are counted at scrape time
     * @param passivePorts the passive range, whose ports in use are counted at scrape time
     */
    public ServerMetrics(IntSupplier openSessions, int maxSessions, BanList banList, PassivePorts passivePorts) {
        gauge("ferry_server_sessions_open", "Control connections admitted and not yet ended.", openSessions);
        gauge("ferry_server_sessions_max", "The session limit (limits.max-sessions).", () -> maxSessions);
        sessions = counter("ferry_server_sessions_total",
                "Sessions that were greeted and have ended, by how they ended (quit, client-closed, idle-timeout, "
                        + "login-timeout, server-stop, error, bug).", "ending");
        refused = counter("ferry_server_sessions_refused_total",
                "Connections turned away before the greeting, by reason (max-sessions, max-per-address, banned, "
                        + "proxy-protocol).", "reason");
        logins = counter("ferry_server_logins_total", "Logins (PASS), by result (ok, failed).", "result");
        bans = counter("ferry_server_bans_total", "Address bans started after repeated failed logins.");
        gauge("ferry_server_bans_active", "Client addresses (IPv6: /64 prefixes) banned right now.", banList::bannedCount);
        transfers = counter("ferry_server_transfers_total",
                "Data transfers that have ended, by direction (upload, download, list) and result (ok, aborted, "
                        + "timeout, connection-lost, control-closed, no-data-connection, local-error, failed).",
                "direction", "result");
        transfersActive = Gauge.builder().name("ferry_server_transfers_active")
                .help("Data transfers in progress.").withoutExemplars().register(registry);
        bytesReceived = counter("ferry_server_received_bytes_total",
                "Bytes received on data connections (uploads), counted when each transfer ends.");
        bytesSent = counter("ferry_server_sent_bytes_total",
                "Bytes sent on data connections (downloads and listings), counted when each transfer ends.");
        transferSeconds = Histogram.builder().name("ferry_server_transfer_duration_seconds")
                .help("Duration of successful data transfers, from the command to the last byte, by direction.")
                .labelNames("direction").classicOnly().classicUpperBounds(TransferBuckets.seconds()).withoutExemplars()
                .register(registry);
        gauge("ferry_server_passive_ports_in_use", "Passive listeners open, waiting for or carrying a data connection.",
                passivePorts::inUse);
        gauge("ferry_server_passive_ports", "Ports in the passive range (passive.ports); 0 when the kernel picks any free port.",
                passivePorts::size);

        eventDeliveries = counter("ferry_server_event_deliveries_total",
                "Upload, delete and rename events handed to a hook, by action (webhook, command) and result (delivered, "
                        + "failed: every attempt failed).", "action", "result");
        eventsDropped = counter("ferry_server_events_dropped_total",
                "Events dropped unsent: the hook queue was full, or the server stopped before they were delivered.");
        // Series that exist from the start, so that rate() and alerts see a 0 before the first event.
        for (String ending : ENDINGS) {
            sessions.labelValues(ending);
        }
        for (Refusal r : Refusal.values()) {
            refused.labelValues(label(r));
        }
        logins.labelValues("ok");
        logins.labelValues("failed");
        for (String action : List.of("webhook", "command")) {
            eventDeliveries.labelValues(action, "delivered");
            eventDeliveries.labelValues(action, "failed");
        }
        for (Direction d : Direction.values()) {
            transfers.labelValues(label(d), "ok");
            transferSeconds.labelValues(label(d));
        }
    }

    // ---- events, one call site each ---------------------------------------------------------

    /** A greeted session ended; {@code ending} is the reason of its disconnect line. */
    public void sessionEnded(String ending) {
        sessions.labelValues(ENDINGS.contains(ending) ? ending : OTHER).inc();
    }

    public void sessionRefused(Refusal reason) {
        refused.labelValues(label(reason)).inc();
    }

    public void loginSucceeded() {
        logins.labelValues("ok").inc();
    }

    /** A failed login; {@code banStarted}: this failure got its address banned. */
    public void loginFailed(boolean banStarted) {
        logins.labelValues("failed").inc();
        if (banStarted) {
            bans.inc();
        }
    }

    /** A transfer starts; {@link #transferEnded} follows exactly once. */
    public void transferStarted() {
        transfersActive.inc();
    }

    /**
     * A transfer ended after {@code nanos}, having moved {@code bytes} (also when it failed: those
     * bytes crossed the network). Only successful transfers go into the duration histogram, so a
     * client that never connects (the accept timeout) does not pass for a slow transfer.
     */
    public void transferEnded(Direction direction, String result, long bytes, long nanos) {
        // Bytes first: a scrape that already counts this transfer then counts its bytes too (a scrape reads the
        // series one after another while a transfer may be ending).
        if (direction == Direction.UPLOAD) {
            bytesReceived.inc(bytes);
        } else {
            bytesSent.inc(bytes);
        }
        transfersActive.dec();
        String known = RESULTS.contains(result) ? result : OTHER;
        transfers.labelValues(label(direction), known).inc();
        if (known.equals("ok")) {
            transferSeconds.labelValues(label(direction)).observe(nanos / 1e9);
        }
    }

    /** An event hook's outcome; {@code action} is webhook or command (a closed set: the hooks' names). */
    public void eventDelivered(String action, boolean delivered) {
        eventDeliveries.labelValues(action, delivered ? "delivered" : "failed").inc();
    }

    public void eventDropped() {
        eventsDropped.inc();
    }

    // ---- exposition -------------------------------------------------------------------------

    /** GET /metrics in the Prometheus text format, for an HTTP listener. */
    public MetricsEndpoint handler() {
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

    private Counter counter(String name, String help, String... labels) {
        return Counter.builder().name(name).help(help).labelNames(labels).withoutExemplars().register(registry);
    }

    private void gauge(String name, String help, IntSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsInt())).register(registry);
    }

    static String label(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
