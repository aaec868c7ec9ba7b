package dev.ferry.balancer.admin;

import com.sun.net.httpserver.HttpExchange;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.frontend.ClientSession;
import dev.ferry.balancer.metrics.TrafficHistory;
import dev.ferry.balancer.reload.ReloadPlan;
import dev.ferry.protocol.Printable;
import dev.ferry.runtime.limits.Ban;
import dev.ferry.runtime.limits.LimitsUnavailableException;
import dev.ferry.runtime.log.EventLog;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JSON API under {@code /api/} (docs/admin-api.md): the page's data and every action it offers.
 *
 * <p>One gate in {@link #handle} before any route runs, in this order: log in ({@code /api/login}
 * is the only route open to everybody), then the route and its method (404, 405), then for a
 * change the role (403 for read-only) and, with the login cookie, the CSRF token (403), then the
 * target (404) and the body (415, 413, 400). Every change is logged with who made it.
 */
final class AdminApi {

    private static final Pattern BACKEND_ACTION = Pattern.compile("/api/backends/([A-Za-z0-9._-]{1,64})/(state|weight)");
    private static final Pattern SESSION = Pattern.compile("/api/sessions/([a-z0-9]{1,16})");
    private static final String STATE_FORM = "{\"state\": \"ready\" | \"drain\" | \"maint\"}";
    /** A ban's key as {@code Ban.display} writes it; an IPv6 /64 may come with its "/64" (raw or %2F). */
    private static final Pattern BAN = Pattern.compile("/api/bans/([0-9A-Fa-f:.]{1,45})(?:/64|%2[Ff]64)?");
    private static final String BAN_FORM = "{\"address\": IP, \"duration\": SECONDS or \"15m\", \"reason\": TEXT (optional)}";
    /** A ban by hand lasts at most this long: a typo in the duration must not ban an address for ever. */
    static final Duration MAX_BAN = Duration.ofDays(365);
    private static final int MAX_REASON_CHARS = 200;
    private static final String WEIGHT_FORM = "{\"weight\": 0.." + Backend.MAX_WEIGHT + "}";

    private final BalancerStatus balancer;
    private final AdminAuth auth;
    private final SessionRate rate;
    private final TrafficHistory history;
    private final EventLog log;
    private final UsersApi users;
    private volatile Reloader reloader;

    /**
     * @param history the backends' last hour, for {@code GET /api/history}
     * @param log     the admin listener's log (its lines carry the balancer's node name)
     */
    AdminApi(BalancerStatus balancer, AdminAuth auth, SessionRate rate, TrafficHistory history, EventLog log) {
        this.history = history;
        this.log = log;
        this.balancer = balancer;
        this.auth = auth;
        this.rate = rate;
        this.users = new UsersApi(balancer::database, log);
    }

