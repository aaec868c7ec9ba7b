package dev.ferry.balancer.admin;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The stats page and its script and style sheet, read once from the jar's resources and served
 * from memory. Nothing comes from the file system and nothing from elsewhere (the machine may be
 * offline): the page works on its own.
 *
 * <p>For scripts and terminals, the same figures without the page: {@code /stats;csv} (also
 * {@code /stats?csv} and {@code /;csv}, as HAProxy accepts) answers HAProxy's CSV ({@link StatsCsv}),
 * and {@code /stats} asked with an {@code Accept} header that does not name {@code text/html} (curl's
 * {@code *}{@code /*}) answers a plain-text table. Both hold data, so both need credentials as the API
 * does (read-only suffices). Any path nobody serves answers 404 with the list of those that exist.
 *
 * <p>Static files are a fixed table of names. SECURITY: a request path is only ever looked up in
 * that table, never joined to a directory, so {@code /static/../x} and its encodings cannot
 * reach anything else: they are simply not in the table (404).
 */
final class Pages {

    private record Resource(String contentType, byte[] bytes) {}

    private static final String HTML = "text/html; charset=utf-8";
    private static final Pattern TEXT_BROWSER = Pattern.compile("(?i)(w3m|lynx|links|elinks)/");
    /** RFC 7111's media type, with RFC 4180 §3's header parameter. */
    static final String CSV = "text/csv; charset=utf-8; header=present";
    /** Everything under /static/: name and content type. */
    private static final Map<String, String> STATIC_FILES = Map.of(
            "stats.css", "text/css; charset=utf-8",
            "stats.js", "text/javascript; charset=utf-8");

    private final Resource page;
    private final Map<String, Resource> statics;
    private final AdminAuth auth;
    private final Supplier<List<String[]>> statsRows;
    private final Supplier<Map<String, Object>> status;
    private final String pageTemplate;
    private final String notFound;

    /**
     * @param statsRows  the CSV rows now ({@link StatusReport#statsRows})
     * @param status     the status now ({@link StatusReport#of}), written into the page for a logged-in reader
     * @param extraPaths the paths of the extra handlers (such as {@code /metrics}), for the 404 answer's list
     */
    Pages(AdminAuth auth, Supplier<List<String[]>> statsRows, Supplier<Map<String, Object>> status, Set<String> extraPaths) {
        this.auth = auth;
        this.statsRows = statsRows;
        this.status = status;
        this.notFound = notFoundText(extraPaths);
        this.page = load("stats.html", HTML);
        this.pageTemplate = new String(page.bytes(), StandardCharsets.UTF_8);
        Map<String, Resource> files = new HashMap<>();
        STATIC_FILES.forEach((name, type) -> files.put(name, load(name, type)));
        this.statics = Map.copyOf(files);
    }

    /** {@code /}: to the page; {@code /;csv}: the CSV. Any other path nobody else serves: 404. */
    void root(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        // The JDK's server may hand /stats;csv to the "/" context (a context ends at a '/'), so both are here.
        if ((base(path).equals("/") || base(path).equals("/stats")) && wantsCsv(ex)) {
            csv(ex);
            return;
        }
        if (!path.equals("/")) {
            notFound(ex);
            return;
        }
        ex.getResponseHeaders().set("Location", "/stats");
        Http.text(ex, 302, "see /stats\n");
    }

    /**
     * {@code /stats}: the page. Without credentials it holds no data and the answer is 401 (the page shows its
     * login form); with them, the server writes the backends table into it ({@link StatsPageHtml}), so that it
     * reads without a script, and the script then keeps it up to date from the API.
     */
    void stats(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        if (base(path).equals("/stats") && wantsCsv(ex)) {
            csv(ex);
            return;
        }
        if (!path.equals("/stats")) {
            root(ex);
            return;
        }
        if (!getOrHead(ex)) {
            return;
        }
        if (wantsText(ex)) {
            if (allowed(ex)) {
                ex.getResponseHeaders().set("Cache-Control", "no-store");
                Http.text(ex, 200, StatsCsv.table(statsRows.get()));
            }
            return;
        }
        boolean known = auth.authenticate(ex) instanceof AdminAuth.Outcome.Allowed;
        if (!known) {
            // A text browser runs no script, so the page's login form cannot work there: it is asked for Basic,
            // which it answers with its own prompt (or the user:password of its URL).
            ex.getResponseHeaders().set("WWW-Authenticate", AdminAuth.challenge(ex, !textBrowser(ex)));
        }
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        byte[] body = known ? StatsPageHtml.render(pageTemplate, status.get()) : page.bytes();
        Http.send(ex, known ? 200 : 401, page.contentType(), body);
    }

    /** {@code /static/NAME}: the page's script and style sheet. */
    void statics(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        Resource r = path.startsWith("/static/") ? statics.get(path.substring("/static/".length())) : null;
        if (r == null) {
            notFound(ex);
            return;
        }
        if (!getOrHead(ex)) {
            return;
        }
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        Http.send(ex, 200, r.contentType(), r.bytes());
    }

    /** 404 with the paths that exist, so that a mistyped URL leads somewhere. */
    void notFound(HttpExchange ex) throws IOException {
        Http.text(ex, 404, notFound);
    }

    /** HAProxy's CSV: same credentials as the API, read-only suffices. */
    private void csv(HttpExchange ex) throws IOException {
        if (!getOrHead(ex) || !allowed(ex)) {
            return;
        }
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        Http.send(ex, 200, CSV, StatsCsv.csv(statsRows.get()).getBytes(StandardCharsets.UTF_8));
    }

    /** Known credentials, or a 401 that says how to give them (HTTP Basic, as curl's {@code -u}). */
    private boolean allowed(HttpExchange ex) throws IOException {
        if (auth.authenticate(ex) instanceof AdminAuth.Outcome.Allowed) {
            return true;
        }
        ex.getResponseHeaders().set("WWW-Authenticate", AdminAuth.challenge(ex, false));
        Http.text(ex, 401, "log in: curl -u USER:PASSWORD 'http://HOST:PORT" + base(ex.getRequestURI().getRawPath())
                + (wantsCsv(ex) ? ";csv" : "") + "'\n");
        return false;
    }

    /** The path without HAProxy-style {@code ;option} suffixes ({@code /stats;csv} is {@code /stats}). */
    static String base(String rawPath) {
        int semicolon = rawPath.indexOf(';');
        return semicolon < 0 ? rawPath : rawPath.substring(0, semicolon);
    }

    /** {@code ;csv} after the path or {@code csv} in the query ({@code ?csv}, {@code ?stats;csv}), as HAProxy accepts. */
    static boolean wantsCsv(HttpExchange ex) {
        return options(ex.getRequestURI().getRawPath(), ex.getRequestURI().getRawQuery()).contains("csv");
    }

    static Set<String> options(String rawPath, String rawQuery) {
        Set<String> options = new HashSet<>();
        int semicolon = rawPath.indexOf(';');
        if (semicolon >= 0) {
            options.addAll(Arrays.asList(rawPath.substring(semicolon + 1).split(";")));
        }
        if (rawQuery != null) {
            options.addAll(Arrays.asList(rawQuery.split("[;&]")));
        }
        return options;
    }

    /** w3m, Lynx, Links and ELinks name themselves first in their User-Agent; no graphical browser does. */
    static boolean textBrowser(HttpExchange ex) {
        String agent = ex.getRequestHeaders().getFirst("User-Agent");
        return agent != null && TEXT_BROWSER.matcher(agent).lookingAt();
    }

    /**
     * A client that sent an {@code Accept} header without {@code text/html} (curl, wget, scripts) gets the text
     * table; browsers name text/html, and a request without the header keeps the page, as before.
     */
    static boolean wantsText(HttpExchange ex) {
        List<String> accept = ex.getRequestHeaders().get("Accept");
        if (accept == null || accept.isEmpty()) {
            return false;
        }
        return accept.stream().noneMatch(a -> a.toLowerCase(Locale.ROOT).contains("text/html"));
    }

    private static String notFoundText(Set<String> extraPaths) {
        StringBuilder b = new StringBuilder("""
                not found. This admin listener serves:
                  /                  redirects to /stats
                  /stats             the stats page (a browser); a plain-text table for curl -u USER:PASSWORD
                  /stats;csv         the figures in HAProxy's CSV stats format (also /stats?csv and /;csv)
                  /health            200 when a backend takes sessions, else 503 (no login; for keepalived, monitors)
                  /api/status        the JSON API (docs/admin-api.md); also /api/history, /api/login, /api/logout,
                                     /api/whoami, /api/backends/NAME/state, /api/backends/NAME/weight, /api/sessions/ID, /api/reload
                """);
        for (String path : extraPaths.stream().sorted().toList()) {
            b.append(String.format(Locale.ROOT, "  %-18s %s\n", path,
                    path.equals("/metrics") ? "Prometheus metrics (no login)" : "(no login)"));
        }
        return b.toString();
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
