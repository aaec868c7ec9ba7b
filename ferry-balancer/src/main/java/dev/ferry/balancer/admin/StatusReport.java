package dev.ferry.balancer.admin;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import dev.ferry.balancer.backend.CheckState;
import dev.ferry.balancer.data.Relay;
import dev.ferry.balancer.frontend.Admission;
import dev.ferry.balancer.frontend.ClientSession;
import dev.ferry.balancer.metrics.BackendTally;
import dev.ferry.balancer.metrics.BalancerMetrics;
import dev.ferry.balancer.metrics.TrafficHistory;
import dev.ferry.protocol.Printable;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.protocol.command.Verb;
import dev.ferry.runtime.Version;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code GET /api/status} answers and the page shows: the balancer, its backends, its live
 * sessions, as JSON-ready maps (keys in display order; docs/admin-api.md lists them).
 *
 * <p>Traffic counters: a backend keeps the bytes and transfers of its ended sessions; the
 * sessions in progress are added here, so the numbers move while a long transfer runs. Every
 * client-supplied text (user names) is passed through {@link Printable}.
 */
final class StatusReport {

    /** Live sessions listed at most; the rest are counted in {@code sessions_omitted}. */
    static final int MAX_LISTED_SESSIONS = 1000;
    private static final int MAX_USER_CHARS = 64;

    private StatusReport() {}