    void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        String method = ex.getRequestMethod();
        if (path.equals("/api/login")) {
            if (allowed(ex, method, "POST")) {
                login(ex);
            }
            return;
        }
        AdminAuth.Caller caller = switch (auth.authenticate(ex)) {
            case AdminAuth.Outcome.Allowed a -> a.caller();
            case AdminAuth.Outcome.Anonymous a -> {
                unauthorized(ex, "log in first: HTTP Basic credentials or POST /api/login");
                yield null;
            }
            case AdminAuth.Outcome.Refused r -> {
                unauthorized(ex, "wrong user name or password");
                yield null;
            }
        };
        if (caller == null) {
            return;
        }
        switch (path) {
            case "/api/status" -> {
                if (allowed(ex, method, "GET")) {
                    Http.json(ex, 200, StatusReport.of(balancer, rate.perSecond(), Instant.now()));
                }
            }
            case "/api/history" -> {
                if (allowed(ex, method, "GET")) {
                    Http.json(ex, 200, StatusReport.history(history));
                }
            }
            case "/api/whoami" -> {
                if (allowed(ex, method, "GET")) {
                    Http.json(ex, 200, whoami(caller));
                }
            }
            case "/api/logout" -> {
                if (allowed(ex, method, "POST") && csrfChecked(ex, caller)) {
                    logout(ex, caller);
                }
            }
            default -> actions(ex, path, method, caller);
        }
    }

    void reloader(Reloader r) {
        this.reloader = r;
    }

    private void actions(HttpExchange ex, String path, String method, AdminAuth.Caller caller) throws IOException {
        Matcher backendAction = BACKEND_ACTION.matcher(path);
        Matcher session = SESSION.matcher(path);
        Matcher ban = BAN.matcher(path);
        if (UsersApi.owns(path)) {
            users.handle(ex, path, method, caller);
        } else if (path.equals("/api/bans")) {
            // Everyone sees the bans; only the admin role bans by hand.
            if (method.equals("GET") || method.equals("HEAD")) {
                Http.json(ex, 200, bans(Instant.now()));
            } else if (method.equals("POST")) {
                if (changeAllowed(ex, caller)) {
                    addBan(ex, caller);
                }
            } else {
                ex.getResponseHeaders().set("Allow", "GET, HEAD, POST");
                Http.error(ex, 405, "use GET to list bans, POST to ban an address");
            }
        } else if (ban.matches()) {
            if (allowed(ex, method, "DELETE") && changeAllowed(ex, caller)) {
                liftBan(ex, caller, ban.group(1));
            }
        } else if (path.equals("/api/reload")) {
            if (allowed(ex, method, "POST") && changeAllowed(ex, caller)) {
                reload(ex, caller);
            }
        } else if (backendAction.matches()) {
            if (allowed(ex, method, "POST") && changeAllowed(ex, caller)) {
                Backend b = backend(backendAction.group(1));
                if (b == null) {
                    Http.error(ex, 404, "no backend named " + backendAction.group(1));
                } else if (backendAction.group(2).equals("state")) {
                    setState(ex, caller, b);
                } else {
                    setWeight(ex, caller, b);
                }
            }
        } else if (session.matches()) {
            if (allowed(ex, method, "DELETE") && changeAllowed(ex, caller)) {
                endSession(ex, caller, session.group(1));
            }
        } else {
            Http.error(ex, 404, "no such API endpoint; see docs/admin-api.md");
        }
    }

    // ---- the gate ---------------------------------------------------------------------------------

    /** 405 with the Allow header unless {@code method} is {@code expected} (HEAD goes with GET). */
    static boolean allowed(HttpExchange ex, String method, String expected) throws IOException {
        if (method.equals(expected) || (expected.equals("GET") && method.equals("HEAD"))) {
            return true;
        }
        ex.getResponseHeaders().set("Allow", expected.equals("GET") ? "GET, HEAD" : expected);
        Http.error(ex, 405, "use " + expected + " here");
        return false;
    }

    private static void unauthorized(HttpExchange ex, String message) throws IOException {
        ex.getResponseHeaders().set("WWW-Authenticate", AdminAuth.challenge(ex, false));
        Http.error(ex, 401, message);
    }

    static boolean changeAllowed(HttpExchange ex, AdminAuth.Caller caller) throws IOException {
        // SECURITY: only the admin role changes anything; read-only users see, and that is all.
        if (caller.role() != AdminSettings.Role.ADMIN) {
            Http.error(ex, 403, "user " + caller.user() + " is read-only");
            return false;
        }
        return csrfChecked(ex, caller);
    }

    private static boolean csrfChecked(HttpExchange ex, AdminAuth.Caller caller) throws IOException {
        // SECURITY: a browser sends the login cookie with any request to this origin, even one a
        // page elsewhere makes it send; only our page knows the token (from /api/login or
        // /api/whoami, readable by same-origin scripts only), so a forged request fails here.
        // Basic credentials need no token: scripts send them on purpose, and the JSON content
        // type required for bodies keeps cross-site forms out (see Http.jsonBody).
        if (caller.viaCookie()
                && !LoginSessions.csrfMatches(caller.login(), ex.getRequestHeaders().getFirst(AdminAuth.CSRF_HEADER))) {
            Http.error(ex, 403, "missing or wrong " + AdminAuth.CSRF_HEADER + " header (the page sends it; reload the page)");
            return false;
        }
        return true;
    }

    /** The request's JSON object, or null once a 4xx has been sent. */
    static Map<String, Object> flatBody(HttpExchange ex, String form) throws IOException {
        switch (Http.jsonBody(ex)) {
            case Http.Body.Refused r -> {
                // The rest of the body is left unread: the connection cannot carry another request,
                // and saying so keeps the client from sending one on it.
                ex.getResponseHeaders().set("Connection", "close");
                Http.error(ex, r.status(), r.message());
                return null;
            }
            case Http.Body.Text t -> {
                switch (Json.parseFlatObject(t.text())) {
                    case Json.Parsed.Bad bad -> {
                        Http.error(ex, 400, bad.message() + "; expected " + form);
                        return null;
                    }
                    case Json.Parsed.Flat flat -> {
                        return flat.values();
                    }
                }
            }
        }
    }

    /** The one value of a body that must hold exactly {@code key}, or null once a 400 has been sent. */
    private static Object only(HttpExchange ex, Map<String, Object> body, String key, String form) throws IOException {
        for (String k : body.keySet()) {
            if (!k.equals(key)) {
                Http.error(ex, 400, "unknown key \"" + k + "\"; expected " + form);
                return null;
            }
        }
        if (!body.containsKey(key) || body.get(key) == null) {
            Http.error(ex, 400, "missing \"" + key + "\"; expected " + form);
            return null;
        }
        return body.get(key);
    }

    // ---- routes -----------------------------------------------------------------------------------

    private void login(HttpExchange ex) throws IOException {
        Map<String, Object> body = flatBody(ex, "{\"user\": NAME, \"password\": PASSWORD}");
        if (body == null) {
            return;
        }
        if (!(body.get("user") instanceof String name) || !(body.get("password") instanceof String password)
                || body.size() != 2) {
            Http.error(ex, 400, "expected {\"user\": NAME, \"password\": PASSWORD}");
            return;
        }
        AdminSettings.User user = auth.check(ex, name, password.toCharArray(), "form");
        if (user == null) {
            ex.getResponseHeaders().set("WWW-Authenticate", AdminAuth.challenge(ex, true));
            Http.error(ex, 401, "wrong user name or password");
            return;
        }
        LoginSessions.Login login = auth.logins().create(user.name(), user.role());
        // RFC 6265 §4.1. HttpOnly: scripts cannot read it (an injected script could not steal it);
        // SameSite=Strict: other sites' pages cannot make the browser send it. Not Secure: the
        // listener speaks plain HTTP (keep it on loopback or a private network).
        ex.getResponseHeaders().add("Set-Cookie", AdminAuth.COOKIE + "=" + login.id() + "; Path=/; HttpOnly; SameSite=Strict; Max-Age="
                + LoginSessions.MAX_AGE.toSeconds());
        log.info("admin-login").with("user", user.name()).with("role", user.role().spelling()).with("client", Http.client(ex)).log();
        Http.json(ex, 200, whoami(new AdminAuth.Caller(user.name(), user.role(), login)));
    }

    private void logout(HttpExchange ex, AdminAuth.Caller caller) throws IOException {
        if (caller.viaCookie()) {
            auth.logins().end(caller.login().id());
            ex.getResponseHeaders().add("Set-Cookie", AdminAuth.COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("logged_out", caller.viaCookie());
        Http.json(ex, 200, m);
    }

    private static Map<String, Object> whoami(AdminAuth.Caller caller) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("user", caller.user());
        m.put("role", caller.role().spelling());
        m.put("auth", caller.viaCookie() ? "cookie" : "basic");
        m.put("csrf_token", caller.viaCookie() ? caller.login().csrfToken() : null);
        return m;
    }

    private void setState(HttpExchange ex, AdminAuth.Caller caller, Backend b) throws IOException {
        Map<String, Object> body = flatBody(ex, STATE_FORM);
        Object value = body == null ? null : only(ex, body, "state", STATE_FORM);
        if (value == null) {
            return;
        }
        AdminState state = value instanceof String s ? adminState(s) : null;
        if (state == null) {
            Http.error(ex, 400, "bad state; expected " + STATE_FORM);
            return;
        }
        b.setAdminState(state);
        logAction(ex, caller, "backend-state", b.name(), state.name().toLowerCase(Locale.ROOT));
        Http.json(ex, 200, StatusReport.backend(balancer, b, Instant.now()));
    }

    private void setWeight(HttpExchange ex, AdminAuth.Caller caller, Backend b) throws IOException {
        Map<String, Object> body = flatBody(ex, WEIGHT_FORM);
        Object value = body == null ? null : only(ex, body, "weight", WEIGHT_FORM);
        if (value == null) {
            return;
        }
        if (!(value instanceof Long w) || w < 0 || w > Backend.MAX_WEIGHT) {
            Http.error(ex, 400, "bad weight " + Json.write(value) + "; expected a whole number from 0 to " + Backend.MAX_WEIGHT);
            return;
        }
        b.setWeight(w.intValue());
        logAction(ex, caller, "backend-weight", b.name(), String.valueOf(w));
        Http.json(ex, 200, StatusReport.backend(balancer, b, Instant.now()));
    }

    private void reload(HttpExchange ex, AdminAuth.Caller caller) throws IOException {
        Reloader r = reloader;
        if (r == null) {
            Http.error(ex, 409, "this balancer was started without a way to read its configuration again");
            return;
        }
        ReloadPlan plan;
        try {
            plan = r.reload();
        } catch (Exception e) {
            logAction(ex, caller, "reload-rejected", "-", "-");
            Http.error(ex, 422, "configuration rejected, the running one stays: " + e.getMessage());
            return;
        }
        logAction(ex, caller, "reload", "-", "-");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("added", plan.added().stream().map(spec -> spec.name()).toList());
        m.put("retired", plan.retired().stream().map(Backend::name).toList());
        Map<String, Object> weights = new LinkedHashMap<>();
        plan.reweighted().forEach((b, w) -> weights.put(b.name(), w));
        m.put("reweighted", weights);
        m.put("restart_needed", plan.needRestart());
        Http.json(ex, 200, m);
    }

    private void endSession(HttpExchange ex, AdminAuth.Caller caller, String id) throws IOException {
        ClientSession session = null;
        for (ClientSession s : balancer.sessions()) {
            if (s.id().equals(id)) {
                session = s;
                break;
            }
        }
        if (session == null) {
            Http.error(ex, 404, "no live session " + id);
            return;
        }
        logAction(ex, caller, "end-session", id, "-");
        // Off this thread: telling the client 421 may wait for a slow client's socket.
        ClientSession ending = session;
        Thread.ofVirtual().name("ferry-admin-end-" + id)
                .start(() -> ending.terminate("admin-ended", "Session ended by an administrator; closing the connection."));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("ending", true);
        Http.json(ex, 202, m);
    }

    /** {@code GET /api/bans}: the bans in force, soonest to end first, and the users' session counts. */
    private Map<String, Object> bans(Instant now) {
        List<Object> list = new ArrayList<>();
        for (Ban b : balancer.bans().bans()) {
            list.add(ban(b, now));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bans", list);
        return m;
    }

    static Map<String, Object> ban(Ban b, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", b.display());
        m.put("until", b.until().toString());
        m.put("seconds_left", Math.max(0, Duration.between(now, b.until()).toSeconds()));
        m.put("failures", b.failures());
        m.put("reason", Printable.of(String.valueOf(b.reason()), MAX_REASON_CHARS));
        m.put("origin", b.origin());
        return m;
    }

    private void addBan(HttpExchange ex, AdminAuth.Caller caller) throws IOException {
        Map<String, Object> body = flatBody(ex, BAN_FORM);
        if (body == null) {
            return;
        }
        for (String k : body.keySet()) {
            if (!k.equals("address") && !k.equals("duration") && !k.equals("reason")) {
                Http.error(ex, 400, "unknown key \"" + k + "\"; expected " + BAN_FORM);
                return;
            }
        }
        InetAddress address;
        try {
            address = body.get("address") instanceof String a ? Ban.parseAddress(a) : null;
        } catch (IllegalArgumentException e) {
            address = null;
        }
        if (address == null) {
            Http.error(ex, 400, "\"address\" must be an IP address (no host names); expected " + BAN_FORM);
            return;
        }
        Duration duration = banDuration(body.get("duration"));
        if (duration == null) {
            Http.error(ex, 400, "\"duration\" must be seconds (1.." + MAX_BAN.toSeconds() + ") or a text such as \"90s\", "
                    + "\"15m\", \"2h\", \"7d\"; expected " + BAN_FORM);
            return;
        }
        Object reasonValue = body.get("reason");
        if (reasonValue != null && !(reasonValue instanceof String)) {
            Http.error(ex, 400, "\"reason\" must be a text; expected " + BAN_FORM);
            return;
        }
        String reason = reasonValue == null || ((String) reasonValue).isBlank() ? "admin"
                : Printable.of((String) reasonValue, MAX_REASON_CHARS);
        Ban made;
        try {
            made = balancer.bans().ban(address, duration, reason, caller.user() + "@" + balancer.settings().node());
        } catch (LimitsUnavailableException e) {
            // The shared list (the database) cannot be reached: a ban on this balancer alone would mislead.
            Http.error(ex, 503, "the ban was not made: " + e.getMessage());
            return;
        }
        log.info("ban-added").with("admin", caller.user()).with("address", made.display())
                .with("duration_s", duration.toSeconds()).with("reason", reason).with("client", Http.client(ex)).log();
        Http.json(ex, 201, ban(made, Instant.now()));
    }

    private void liftBan(HttpExchange ex, AdminAuth.Caller caller, String text) throws IOException {
        InetAddress address;
        try {
            address = Ban.parseAddress(text);
        } catch (IllegalArgumentException e) {
            Http.error(ex, 400, "not an IP address: " + text);
            return;
        }
        String shown = Ban.display(Ban.key(address));
        boolean lifted;
        try {
            lifted = balancer.bans().lift(address);
        } catch (LimitsUnavailableException e) {
            Http.error(ex, 503, "the ban was not lifted: " + e.getMessage());
            return;
        }
        if (!lifted) {
            Http.error(ex, 404, "no ban on " + shown);
            return;
        }
        log.info("ban-lifted").with("admin", caller.user()).with("address", shown).with("client", Http.client(ex)).log();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", shown);
        m.put("lifted", true);
        Http.json(ex, 200, m);
    }

    /** Seconds as a number, or a text with a unit (s, m, h, d); null if neither or out of 1 s .. {@link #MAX_BAN}. */
    static Duration banDuration(Object value) {
        Duration d;
        if (value instanceof Long seconds) {
            d = seconds > 0 && seconds <= MAX_BAN.toSeconds() ? Duration.ofSeconds(seconds) : null;
        } else if (value instanceof String text) {
            Matcher m = DURATION.matcher(text.strip());
            if (!m.matches() || m.group(1).length() > 9) {
                return null;
            }
            long n = Long.parseLong(m.group(1));
            d = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        } else {
            return null;
        }
        return d != null && d.isPositive() && d.compareTo(MAX_BAN) <= 0 ? d : null;
    }

    private static final Pattern DURATION = Pattern.compile("([0-9]+)([smhd])");

    private Backend backend(String name) {
        for (Backend b : balancer.backends()) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        return null;
    }

    private static AdminState adminState(String s) {
        return switch (s) {
            case "ready" -> AdminState.READY;
            case "drain" -> AdminState.DRAIN;
            case "maint" -> AdminState.MAINT;
            default -> null;
        };
    }

    private void logAction(HttpExchange ex, AdminAuth.Caller caller, String action, String target, String value) {
        log.info("admin-action").with("user", caller.user()).with("action", action).with("target", target).with("value", value)
                .with("client", Http.client(ex)).log();
    }
}
