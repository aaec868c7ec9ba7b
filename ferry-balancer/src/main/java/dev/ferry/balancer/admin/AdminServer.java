package dev.ferry.balancer.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.balancer.metrics.TrafficHistory;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.runtime.log.EventLog;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * The balancer's admin listener: the stats page ({@code /stats}, {@code /} redirects there; for
 * scripts {@code /stats;csv} in HAProxy's CSV format and a text table for curl, see {@link Pages}), its
 * static files ({@code /static/}), the JSON API ({@code /api/}, see {@link AdminApi} and
 * docs/admin-api.md), and extra handlers registered by the caller.
 *
 * <p>Design: the JDK's HTTP server, one virtual thread per exchange (a login slowed down by the
 * {@link LoginThrottle} sleeps without holding a platform thread). Limits: request bodies of at most
 * {@link Http#MAX_BODY}; a whole request must arrive within {@value #MAX_REQUEST_SECONDS} s and
 * its answer go out within {@value #MAX_RESPONSE_SECONDS} s, and at most
 * {@value #MAX_CONNECTIONS} connections are open at once. Every answer carries the
 * {@link Http#securityHeaders security headers}; a bug in a handler is logged and answered 500.
 *
 * <p>Extra handlers: {@code extraHandlers} maps a path to a handler served <em>without
 * authentication</em>, as scrapers expect. This is where the Prometheus {@code /metrics} handler
 * (dev.ferry.balancer.metrics) is registered by whoever starts the admin server.
 *
 * <p>Two samplers run while the listener does and stop with it: every second the session rate and the
 * {@link dev.ferry.balancer.metrics.BackendTally} (peaks, downtime), and every history interval the
 * {@link TrafficHistory} behind the page's charts ({@code GET /api/history}).
 */
public final class AdminServer implements AutoCloseable {

    private static final String LOGGER = "ferry.balancer.admin";
    static final int MAX_REQUEST_SECONDS = 10;
    static final int MAX_RESPONSE_SECONDS = 30;
    static final int MAX_CONNECTIONS = 256;
    private static final int BACKLOG = 64;
    /** Paths of our own; an extra handler may not take them. */
    private static final List<String> OWN_PATHS = List.of("/", "/stats", "/static/", "/api/", "/health");

    static {
        // The JDK server reads its limits from system properties, once, when the first server of the
        // process is created; an operator's own -D settings win (they are only set if absent).
        setIfAbsent("sun.net.httpserver.maxReqTime", String.valueOf(MAX_REQUEST_SECONDS));
        setIfAbsent("sun.net.httpserver.maxRspTime", String.valueOf(MAX_RESPONSE_SECONDS));
        setIfAbsent("jdk.httpserver.maxConnections", String.valueOf(MAX_CONNECTIONS));
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final Thread sampler;
    private final Thread historySampler;
    private final EventLog log;
    private volatile boolean closed;

    private final LoginThrottle throttle;
    private final AdminApi api;

    /** Enables {@code POST /api/reload}: {@code reloader} reads the configuration again and applies it. */
    public void onReload(Reloader reloader) {
        api.reloader(reloader);
    }

    private AdminServer(BalancerStatus balancer, AdminSettings settings, Map<String, HttpHandler> extraHandlers,
                        LoginThrottle throttle, TrafficHistory history) throws IOException {
        for (String path : extraHandlers.keySet()) {
            if (!path.startsWith("/") || OWN_PATHS.contains(path) || path.startsWith("/api/") || path.startsWith("/static/")) {
                throw new IllegalArgumentException("extra admin handler path " + path + " is taken or malformed");
            }
        }
        this.throttle = throttle;
        this.log = new EventLog(LoggerFactory.getLogger(LOGGER), balancer.settings().node());
        AdminAuth auth = new AdminAuth(settings.users(), throttle, new LoginSessions(), log);
        SessionRate rate = new SessionRate();
        AdminApi api = new AdminApi(balancer, auth, rate, history, log);
        this.api = api;
        Pages pages = new Pages(auth, () -> StatusReport.statsRows(balancer, rate.perSecond(), Instant.now()),
                () -> StatusReport.of(balancer, rate.perSecond(), Instant.now()), extraHandlers.keySet());
        try {
            this.server = HttpServer.create(settings.listen(), BACKLOG);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + HostPort.text(settings.listen()) + " for the admin page: " + e.getMessage(), e);
        }
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", guarded(pages::root));
        server.createContext("/stats", guarded(pages::stats));
        server.createContext("/static/", guarded(pages::statics));
        server.createContext("/api/", guarded(api::handle));
        server.createContext("/health", guarded(ex -> health(ex, balancer)));
        Map<String, HttpHandler> extras = new LinkedHashMap<>(extraHandlers);
        extras.forEach((path, handler) -> server.createContext(path, guarded(handler::handle)));
        this.sampler = Thread.ofVirtual().name("ferry-admin-rate").unstarted(() -> sample(balancer, rate));
        this.historySampler = Thread.ofVirtual().name("ferry-admin-history").unstarted(() -> sampleHistory(balancer, history));
    }

    /**
     * Starts the admin listener for {@code balancer} on {@code settings.listen()}.
     *
     * @param extraHandlers path to handler, served without authentication (the place for {@code /metrics})
     */
    public static AdminServer start(BalancerStatus balancer, AdminSettings settings, Map<String, HttpHandler> extraHandlers)
            throws IOException {
        return start(balancer, settings, extraHandlers, TrafficHistory.DEFAULT_INTERVAL);
    }

    /**
     * As {@link #start(BalancerStatus, AdminSettings, Map)}, the charts sampled every {@code historyInterval}
     * ({@value TrafficHistory#DEFAULT_CAPACITY} samples kept): tests that want charts within seconds.
     */
    public static AdminServer start(BalancerStatus balancer, AdminSettings settings, Map<String, HttpHandler> extraHandlers,
                                    Duration historyInterval) throws IOException {
        return start(balancer, settings, extraHandlers, new LoginThrottle(),
                new TrafficHistory(historyInterval, TrafficHistory.DEFAULT_CAPACITY));
    }

    /** As {@link #start(BalancerStatus, AdminSettings, Map)} with a throttle of the caller's (tests). */
    static AdminServer start(BalancerStatus balancer, AdminSettings settings, Map<String, HttpHandler> extraHandlers,
                             LoginThrottle throttle) throws IOException {
        return start(balancer, settings, extraHandlers, throttle,
                new TrafficHistory(TrafficHistory.DEFAULT_INTERVAL, TrafficHistory.DEFAULT_CAPACITY));
    }

    private static AdminServer start(BalancerStatus balancer, AdminSettings settings, Map<String, HttpHandler> extraHandlers,
                                     LoginThrottle throttle, TrafficHistory history) throws IOException {
        if (!settings.enabled()) {
            throw new IllegalArgumentException("the admin listener is off (no listen address)");
        }
        AdminServer a = new AdminServer(balancer, settings, extraHandlers, throttle, history);
        a.server.start();
        a.sampler.start();
        a.historySampler.start();
        a.log.info("admin-listening").with("address", HostPort.text(a.address())).with("users", settings.users().size())
                .with("extra_paths", extraHandlers.isEmpty() ? "-" : String.join(",", extraHandlers.keySet())).log();
        return a;
    }

    /** Failed logins per address (tests look at the delays it computes). */
    LoginThrottle throttle() {
        return throttle;
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** The page's address, e.g. {@code http://127.0.0.1:8080/stats}. */
    public String url() {
        InetSocketAddress a = address();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : HostPort.text(a).replaceFirst(":[0-9]+$", "");
        return "http://" + host + ":" + a.getPort() + "/stats";
    }

    @Override
    public void close() {
        closed = true;
        sampler.interrupt();
        historySampler.interrupt();
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The exchange's thread: headers, errors, and the exchange always closed. */
    private HttpHandler guarded(HttpHandler handler) {
        return ex -> {
            try {
                Http.securityHeaders(ex);
                handler.handle(ex);
            } catch (IOException e) {
                log.debug("admin-exchange-ended").with("reason", e.toString()).log();
            } catch (RuntimeException e) {
                log.warn("admin-error").with("method", ex.getRequestMethod()).with("path", ex.getRequestURI().getRawPath())
                        .log(e);
                tryInternalError(ex);
            } finally {
                ex.close();
            }
        };
    }

    /** {@link Health}: no login; GET and HEAD only, never cached, an exact path (not /health/x). */
    private static void health(HttpExchange ex, BalancerStatus balancer) throws IOException {
        if (!ex.getRequestURI().getRawPath().equals("/health")) {
            Http.text(ex, 404, "not found: the health check is /health\n");
            return;
        }
        String method = ex.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            ex.getResponseHeaders().set("Allow", "GET, HEAD");
            Http.text(ex, 405, "GET or HEAD /health\n");
            return;
        }
        Health health = Health.of(balancer.backends());
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        Http.text(ex, health.status(), health.text());
    }

    private static void tryInternalError(HttpExchange ex) {
        try {
            if (ex.getResponseCode() == -1) {
                Http.error(ex, 500, "internal error (logged)");
            }
        } catch (IOException | RuntimeException ignored) {
            // the answer had started or the client left: nothing more to say
        }
    }

    /** Samples the accepted-sessions counter every second, for the session rate. */
    private void sample(BalancerStatus balancer, SessionRate rate) {
        while (!closed) {
            rate.sample(System.nanoTime(), balancer.sessionsAccepted());
            balancer.metrics().tally().observe(balancer.backends(), balancer.admission().active(), Instant.now());
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Samples every backend's sessions and byte totals once per history interval, until closed. At a fixed rate
     * (the time a sample takes does not push the next one later), so the page sees a gap only where a sample was
     * really missed: a tick more than an interval late is skipped.
     */
    private void sampleHistory(BalancerStatus balancer, TrafficHistory history) {
        long interval = Math.max(1_000_000, history.interval().toNanos());
        long next = System.nanoTime();
        while (!closed) {
            try {
                history.sample(Instant.now(), StatusReport.readings(balancer));
            } catch (RuntimeException e) {
                log.warn("admin-history-failed").log(e);
            }
            next += interval;
            long now = System.nanoTime();
            if (now - next > interval) {
                next = now + interval - (now - next) % interval;   // missed ticks: on to the next one due
            }
            try {
                Thread.sleep(Duration.ofNanos(Math.max(0, next - now)));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }
}
