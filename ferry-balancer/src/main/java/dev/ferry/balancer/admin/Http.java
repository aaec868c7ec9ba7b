package dev.ferry.balancer.admin;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import dev.ferry.protocol.address.HostPort;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Reading requests and writing answers on the JDK's HTTP server, the same way everywhere. */
final class Http {

    /** Largest request body read; the API's bodies are a few dozen bytes. */
    static final int MAX_BODY = 64 * 1024;
    static final String JSON = "application/json; charset=utf-8";

    private Http() {}

    /** A request body, or why there is none to use. */
    sealed interface Body {
        record Text(String text) implements Body {}

        /** The status and message to answer with (413 too large, 415 not JSON, 400 not UTF-8). */
        record Refused(int status, String message) implements Body {}
    }

    /**
     * The body as text, refusing what is not {@code application/json} or is larger than
     * {@link #MAX_BODY} (declared or actual) before reading more than that.
     */
    static Body jsonBody(HttpExchange ex) throws IOException {
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        // SECURITY: a cross-site page can POST a form (urlencoded, multipart, text/plain) with the
        // browser's cached Basic credentials, but it cannot send application/json without a CORS
        // preflight, which this server never approves: requiring the type stops cross-site requests
        // that carry no CSRF token.
        if (type == null || !type.toLowerCase(Locale.ROOT).strip().matches("application/json\\s*(;.*)?")) {
            return new Body.Refused(415, "expected Content-Type: application/json");
        }
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > MAX_BODY) {
                    return new Body.Refused(413, "request body larger than " + MAX_BODY + " bytes");
                }
            } catch (NumberFormatException e) {
                return new Body.Refused(400, "malformed Content-Length");
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = ex.getRequestBody()) {
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                if (out.size() > MAX_BODY) {
                    return new Body.Refused(413, "request body larger than " + MAX_BODY + " bytes");
                }
            }
        }
        try {
            return new Body.Text(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(out.toByteArray())).toString());
        } catch (CharacterCodingException e) {
            return new Body.Refused(400, "request body is not valid UTF-8");
        }
    }

    static void json(HttpExchange ex, int status, Object value) throws IOException {
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        send(ex, status, JSON, Json.write(value).getBytes(StandardCharsets.UTF_8));
    }

    static void error(HttpExchange ex, int status, String message) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message);
        json(ex, status, body);
    }

    static void text(HttpExchange ex, int status, String text) throws IOException {
        send(ex, status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        Headers h = ex.getResponseHeaders();
        h.set("Content-Type", contentType);
        boolean head = ex.getRequestMethod().equals("HEAD");
        // RFC 9110 §6.4.1: no content with 204 and 304; HEAD gets the headers only.
        if (status == 204 || status == 304 || head) {
            ex.sendResponseHeaders(status, -1);
        } else {
            ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Headers every answer carries: no sniffing, no framing, no referrer, nothing loaded from elsewhere. */
    static void securityHeaders(HttpExchange ex) {
        Headers h = ex.getResponseHeaders();
        h.set("X-Content-Type-Options", "nosniff");
        h.set("X-Frame-Options", "DENY");
        h.set("Referrer-Policy", "no-referrer");
        // SECURITY: scripts and styles from this origin only, no inline script, no plugins, no
        // framing: even a value that slipped into the page unescaped could not run code.
        h.set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
                + " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    }

    /** The value of cookie {@code name} in the request (RFC 6265 §5.4), or null. */
    static String cookie(HttpExchange ex, String name) {
        for (String header : ex.getRequestHeaders().getOrDefault("Cookie", List.of())) {
            for (String pair : header.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).strip().equals(name)) {
                    return pair.substring(eq + 1).strip();
                }
            }
        }
        return null;
    }

    static String client(HttpExchange ex) {
        return HostPort.text(ex.getRemoteAddress());
    }
}
