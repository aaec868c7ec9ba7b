package dev.ferry.balancer.admin;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The stats page and its script and style sheet, read once from the jar's resources and served
 * from memory. Nothing comes from the file system and nothing from elsewhere (the machine may be
 * offline): the page works on its own.
 *
 * <p>Static files are a fixed table of names. SECURITY: a request path is only ever looked up in
 * that table, never joined to a directory, so {@code /static/../x} and its encodings cannot
 * reach anything else: they are simply not in the table (404).
 */
final class Pages {

    private record Resource(String contentType, byte[] bytes) {}

    private static final String HTML = "text/html; charset=utf-8";
    /** Everything under /static/: name and content type. */
    private static final Map<String, String> STATIC_FILES = Map.of(
            "stats.css", "text/css; charset=utf-8",
            "stats.js", "text/javascript; charset=utf-8");

    private final Resource page;
    private final Map<String, Resource> statics;
    private final AdminAuth auth;

    Pages(AdminAuth auth) {
        this.auth = auth;
        this.page = load("stats.html", HTML);
        Map<String, Resource> files = new HashMap<>();
        STATIC_FILES.forEach((name, type) -> files.put(name, load(name, type)));
        this.statics = Map.copyOf(files);
    }

    /** {@code /}: to the page. Any other path nobody else serves: 404. */
    void root(HttpExchange ex) throws IOException {
        if (!ex.getRequestURI().getRawPath().equals("/")) {
            Http.text(ex, 404, "not found\n");
            return;
        }
        ex.getResponseHeaders().set("Location", "/stats");
        Http.text(ex, 302, "see /stats\n");
    }

    /**
     * {@code /stats}: the page. It holds no data (the script fetches that from the API), so it is
     * served to everybody; without credentials the answer is 401 and the page shows its login form.
     */
    void stats(HttpExchange ex) throws IOException {
        if (!ex.getRequestURI().getRawPath().equals("/stats")) {
            root(ex);
            return;
        }
        if (!getOrHead(ex)) {
            return;
        }
        boolean known = auth.authenticate(ex) instanceof AdminAuth.Outcome.Allowed;
        if (!known) {
            ex.getResponseHeaders().set("WWW-Authenticate", AdminAuth.challenge(ex, true));
        }
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        Http.send(ex, known ? 200 : 401, page.contentType(), page.bytes());
    }

    /** {@code /static/NAME}: the page's script and style sheet. */
    void statics(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        Resource r = path.startsWith("/static/") ? statics.get(path.substring("/static/".length())) : null;
        if (r == null) {
            Http.text(ex, 404, "not found\n");
            return;
        }
        if (!getOrHead(ex)) {
            return;
        }
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        Http.send(ex, 200, r.contentType(), r.bytes());
    }

    private static boolean getOrHead(HttpExchange ex) throws IOException {
        String m = ex.getRequestMethod();
        if (m.equals("GET") || m.equals("HEAD")) {
            return true;
        }
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        Http.text(ex, 405, "use GET\n");
        return false;
    }

    private static Resource load(String name, String contentType) {
        try (InputStream in = Pages.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from the jar");
            }
            return new Resource(contentType, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + name, e);
        }
    }
}
