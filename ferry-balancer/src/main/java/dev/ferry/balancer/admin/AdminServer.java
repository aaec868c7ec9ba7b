package dev.ferry.balancer.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.protocol.address.HostPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
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
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.balancer.admin");
    static final int MAX_REQUEST_SECONDS = 10;
    static final int MAX_RESPONSE_SECONDS = 30;
    static final int MAX_CONNECTIONS = 256;
    private static final int BACKLOG = 64;
    /** Paths of our own; an extra handler may not take them. */
    private static final List<String> OWN_PATHS = List.of("/", "/stats", "/static/", "/api/");

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
    private volatile boolean closed;

    private final LoginThrottle throttle;
    private final AdminApi api;

    /** Enables {@code POST /api/reload}: {@code reloader} reads the configuration again and applies it. */
    public void onReload(Reloader reloader) {
        api.reloader(reloader);
    }

    private AdminServer(BalancerStatus balancer, AdminSettings settings, Map<String, HttpHandler> extraHandlers,
                        LoginThrottle throttle) throws IOException {
        for (String path : extraHandlers.keySet()) {
            if (!path.startsWith("/") || OWN_PATHS.contains(path) || path.startsWith("/api/") || path.startsWith("/static/")) {
                throw new IllegalArgumentException("extra admin handler path " + path + " is taken or malformed");
            }
        }
        this.throttle = throttle;
        AdminAuth auth = new AdminAuth(settings.users(), throttle, new LoginSessions());
        SessionRate rate = new SessionRate();
        AdminApi api = new AdminApi(balancer, auth, rate);
        this.api = api;
        Pages pages = new Pages(auth, () -> StatusReport.statsRows(balancer, rate.perSecond(), Instant.now()),
                extraHandlers.keySet());
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
        Map<String, HttpHandler> extras = new LinkedHashMap<>(extraHandlers);
        extras.forEach((path, handler) -> server.createContext(path, guarded(handler::handle)));
        this.sampler = Thread.ofVirtual().name("ferry-admin-rate").unstarted(() -> sample(balancer, rate));
    }

    /**
     * Starts the admin listener for {@code balancer} on {@code settings.listen()}.
     *
     * @param extraHandlers path to handler, served without authentication (the place for {@code /metrics})
     */
    public static AdminServer start(BalancerStatus balancer, AdminSettings settings, Map<String, HttpHandler> extraHandlers)
            throws IOException {
        return start(balancer, settings, extraHandlers, new LoginThrottle());
    }

    /** As {@link #start(BalancerStatus, AdminSettings, Map)} with a throttle of the caller's (tests). */
    static AdminServer start(BalancerStatus balancer, AdminSettings settings, Map<String, HttpHandler> extraHandlers,
                             LoginThrottle throttle) throws IOException {
        if (!settings.enabled()) {
            throw new IllegalArgumentException("the admin listener is off (no listen address)");
        }
        AdminServer a = new AdminServer(balancer, settings, extraHandlers, throttle);
        a.server.start();
        a.sampler.start();
        LOG.info("event=admin-listening address={} users={} extra_paths={}", HostPort.text(a.address()), settings.users().size(),
                extraHandlers.isEmpty() ? "-" : String.join(",", extraHandlers.keySet()));
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
                LOG.debug("admin exchange ended: {}", e.toString());
            } catch (RuntimeException e) {
                LOG.warn("event=admin-error internal error on {} {}", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), e);
                tryInternalError(ex);
            } finally {
                ex.close();
            }
        };
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

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }
}
