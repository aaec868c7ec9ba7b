package dev.ferry.balancer.admin;

import com.sun.net.httpserver.HttpExchange;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.frontend.ClientSession;
import dev.ferry.balancer.metrics.TrafficHistory;
import dev.ferry.balancer.reload.ReloadPlan;
import dev.ferry.runtime.log.EventLog;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
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
    private static final String WEIGHT_FORM = "{\"weight\": 0.." + Backend.MAX_WEIGHT + "}";

    private final BalancerStatus balancer;
    private final AdminAuth auth;
    private final SessionRate rate;
    private final TrafficHistory history;
    private final EventLog log;
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
        if (path.equals("/api/reload")) {
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
    private static boolean allowed(HttpExchange ex, String method, String expected) throws IOException {
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

    private static boolean changeAllowed(HttpExchange ex, AdminAuth.Caller caller) throws IOException {
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
    private static Map<String, Object> flatBody(HttpExchange ex, String form) throws IOException {
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
