package dev.ferry.runtime.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One registry in the Prometheus text format (version 0.0.4), as bytes or as an HTTP handler.
 *
 * <p>The handler answers GET (and HEAD, which HTTP requires wherever GET works: RFC 9110 §9.3.2)
 * at exactly the path it is mounted on, 404 below it and 405 for any other method. It knows
 * nothing of authentication: whoever mounts it decides who may reach it (the server's own
 * listener binds where the operator says, and is meant for loopback or a private network).
 */
public final class MetricsEndpoint implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.metrics");
    private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();

    private final PrometheusRegistry registry;

    public MetricsEndpoint(PrometheusRegistry registry) {
        this.registry = registry;
    }

    /** The content type of {@link #writeTo}: {@code text/plain; version=0.0.4; charset=utf-8}. */
    public static String contentType() {
        return TEXT.getContentType();
    }

    /** Collects every metric now (callbacks read their sources) and writes the text format. */
    public void writeTo(OutputStream out) throws IOException {
        TEXT.write(out, registry.scrape());
    }

    /** The current text, for tests and logs. */
    public String text() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writeTo(out);
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            // A context matches every path it prefixes ("/metrics" also gets "/metrics/x", "/metricsx").
            if (!exchange.getRequestURI().getPath().equals(exchange.getHttpContext().getPath())) {
                plain(exchange, 404, "Not found; metrics are at " + exchange.getHttpContext().getPath() + "\n");
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                plain(exchange, 405, "Method not allowed; use GET\n");
                return;
            }
            // Rendered before the headers go out, so a failing callback becomes a 500, not a cut-off 200.
            ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
            try {
                writeTo(body);
            } catch (RuntimeException e) {
                LOG.warn("event=metrics-failed error={}", e.toString(), e);
                plain(exchange, 500, "Internal error while collecting metrics\n");
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", contentType());
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.size());
            body.writeTo(exchange.getResponseBody());
        }
    }

    /** A short text answer (errors); also used by the listener for paths outside every context. */
    public static void plain(HttpExchange exchange, int status, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }
}
