package dev.ferry.balancer.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpHandler;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.runtime.Version;
import dev.ferry.runtime.password.PasswordHasher;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * The admin listener over real HTTP on loopback: who gets in (Basic, the login cookie, CSRF,
 * roles), what bad requests get, and the page and its files. The balancer behind it has two
 * backends that are not running (nothing here needs a session; ferry-it's AdminApiTest has those).
 */
class AdminServerTest {

    private static final String ADMIN_PASSWORD = "alice-Pa55";
    private static final String READER_PASSWORD = "reader-Pa55";
    private static final List<AdminSettings.User> USERS = List.of(
            new AdminSettings.User("alice", PasswordHasher.hash(ADMIN_PASSWORD.toCharArray()), AdminSettings.Role.ADMIN),
            new AdminSettings.User("reader", PasswordHasher.hash(READER_PASSWORD.toCharArray()), AdminSettings.Role.READ_ONLY));
    private static final Pattern COOKIE = Pattern.compile("ferry_admin=([A-Za-z0-9_-]{43}); Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");
    private static final Pattern CSRF = Pattern.compile("\"csrf_token\":\"([A-Za-z0-9_-]{43})\"");

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final String NODE = "lb-test";

    // One balancer and admin listener for the class (each test starts from ready backends of weight 1
    // and no failed logins): starting them per test cost a password hash and a second each.
    private static FtpBalancer balancer;
    private static AdminServer admin;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private String base;
    private AdminServer other;

    @BeforeAll
    static void startBalancer() throws Exception {
        balancer = FtpBalancer.start(BalancerSettings.defaults()
                .withNode(NODE)
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withBackends(List.of(new BalancerSettings.BackendSpec("s1", new InetSocketAddress("127.0.0.1", 9), 1),
                        new BalancerSettings.BackendSpec("s2", new InetSocketAddress("127.0.0.1", 9), 1))));
        admin = startAdmin(Map.of());
    }

    @AfterAll
    static void stopBalancer() {
        if (admin != null) {
            admin.close();
        }
        if (balancer != null) {
            balancer.close();
        }
    }

    @BeforeEach
    void reset() {
        for (Backend b : balancer.status().backends()) {
            b.setAdminState(AdminState.READY);
            b.setWeight(1);
        }
        admin.throttle().succeeded(LOOPBACK);
        base = "http://127.0.0.1:" + admin.address().getPort();
        log.start();
        // Tests log at WARN (logback-test.xml); the admin lines asserted here are INFO.
        adminLogger().setLevel(Level.INFO);
        adminLogger().addAppender(log);
    }

    @AfterEach
    void detach() {
        adminLogger().detachAppender(log);
        adminLogger().setLevel(null);
        if (other != null) {
            other.close();
        }
    }

    private static AdminServer startAdmin(Map<String, HttpHandler> extra) throws Exception {
        // A first delay of 1 ms: failures are counted as usual but cost the tests no time.
        return AdminServer.start(balancer.status(), new AdminSettings(new InetSocketAddress("127.0.0.1", 0), USERS), extra,
                new LoginThrottle(System::nanoTime, 100, Duration.ofMillis(1)));
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static Logger adminLogger() {
        return (Logger) LoggerFactory.getLogger("ferry.balancer.admin");
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        return send("GET", path, null, headers);
    }

    private HttpResponse<String> postJson(String path, String body, String... headers) throws Exception {
        List<String> all = new ArrayList<>(List.of("Content-Type", "application/json"));
        all.addAll(List.of(headers));
        return send("POST", path, body, all.toArray(String[]::new));
    }

    private record Login(String cookie, String csrf) {}

    private Login login(String user, String password) throws Exception {
        HttpResponse<String> r = postJson("/api/login", "{\"user\":\"" + user + "\",\"password\":\"" + password + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        Matcher cookie = COOKIE.matcher(r.headers().firstValue("Set-Cookie").orElse(""));
        assertThat(cookie.matches()).as("Set-Cookie %s", r.headers().firstValue("Set-Cookie")).isTrue();
        Matcher csrf = CSRF.matcher(r.body());
        assertThat(csrf.find()).as(r.body()).isTrue();
        return new Login("ferry_admin=" + cookie.group(1), csrf.group(1));
    }

    private Backend backend(String name) {
        return balancer.status().backends().stream().filter(b -> b.name().equals(name)).findFirst().orElseThrow();
    }

    private List<String> lines(String event) {
        return logged().stream().filter(m -> m.contains("event=" + event)).toList();
    }

    /** The lines logged so far, copied under the appender's lock (server threads append to the list). */
    private List<String> logged() {
        synchronized (log) {
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** Sends raw bytes (paths HttpClient would not send as written) and returns the status line. */
    private String raw(String requestLine) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), admin.address().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write((requestLine + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            return response.lines().findFirst().orElse("");
        }
    }

    // ---- who gets in ------------------------------------------------------------------------------

    @Test
    void basicCredentialsGetTheStatus() throws Exception {
        HttpResponse<String> r = get("/api/status", "Authorization", basic("alice", ADMIN_PASSWORD));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(r.body()).startsWith("{\"now\":").contains("\"balancer\":{", "\"name\":\"s1\"", "\"name\":\"s2\"", "\"sessions\":[]");
    }

    @Test
    void withoutCredentialsA401WithABasicChallenge() throws Exception {
        HttpResponse<String> r = get("/api/status");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm=\"Ferry admin\", charset=\"UTF-8\"");
        assertThat(r.body()).contains("\"error\":");
        assertThat(lines("admin-login-failed")).as("asking without credentials is no failed login").isEmpty();
    }

    @Test
    void thePagesRequestsGetAChallengeBrowsersDoNotAnswerWithTheirDialog() throws Exception {
        HttpResponse<String> r = get("/api/status", "X-Requested-With", "fetch");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("FerryLogin realm=\"Ferry admin\"");
    }

    @ParameterizedTest
    @CsvSource({"alice, wrong-password", "nobody, " + ADMIN_PASSWORD, "alice, ''"})
    void wrongCredentialsA401AndOneLogLineWithoutThePassword(String user, String password) throws Exception {
        HttpResponse<String> r = get("/api/status", "Authorization", basic(user, password));
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).isPresent();
        assertThat(lines("admin-login-failed")).singleElement().satisfies(line -> {
            assertThat(line).startsWith("node=lb-test event=admin-login-failed client=127.0.0.1:").contains(" user=" + user + " ");
            if (!password.isEmpty()) {
                assertThat(line).doesNotContain(password);
            }
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"Bearer abc", "Basic !!!", "Basic bm9jb2xvbg=="})
    void malformedCredentialsAreWrongCredentials(String authorization) throws Exception {
        assertThat(get("/api/status", "Authorization", authorization).statusCode()).isEqualTo(401);
        assertThat(lines("admin-login-failed")).singleElement().asString().contains("user=-");
    }

    @Test
    void repeatedFailuresFromOneAddressAreSlowedDownMoreAndMore() throws Exception {
        InetAddress loopback = LOOPBACK;
        List<Duration> delays = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            assertThat(get("/api/status", "Authorization", basic("alice", "guess" + i)).statusCode()).isEqualTo(401);
            delays.add(admin.throttle().delayFor(loopback));
        }
        assertThat(delays).isSorted().doesNotHaveDuplicates();
        assertThat(delays.get(0)).isPositive();
        assertThat(postJson("/api/login", "{\"user\":\"alice\",\"password\":\"guess\"}").statusCode()).isEqualTo(401);
        assertThat(admin.throttle().delayFor(loopback)).as("form logins count too").isGreaterThan(delays.get(3));

        assertThat(get("/api/status", "Authorization", basic("alice", ADMIN_PASSWORD)).statusCode()).isEqualTo(200);
        assertThat(admin.throttle().delayFor(loopback)).as("a success starts from zero").isZero();
    }

    @Test
    void theDefaultThrottleStartsAtAQuarterSecond() {
        LoginThrottle t = new LoginThrottle();
        InetAddress a = InetAddress.getLoopbackAddress();
        t.failed(a);
        assertThat(t.delayFor(a)).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void theLoginFormGivesAnHttpOnlyStrictCookieAndACsrfToken() throws Exception {
        Login login = login("alice", ADMIN_PASSWORD);
        HttpResponse<String> who = get("/api/whoami", "Cookie", login.cookie());
        assertThat(who.statusCode()).isEqualTo(200);
        assertThat(who.body()).isEqualTo("{\"user\":\"alice\",\"role\":\"admin\",\"auth\":\"cookie\",\"csrf_token\":\"" + login.csrf() + "\"}");
        assertThat(get("/api/status", "Cookie", "other=1; " + login.cookie()).statusCode()).isEqualTo(200);
        assertThat(logged())
                .anyMatch(l -> l.startsWith("node=lb-test event=admin-login user=alice role=admin client=127.0.0.1:"));
    }

    @Test
    void aWrongFormLoginGetsNoCookie() throws Exception {
        HttpResponse<String> r = postJson("/api/login", "{\"user\":\"alice\",\"password\":\"nope\"}", "X-Requested-With", "fetch");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("FerryLogin realm=\"Ferry admin\"");
        assertThat(lines("admin-login-failed")).singleElement().asString().contains("user=alice").contains("via=form")
                .doesNotContain("nope");
    }

    @Test
    void aChangeWithTheCookieNeedsTheCsrfToken() throws Exception {
        Login login = login("alice", ADMIN_PASSWORD);
        String drain = "{\"state\":\"drain\"}";
        HttpResponse<String> none = postJson("/api/backends/s1/state", drain, "Cookie", login.cookie());
        assertThat(none.statusCode()).isEqualTo(403);
        assertThat(none.body()).contains("X-CSRF-Token");
        assertThat(postJson("/api/backends/s1/state", drain, "Cookie", login.cookie(), "X-CSRF-Token", login.csrf() + "x").statusCode())
                .isEqualTo(403);
        assertThat(backend("s1").adminState()).isEqualTo(AdminState.READY);

        HttpResponse<String> ok = postJson("/api/backends/s1/state", drain, "Cookie", login.cookie(), "X-CSRF-Token", login.csrf());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).startsWith("{\"name\":\"s1\"").contains("\"admin_state\":\"drain\"");
        assertThat(backend("s1").adminState()).isEqualTo(AdminState.DRAIN);
    }

    @Test
    void basicCredentialsNeedNoCsrfTokenAndEveryActionIsLogged() throws Exception {
        HttpResponse<String> r = postJson("/api/backends/s2/state", "{\"state\":\"maint\"}", "Authorization", basic("alice", ADMIN_PASSWORD));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(backend("s2").adminState()).isEqualTo(AdminState.MAINT);
        HttpResponse<String> w = postJson("/api/backends/s2/weight", "{\"weight\": 5}", "Authorization", basic("alice", ADMIN_PASSWORD));
        assertThat(w.statusCode()).isEqualTo(200);
        assertThat(w.body()).contains("\"weight\":5");
        assertThat(backend("s2").weight()).isEqualTo(5);
        assertThat(lines("admin-action")).satisfiesExactly(
                l -> assertThat(l).startsWith("node=lb-test event=admin-action user=alice action=backend-state target=s2 value=maint client=127.0.0.1:"),
                l -> assertThat(l).startsWith("node=lb-test event=admin-action user=alice action=backend-weight target=s2 value=5 client=127.0.0.1:"));
    }

    @Test
    void readOnlyUsersSeeEverythingAndChangeNothing() throws Exception {
        String reader = basic("reader", READER_PASSWORD);
        assertThat(get("/api/status", "Authorization", reader).statusCode()).isEqualTo(200);
        HttpResponse<String> state = postJson("/api/backends/s1/state", "{\"state\":\"drain\"}", "Authorization", reader);
        assertThat(state.statusCode()).isEqualTo(403);
        assertThat(state.body()).isEqualTo("{\"error\":\"user reader is read-only\"}");
        assertThat(postJson("/api/backends/s1/weight", "{\"weight\":3}", "Authorization", reader).statusCode()).isEqualTo(403);
        assertThat(send("DELETE", "/api/sessions/b1", null, "Authorization", reader).statusCode()).isEqualTo(403);

        Login login = login("reader", READER_PASSWORD);
        assertThat(postJson("/api/backends/s1/state", "{\"state\":\"drain\"}", "Cookie", login.cookie(), "X-CSRF-Token", login.csrf())
                .statusCode()).isEqualTo(403);
        assertThat(backend("s1").adminState()).isEqualTo(AdminState.READY);
        assertThat(backend("s1").weight()).isEqualTo(1);
        assertThat(lines("admin-action")).isEmpty();
    }

    @Test
    void logoutEndsTheLogin() throws Exception {
        Login login = login("alice", ADMIN_PASSWORD);
        assertThat(send("POST", "/api/logout", null, "Cookie", login.cookie()).statusCode()).as("needs the token").isEqualTo(403);
        HttpResponse<String> out = send("POST", "/api/logout", null, "Cookie", login.cookie(), "X-CSRF-Token", login.csrf());
        assertThat(out.statusCode()).isEqualTo(200);
        assertThat(out.headers().firstValue("Set-Cookie")).hasValueSatisfying(c -> assertThat(c).startsWith("ferry_admin=;").contains("Max-Age=0"));
        assertThat(get("/api/status", "Cookie", login.cookie()).statusCode()).isEqualTo(401);
    }

    // ---- bad requests -----------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            POST | /api/backends/nope/state | {"state":"drain"}          | 404 | no backend named nope
            POST | /api/backends/s1/state   | {"state":"drain"           | 400 | bad JSON at character 17
            POST | /api/backends/s1/state   | {"state":"off"}            | 400 | bad state; expected {\\"state\\": \\"ready\\"
            POST | /api/backends/s1/state   | {"state":"drain","x":1}    | 400 | unknown key \\"x\\"
            POST | /api/backends/s1/state   | {}                         | 400 | missing \\"state\\"
            POST | /api/backends/s1/weight  | {"weight":999}             | 400 | bad weight 999; expected a whole number from 0 to 256
            POST | /api/backends/s1/weight  | {"weight":-1}              | 400 | bad weight -1
            POST | /api/backends/s1/weight  | {"weight":"3"}             | 400 | bad weight \\"3\\"
            POST | /api/backends/s1/weight  | {"weight":2.5}             | 400 | bad weight 2.5
            POST | /api/backends/s1/weight  | {"weight":null}            | 400 | missing \\"weight\\"
            GET  | /api/backends/s1/weight  |                            | 405 | use POST here
            POST | /api/status              | {}                         | 405 | use GET here
            GET  | /api/nothing             |                            | 404 | no such API endpoint
            GET  | /api/backends/s1         |                            | 404 | no such API endpoint
            DELETE | /api/sessions/zz9      |                            | 404 | no live session zz9
            DELETE | /api/sessions/..%2f    |                            | 404 | no such API endpoint
            """)
    void badRequestsGetAClearJsonError(String method, String path, String body, int status, String message) throws Exception {
        List<String> headers = new ArrayList<>(List.of("Authorization", basic("alice", ADMIN_PASSWORD)));
        if (body != null) {
            headers.addAll(List.of("Content-Type", "application/json"));
        }
        HttpResponse<String> r = send(method, path, body, headers.toArray(String[]::new));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(r.body()).startsWith("{\"error\":\"").contains(message);
        assertThat(backend("s1").adminState()).isEqualTo(AdminState.READY);
        assertThat(backend("s1").weight()).isEqualTo(1);
    }

    @Test
    void wrongMethodsNameTheAllowedOne() throws Exception {
        HttpResponse<String> r = get("/api/backends/s1/state", "Authorization", basic("alice", ADMIN_PASSWORD));
        assertThat(r.headers().firstValue("Allow")).hasValue("POST");
    }

    @Test
    void aBodyThatIsNotJsonIs415() throws Exception {
        HttpResponse<String> r = send("POST", "/api/backends/s1/state", "state=drain",
                "Authorization", basic("alice", ADMIN_PASSWORD), "Content-Type", "application/x-www-form-urlencoded");
        assertThat(r.statusCode()).isEqualTo(415);
        assertThat(send("POST", "/api/backends/s1/state", "{\"state\":\"drain\"}", "Authorization", basic("alice", ADMIN_PASSWORD),
                "Content-Type", "text/plain").statusCode()).isEqualTo(415);
        assertThat(backend("s1").adminState()).isEqualTo(AdminState.READY);
    }

    @Test
    void anOversizedBodyIs413WhetherDeclaredOrStreamed() throws Exception {
        String big = "{\"state\":\"" + "x".repeat(Http.MAX_BODY) + "\"}";
        assertThat(postJson("/api/backends/s1/state", big, "Authorization", basic("alice", ADMIN_PASSWORD)).statusCode()).isEqualTo(413);

        HttpRequest chunked = HttpRequest.newBuilder(URI.create(base + "/api/backends/s1/state"))
                .headers("Authorization", basic("alice", ADMIN_PASSWORD), "Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8))))
                .build();
        HttpResponse<String> r = http.send(chunked, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(r.body()).contains("larger than 65536 bytes");
    }

    // ---- the page and its files -------------------------------------------------------------------

    @Test
    void theRootRedirectsToThePage() throws Exception {
        HttpResponse<String> r = get("/");
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(r.headers().firstValue("Location")).hasValue("/stats");
    }

    @Test
    void thePageIsHtmlA401WithItsLoginFormUntilLoggedIn() throws Exception {
        HttpResponse<String> anonymous = get("/stats");
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValue("FerryLogin realm=\"Ferry admin\"");
        assertThat(anonymous.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(anonymous.body()).contains("id=\"login-user\"", "id=\"login-password\"", "id=\"login-submit\"",
                "/static/stats.js", "/static/stats.css");

        assertThat(anonymous.body()).as("no figures before a login").doesNotContain("data-backend=", NODE, Version.text())
                .contains("<section id=\"dashboard\" hidden>");

        HttpResponse<String> known = get("/stats", "Authorization", basic("reader", READER_PASSWORD));
        assertThat(known.statusCode()).isEqualTo(200);
        assertThat(known.body()).contains("id=\"login-user\"", "/static/stats.js");
        Login login = login("alice", ADMIN_PASSWORD);
        assertThat(get("/stats", "Cookie", login.cookie()).statusCode()).isEqualTo(200);
    }

    @ParameterizedTest
    @CsvSource({"/static/stats.js, text/javascript; charset=utf-8", "/static/stats.css, text/css; charset=utf-8"})
    void theScriptAndStyleSheetAreServedWithTheirTypes(String path, String type) throws Exception {
        HttpResponse<String> r = get(path);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue(type);
        assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/static/../stats.html", "/static/..%2fstats.html", "/static/%2e%2e/stats.html", "/static/",
            "/static/stats.js/", "/static/./stats.js", "/static//stats.js", "/static/STATS.JS", "/stats.html", "/stats/x",
            "/dev/ferry/balancer/admin/stats.js", "/static/../../../../etc/passwd", "/favicon.ico"})
    void nothingElseIsServed(String path) throws Exception {
        assertThat(raw("GET " + path + " HTTP/1.1")).isEqualTo("HTTP/1.1 404 Not Found");
    }

    // ---- for scripts and terminals: HAProxy's CSV, the text table, the 404 list ----------------------

    @ParameterizedTest
    @ValueSource(strings = {"/stats;csv", "/stats?csv", "/;csv", "/stats;csv;norefresh"})
    void theCsvIsServedWhereHaproxyServesIt(String path) throws Exception {
        HttpResponse<String> r = get(path, "Authorization", basic("reader", READER_PASSWORD));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/csv; charset=utf-8; header=present");
        List<String> lines = r.body().lines().toList();
        assertThat(lines.get(0)).startsWith("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,");
        assertThat(lines).extracting(l -> l.split(",", -1)[1]).containsExactly("svname", "FRONTEND", "s1", "s2", "BACKEND");
        for (String line : lines) {
            assertThat(line.split(",", -1)).as(line).hasSize(StatsCsv.COLUMNS.size() + 1);
        }
    }

    @Test
    void theCsvNeedsCredentialsAndAsksForBasic() throws Exception {
        HttpResponse<String> r = get("/stats;csv");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).startsWith("Basic realm=\"Ferry admin\""));
        assertThat(r.body()).contains("curl -u USER:PASSWORD", "/stats;csv");
        assertThat(get("/stats;csv", "Authorization", basic("reader", "wrong")).statusCode()).isEqualTo(401);
    }

    @Test
    void curlGetsATextTableAndBrowsersThePage() throws Exception {
        HttpResponse<String> text = get("/stats", "Accept", "*/*", "Authorization", basic("reader", READER_PASSWORD));
        assertThat(text.statusCode()).isEqualTo(200);
        assertThat(text.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
        List<String> lines = text.body().lines().toList();
        assertThat(lines.get(0)).startsWith("name ").contains("status", "sessions", "bytes_in", "downtime_s");
        assertThat(lines).extracting(l -> l.split(" +")[0]).containsExactly("name", "FRONTEND", "s1", "s2", "BACKEND");

        assertThat(get("/stats", "Accept", "*/*").statusCode()).isEqualTo(401);
        HttpResponse<String> page = get("/stats", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8",
                "Authorization", basic("reader", READER_PASSWORD));
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    }

    @Test
    void healthNeedsNoLoginAndSays503WhenNoBackendTakesSessions() throws Exception {
        backend("s1").setAdminState(AdminState.MAINT);
        backend("s2").setAdminState(AdminState.DRAIN);

        HttpResponse<String> down = get("/health");
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).isEqualTo("down: 0 of 2 backends take sessions\n");
        assertThat(down.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(send("HEAD", "/health", null).statusCode()).isEqualTo(503);
        assertThat(send("POST", "/health", "").statusCode()).isEqualTo(405);
        assertThat(get("/health/x").statusCode()).isEqualTo(404);
        assertThat(get("/nope").body()).contains("/health ");
    }

    @Test
    void aMissingPathIsAnsweredWithThePathsThatExist() throws Exception {
        for (String path : List.of("/nope", "/static/nope.js", "/stats/x")) {
            HttpResponse<String> r = get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
            assertThat(r.body()).as(path).contains("/stats;csv", "/stats ", "/api/status", "docs/admin-api.md");
        }
        other = startAdmin(Map.of("/metrics", ex -> Http.text(ex, 200, "")));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + other.address().getPort()
                + "/nope")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).contains("/metrics", "Prometheus");
    }

    @Test
    void everyAnswerForbidsFramingSniffingAndForeignScripts() throws Exception {
        for (String path : List.of("/stats", "/static/stats.js", "/api/status", "/")) {
            HttpResponse<String> r = get(path);
            assertThat(r.headers().firstValue("Content-Security-Policy")).as(path).hasValueSatisfying(csp ->
                    assertThat(csp).contains("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"));
            assertThat(r.headers().firstValue("X-Frame-Options")).as(path).hasValue("DENY");
            assertThat(r.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
        }
    }

    @Test
    void thePageLoadsNothingFromElsewhereAndInsertsNoMarkup() throws Exception {
        String html = get("/stats").body();
        String js = get("/static/stats.js").body();
        String css = get("/static/stats.css").body();
        for (String text : List.of(html, js, css)) {
            // The SVG namespace is a name (createElementNS), not an address anything is loaded from.
            assertThat(text.replace("'http://www.w3.org/2000/svg'", "")).doesNotContain("http://", "https://", "//cdn", "@import");
        }
        assertThat(js).doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(");
        assertThat(html).doesNotContain("<script>").doesNotContain("style=\"").doesNotContain("onclick");
    }

    @Test
    void theLoggedInPageIsReadableWithoutItsScript() throws Exception {
        backend("s2").setAdminState(AdminState.MAINT);
        String html = get("/stats", "Accept", "text/html", "Authorization", basic("reader", READER_PASSWORD)).body();

        String title = "<title>Ferry balancer " + NODE + " · " + Version.text() + "</title>";
        assertThat(html).contains(title, "id=\"node\">" + NODE + "</span>", "id=\"version\">" + Version.text() + "</span>")
                .as("the dashboard is shown without a script").contains("<section id=\"dashboard\">")
                .doesNotContain("<section id=\"dashboard\" hidden>");
        assertThat(Version.text()).isNotEqualTo("unknown");
        // Each backend a row of its own, with its state and its session counts (now / total, peak).
        Matcher rows = Pattern.compile("<tr data-backend=\"(s[12])\" data-server>(.*?)</tr>").matcher(html);
        Map<String, String> byName = new LinkedHashMap<>();
        while (rows.find()) {
            byName.put(rows.group(1), rows.group(2));
        }
        assertThat(byName).containsOnlyKeys("s1", "s2");
        assertThat(byName.get("s2")).contains("<span class=\"badge backend-state state-maint\">maint</span>",
                "data-cell=\"sessions\" data-label=\"Sessions now / total\">0 / 0</td>",
                "data-cell=\"peak\" data-label=\"Peak\">0</td>", "data-cell=\"downtime\"", "data-cell=\"checks\"");
        assertThat(byName.get("s1")).contains("state-", "data-cell=\"sessions\" data-label=\"Sessions now / total\">0 / 0</td>");
    }

    @Test
    void aTextBrowserIsAskedForBasicCredentialsAndGraphicalOnesForThePagesLogin() throws Exception {
        HttpResponse<String> w3m = get("/stats", "User-Agent", "w3m/0.5.3+git20230121");
        assertThat(w3m.statusCode()).isEqualTo(401);
        assertThat(w3m.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).startsWith("Basic "));
        assertThat(get("/stats", "User-Agent", "Lynx/2.9.0dev.12 libwww-FM/2.14").headers().firstValue("WWW-Authenticate"))
                .hasValueSatisfying(h -> assertThat(h).startsWith("Basic "));
        assertThat(get("/stats", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 (like w3m/)")
                .headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).startsWith("FerryLogin "));

        String html = get("/stats", "User-Agent", "w3m/0.5.3", "Authorization", basic("reader", READER_PASSWORD)).body();
        assertThat(html).contains("id=\"sum-sessions\">0 / 0 / 2000</span>", "id=\"sum-mode\">leastconn · ");
    }

    @Test
    void theStatusNamesTheNodeAndVersionAndTheHistoryHasEveryBackend() throws Exception {
        String status = get("/api/status", "Authorization", basic("reader", READER_PASSWORD)).body();
        assertThat(status).contains("\"node\":\"" + NODE + "\"", "\"version\":\"" + Version.text() + "\"",
                "\"sessions_peak\":", "\"checks_failed\":", "\"check_downs\":", "\"downtime_seconds\":");
        HttpResponse<String> history = get("/api/history", "Authorization", basic("reader", READER_PASSWORD));
        assertThat(history.statusCode()).isEqualTo(200);
        assertThat(history.body()).startsWith("{\"interval_seconds\":30.0,\"capacity\":120,\"backends\":[")
                .contains("\"name\":\"s1\",\"at\":[", "\"name\":\"s2\",\"at\":[");
        assertThat(get("/api/history").statusCode()).isEqualTo(401);
    }

    @Test
    void headGetsTheHeadersOnly() throws Exception {
        HttpResponse<String> r = send("HEAD", "/api/status", null, "Authorization", basic("alice", ADMIN_PASSWORD));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEmpty();
    }

    // ---- extra handlers (the place for /metrics) -----------------------------------------------------

    @Test
    void extraHandlersAreServedWithoutCredentials() throws Exception {
        other = startAdmin(Map.of("/metrics", ex -> {
            byte[] body = "# metrics\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }));
        base = "http://127.0.0.1:" + other.address().getPort();
        HttpResponse<String> r = get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("# metrics\n");
        assertThat(get("/api/status").statusCode()).as("the API still needs credentials").isEqualTo(401);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/stats", "/api/", "/api/metrics", "/static/", "metrics"})
    void extraHandlersCannotTakeOurPaths(String path) {
        assertThatThrownBy(() -> startAdmin(Map.of(path, ex -> ex.close())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(path);
    }

    @Test
    void thereIsNoListenerWithoutAUser() {
        assertThatThrownBy(() -> AdminServer.start(balancer.status(), new AdminSettings(new InetSocketAddress("127.0.0.1", 0), List.of()), Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no default password");
        assertThatThrownBy(() -> AdminServer.start(balancer.status(), AdminSettings.OFF, Map.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aTakenAddressFailsClearly() {
        assertThatThrownBy(() -> AdminServer.start(balancer.status(), new AdminSettings(admin.address(), USERS), Map.of()))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("cannot listen on 127.0.0.1:" + admin.address().getPort() + " for the admin page");
    }

    @Test
    void theUrlNamesThePage() {
        assertThat(admin.url()).isEqualTo("http://127.0.0.1:" + admin.address().getPort() + "/stats");
    }
}