    static Map<String, Object> of(BalancerStatus balancer, double sessionRate, Instant now) {
        List<ClientSession> sessions = new ArrayList<>(balancer.sessions());
        sessions.sort(Comparator.comparing(ClientSession::startedAt).thenComparing(ClientSession::id));
        Map<Backend, Traffic> live = liveTraffic(sessions);

        List<Object> backends = new ArrayList<>();
        long bytesIn = 0;
        long bytesOut = 0;
        BackendTally tally = balancer.metrics().tally();
        for (Backend b : balancer.backends()) {
            Traffic t = live.getOrDefault(b, Traffic.NONE);
            backends.add(backend(b, t, tally.figures(b, now), now));
            bytesIn += b.bytesUp() + t.up;
            bytesOut += b.bytesDown() + t.down;
        }

        BalancerSettings s = balancer.settings();
        Map<String, Object> summary = new LinkedHashMap<>();
        // HAProxy's "show info" has both (node, version); the CSV has no column for them.
        summary.put("node", s.node());
        summary.put("version", Version.text());
        summary.put("listen", HostPort.text(balancer.address()));
        summary.put("started_at", balancer.startedAt().toString());
        summary.put("uptime_seconds", seconds(balancer.startedAt(), now));
        summary.put("balance", spelling(s.balance()));
        summary.put("relay_mode", Relay.mode());
        summary.put("sessions_now", balancer.admission().active());
        summary.put("sessions_max", s.maxSessions());
        summary.put("sessions_peak", Math.max(tally.frontendPeak(), balancer.admission().active()));
        summary.put("sessions_per_address_max", s.perAddressLimit());
        summary.put("sessions_total", balancer.sessionsAccepted());
        summary.put("queued", balancer.admission().queued());
        summary.put("refused", refused(balancer.admission()));
        Map<String, Object> timeouts = new LinkedHashMap<>();
        timeouts.put("login", balancer.metrics().timeouts(BalancerMetrics.Timeout.LOGIN));
        timeouts.put("client_idle", balancer.metrics().timeouts(BalancerMetrics.Timeout.CLIENT_IDLE));
        summary.put("timeouts", timeouts);
        summary.put("session_rate", Math.round(sessionRate * 10) / 10.0);
        summary.put("bytes_in", bytesIn);
        summary.put("bytes_out", bytesOut);
        summary.put("passive_ports_in_use", balancer.passivePortsInUse());
        summary.put("passive_ports_range", balancer.passivePortsText());
        summary.put("passive_ports_size", balancer.passivePortCount());

        List<Object> listed = new ArrayList<>();
        for (ClientSession session : sessions.subList(0, Math.min(sessions.size(), MAX_LISTED_SESSIONS))) {
            listed.add(session(session, now));
        }

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("now", now.toString());
        report.put("balancer", summary);
        report.put("backends", backends);
        List<Object> retiring = new ArrayList<>();
        for (Backend b : balancer.retiringBackends()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("name", b.name());
            r.put("address", HostPort.text(b.address()));
            r.put("sessions_now", b.activeSessions());
            retiring.add(r);
        }
        report.put("retiring", retiring);
        report.put("sessions", listed);
        report.put("sessions_omitted", sessions.size() - listed.size());
        // Bans and per-user counts for the page's tables, bounded as the session list is.
        List<Object> bans = new ArrayList<>();
        List<dev.ferry.runtime.limits.Ban> inForce = balancer.bans().bans();
        for (dev.ferry.runtime.limits.Ban b : inForce.subList(0, Math.min(inForce.size(), MAX_LISTED_SESSIONS))) {
            bans.add(AdminApi.ban(b, now));
        }
        report.put("bans", bans);
        report.put("bans_omitted", inForce.size() - bans.size());
        List<Object> users = new ArrayList<>();
        for (Map.Entry<String, Integer> u : balancer.userSessions().entrySet()) {
            if (users.size() == MAX_LISTED_SESSIONS) {
                break;
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("user", Printable.of(u.getKey(), MAX_USER_CHARS));
            row.put("sessions", u.getValue());
            users.add(row);
        }
        report.put("user_sessions", users);
        return report;
    }

    /** The proxy name of every stats CSV row: Ferry is one HAProxy {@code listen} section. */
    static final String PROXY_NAME = "ftp";
    private static final int MAX_DETAIL_CHARS = 200;

    /** The rows of {@code GET /stats;csv} and of the text table: the same figures as {@link #of}. */
    static List<String[]> statsRows(BalancerStatus balancer, double sessionRate, Instant now) {
        Map<Backend, Traffic> live = liveTraffic(new ArrayList<>(balancer.sessions()));
        BackendTally tally = balancer.metrics().tally();
        BalancerSettings s = balancer.settings();
        List<StatsCsv.Server> servers = new ArrayList<>();
        long bytesIn = 0;
        long bytesOut = 0;
        long retries = 0;
        for (Backend b : balancer.backends()) {
            Traffic t = live.getOrDefault(b, Traffic.NONE);
            BackendTally.Figures f = tally.figures(b, now);
            CheckResult check = b.lastCheck();
            servers.add(new StatsCsv.Server(b.name(), HostPort.text(b.address()), status(b).toUpperCase(Locale.ROOT),
                    b.checkState() == CheckState.UP, b.weight(), b.activeSessions(), Math.max(f.peakSessions(), b.activeSessions()),
                    b.totalSessions(), b.bytesUp() + t.up, b.bytesDown() + t.down, b.errors(), f.checksFailed(), f.downs(),
                    seconds(b.stateSince(), now), f.downtimeSeconds(), check == null ? null : check.latency().toMillis(),
                    check == null ? null : Printable.of(check.detail(), MAX_DETAIL_CHARS), s.check().rise(), s.check().fall()));
            bytesIn += b.bytesUp() + t.up;
            bytesOut += b.bytesDown() + t.down;
            retries += b.retries();
        }
        int sessions = balancer.admission().active();
        StatsCsv.Frontend frontend = new StatsCsv.Frontend(PROXY_NAME, sessions, Math.max(tally.frontendPeak(), sessions),
                s.maxSessions(), balancer.sessionsAccepted(), bytesIn, bytesOut, sessionRate);
        int onBackends = servers.stream().mapToInt(StatsCsv.Server::sessions).sum();
        StatsCsv.Pool pool = new StatsCsv.Pool(balancer.admission().queued(), Math.max(tally.backendPeak(), onBackends),
                retries, spelling(s.balance()));
        return StatsCsv.rows(frontend, servers, pool);
    }

    /** Clients told 421 before their greeting since the start, by reason (the metrics' reasons). */
    private static Map<String, Object> refused(Admission admission) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("max_sessions", admission.count(Admission.Outcome.QUEUE_FULL));
        m.put("queue_timeout", admission.count(Admission.Outcome.QUEUE_TIMEOUT));
        m.put("max_per_address", admission.count(Admission.Outcome.TOO_MANY_FROM_ADDRESS));
        return m;
    }

    /** One backend, as in the status and as the answer to an action on it. */
    static Map<String, Object> backend(BalancerStatus balancer, Backend b, Instant now) {
        List<ClientSession> sessions = new ArrayList<>(balancer.sessions());
        return backend(b, liveTraffic(sessions).getOrDefault(b, Traffic.NONE), balancer.metrics().tally().figures(b, now), now);
    }

    /**
     * What the history sampler reads of each backend: sessions now and its byte totals with the transfers in
     * flight (the same figures as the status's bytes_up and bytes_down, so the charts and the table agree).
     */
    static List<TrafficHistory.Reading> readings(BalancerStatus balancer) {
        Map<Backend, Traffic> live = liveTraffic(new ArrayList<>(balancer.sessions()));
        List<TrafficHistory.Reading> readings = new ArrayList<>();
        for (Backend b : balancer.backends()) {
            Traffic t = live.getOrDefault(b, Traffic.NONE);
            readings.add(new TrafficHistory.Reading(b.name(), b.activeSessions(), b.bytesUp() + t.up, b.bytesDown() + t.down));
        }
        return readings;
    }

