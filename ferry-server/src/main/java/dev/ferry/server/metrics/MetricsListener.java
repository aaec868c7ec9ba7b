package dev.ferry.server.metrics;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.protocol.address.HostPort;
import dev.ferry.runtime.metrics.MetricsEndpoint;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code ferry server --metrics HOST:PORT}: a small HTTP listener (the JDK's HttpServer, one virtual
 * thread per exchange) serving {@code GET /metrics} and 404 everywhere else.
 *
 * <p>It has no authentication, like most Prometheus exporters: the metrics name no user, file or
 * address, but they do tell how busy the server is. Bind it to loopback or a private network that
 * only the Prometheus server reaches (docs/metrics.md).
 */
public final class MetricsListener implements AutoCloseable {

    public static final String PATH = "/metrics";
    private static final int BACKLOG = 16;

    private final HttpServer http;
    private final ExecutorService exchanges;

    private MetricsListener(HttpServer http, ExecutorService exchanges) {
        this.http = http;
        this.exchanges = exchanges;
    }

    /** Binds {@code address} and serves {@code metrics} at {@link #PATH}. */
    public static MetricsListener start(InetSocketAddress address, HttpHandler metrics) throws IOException {
        HttpServer http;
        try {
            http = HttpServer.create(address, BACKLOG);
        } catch (IOException e) {
            throw new IOException("cannot listen for metrics on " + HostPort.text(address) + ": " + e.getMessage(), e);
        }
        ExecutorService exchanges = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(exchanges);
        http.createContext(PATH, metrics);
        http.createContext("/", exchange -> {
            try (exchange) {
                MetricsEndpoint.plain(exchange, 404, "Not found; metrics are at " + PATH + "\n");
            }
        });
        http.start();
        return new MetricsListener(http, exchanges);
    }

    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** Stops at once; a scrape in progress is cut off (Prometheus retries at its next interval). */
    @Override
    public void close() {
        http.stop(0);
        exchanges.shutdownNow();
    }
}