    /**
     * {@code GET /api/history}: each backend's samples as parallel arrays, oldest first (the page's charts).
     * {@code at} in epoch milliseconds; bytes are per interval, not totals.
     */
    static Map<String, Object> history(TrafficHistory history) {
        List<Object> backends = new ArrayList<>();
        history.samples().forEach((name, samples) -> {
            List<Object> at = new ArrayList<>(samples.size());
            List<Object> sessions = new ArrayList<>(samples.size());
            List<Object> in = new ArrayList<>(samples.size());
            List<Object> out = new ArrayList<>(samples.size());
            for (TrafficHistory.Sample s : samples) {
                at.add(s.at().toEpochMilli());
                sessions.add(s.sessions());
                in.add(s.bytesIn());
                out.add(s.bytesOut());
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("at", at);
            m.put("sessions", sessions);
            m.put("bytes_in", in);
            m.put("bytes_out", out);
            backends.add(m);
        });
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("interval_seconds", history.interval().toMillis() / 1000.0);
        m.put("capacity", history.capacity());
        m.put("backends", backends);
        return m;
    }

    private static Map<String, Object> backend(Backend b, Traffic live, BackendTally.Figures figures, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", b.name());
        m.put("address", HostPort.text(b.address()));
        m.put("status", status(b));
        m.put("state", b.checkState() == CheckState.UP ? "up" : "down");
        m.put("admin_state", b.adminState().name().toLowerCase(Locale.ROOT));
        m.put("state_since", b.stateSince().toString());
        m.put("in_state_seconds", seconds(b.stateSince(), now));
        m.put("weight", b.weight());
        CheckResult check = b.lastCheck();
        if (check == null) {
            m.put("check", null);
        } else {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("ok", check.ok());
            c.put("detail", check.detail());
            c.put("latency_ms", check.latency().toMillis());
            c.put("at", check.at().toString());
            m.put("check", c);
        }
        m.put("features", b.features());
        m.put("sessions_now", b.activeSessions());
        m.put("sessions_total", b.totalSessions());
        // HAProxy's smax, chkfail, chkdown, downtime (the stats CSV's columns of the same figures).
        m.put("sessions_peak", Math.max(figures.peakSessions(), b.activeSessions()));
        m.put("checks_failed", figures.checksFailed());
        m.put("check_downs", figures.downs());
        m.put("downtime_seconds", figures.downtimeSeconds());
        m.put("transfers", b.transfers() + live.transfers);
        m.put("bytes_up", b.bytesUp() + live.up);
        m.put("bytes_down", b.bytesDown() + live.down);
        m.put("errors", b.errors());
        m.put("retries", b.retries());
        return m;
    }

    /**
     * The one word the page shows: what the operator set wins over what checks say when it keeps
     * sessions away (maint), then down, then drain, then up.
     */
    static String status(Backend b) {
        if (b.adminState() == AdminState.MAINT) {
            return "maint";
        }
        if (b.checkState() == CheckState.DOWN) {
            return "down";
        }
        return b.adminState() == AdminState.DRAIN ? "drain" : "up";
    }

    private static Map<String, Object> session(ClientSession s, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("client", HostPort.text(s.clientAddress()));
        m.put("user", s.user() == null ? null : Printable.of(s.user(), MAX_USER_CHARS));
        Backend b = s.backend();
        m.put("backend", b == null ? null : b.name());
        m.put("since", s.startedAt().toString());
        m.put("seconds", seconds(s.startedAt(), now));
        Verb verb = s.lastVerb();
        m.put("command", verb == null ? null : verb.name());
        long transferBytes = s.transferBytes();
        m.put("transferring", transferBytes >= 0);
        m.put("transfer_bytes", Math.max(0, transferBytes));
        m.put("bytes_up", s.bytesUp());
        m.put("bytes_down", s.bytesDown());
        m.put("transfers", s.transfers());
        return m;
    }

    /**
     * Bytes of transfers still running: a backend's counters take a transfer's bytes when it ends,
     * so these are what the totals lack right now. Finished transfers are in the backend's counters.
     */
    private record Traffic(long up, long down, long transfers) {
        static final Traffic NONE = new Traffic(0, 0, 0);

        Traffic plus(ClientSession s) {
            return new Traffic(up + s.inFlightUp(), down + s.inFlightDown(), transfers);
        }
    }

    private static Map<Backend, Traffic> liveTraffic(List<ClientSession> sessions) {
        Map<Backend, Traffic> byBackend = new IdentityHashMap<>();
        for (ClientSession s : sessions) {
            Backend b = s.backend();
            if (b != null) {
                byBackend.put(b, byBackend.getOrDefault(b, Traffic.NONE).plus(s));
            }
        }
        return byBackend;
    }

    private static long seconds(Instant from, Instant to) {
        return Math.max(0, Duration.between(from, to).toSeconds());
    }

    private static String spelling(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
