package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.config.ServerConfigFile;
import dev.ferry.database.DatabaseSettings;
import dev.ferry.server.FtpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.testkit.PostgresServer;
import dev.ferry.runtime.password.PasswordHasher;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The balancer's {@code /api/users} over real HTTP, against a private PostgreSQL that a {@code ferry server} with
 * {@code users: database} (in this JVM) also uses: an account added through the API logs in with Commons Net at once,
 * a disable refuses its next login, a password reset works at once; viewers only see; the page's CSRF token is
 * required with the login cookie; each change logs one {@code event=user-...} line without a password; bad input is a
 * 4xx saying why. {@code ferry users set} changes the same columns, and {@code show} prints them.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BalancerUsersApiTest {

    private static final String ADMIN = "ops";
    private static final String ADMIN_PASSWORD = "ops-Pa55word";
    private static final String VIEWER = "watcher";
    private static final String VIEWER_PASSWORD = "watch-Pa55word";

    @TempDir
    Path dir;
    private PostgresServer pg;
    private FtpServer server;
    private FtpBalancer balancer;
    private AdminServer admin;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void tearDown() throws Exception {
        ((Logger) LoggerFactory.getLogger("ferry.balancer.admin")).detachAppender(log);
        if (admin != null) {
            admin.close();
        }
        if (balancer != null) {
            balancer.close();
        }
        if (server != null) {
            server.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    private void start(boolean withDatabase) throws Exception {
        log.start();
        ((Logger) LoggerFactory.getLogger("ferry.balancer.admin")).addAppender(log);
        Path root = Files.createDirectories(dir.resolve("root"));
        InetSocketAddress backend;
        DatabaseSettings db = null;
        if (withDatabase) {
            pg = PostgresServer.create();
            Path file = DatabaseUsersServerTest.config(dir, pg, root, "");
            server = FtpServer.start(ServerConfigFile.load(file, ServerSettings.defaults(root)));
            backend = server.address();
            db = new DatabaseSettings(pg.url(), pg.user(), pg.passwordFile());
        } else {
            backend = new InetSocketAddress("127.0.0.1", 9);   // never dialled: no client connects in that test
        }
        BalancerSettings settings = BalancerSettings.defaults().withListen(new InetSocketAddress("127.0.0.1", 0))
                .withBackends(List.of(new BalancerSettings.BackendSpec("s1", backend, 1)))
                .withPassivePorts(0, 0).withNode("lb").withDatabase(db);
        balancer = FtpBalancer.start(settings);
        admin = AdminServer.start(balancer.status(), new AdminSettings(new InetSocketAddress("127.0.0.1", 0), List.of(
                new AdminSettings.User(ADMIN, PasswordHasher.hash(ADMIN_PASSWORD.toCharArray()), AdminSettings.Role.ADMIN),
                new AdminSettings.User(VIEWER, PasswordHasher.hash(VIEWER_PASSWORD.toCharArray()),
                        AdminSettings.Role.READ_ONLY))), Map.of());
    }

    private HttpResponse<String> send(String user, String password, String method, String path, String json)
            throws Exception {
        HttpRequest.Builder b = request(method, path, json).header("Authorization", "Basic "
                + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String method, String path, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.address().getPort() + path))
                .timeout(Duration.ofSeconds(20))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        return b;
    }

    private HttpResponse<String> asAdmin(String method, String path, String json) throws Exception {
        return send(ADMIN, ADMIN_PASSWORD, method, path, json);
    }

    private List<String> userLines() {
        synchronized (log) {
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).filter(l -> l.contains("event=user-")).toList();
        }
    }

    /** The reply to PASS after USER at the server (230 in, 530 refused). */
    private int login(String user, String password) throws Exception {
        FTPClient ftp = new FTPClient();
        ftp.setConnectTimeout(10_000);
        ftp.setDefaultTimeout(10_000);
        ftp.connect("127.0.0.1", server.port());
        ftp.setSoTimeout(10_000);
        try {
            ftp.user(user);
            return ftp.pass(password);
        } finally {
            ftp.disconnect();
        }
    }

    /** {@code expected} within 2 s: a change reaches the server by NOTIFY at the commit, a login may just beat it. */
    private int loginUntil(int expected, String user, String password) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        int reply = login(user, password);
        while (reply != expected && System.nanoTime() < deadline) {
            Thread.sleep(5);
            reply = login(user, password);
        }
        return reply;
    }

    private static String generated(String body) {
        Matcher m = Pattern.compile("\"password\":\"([A-Za-z0-9_-]{24})\"").matcher(body);
        assertThat(m.find()).as(body).isTrue();
        return m.group(1);
    }

    @Test
    void accountsMadeThroughTheApiLogInAtTheServerAndChangesApplyAtOnce() throws Exception {
        start(true);
        assertThat(asAdmin("GET", "/api/users", null).body()).isEqualTo("{\"users\":[]}");

        // added with a password made for us, shown once; it logs in at the server with users: database
        HttpResponse<String> added = asAdmin("POST", "/api/users",
                "{\"name\": \"carol\", \"quota_bytes\": \"10MiB\", \"quota_files\": 100, \"max_sessions\": 2}");
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
        assertThat(added.body()).contains("\"name\":\"carol\"", "\"enabled\":true", "\"access\":\"read-write\"",
                "\"home\":\"carol\"", "\"quota\":{\"bytes\":10485760,\"files\":100}", "\"max_sessions\":2",
                "\"password_generated\":true").doesNotContain("argon2", "hash");
        String made = generated(added.body());
        Files.createDirectories(dir.resolve("root/carol"));
        assertThat(login("carol", made)).isEqualTo(230);
        assertThat(asAdmin("POST", "/api/users", "{\"name\": \"carol\", \"password\": \"x-Pa55\"}").statusCode()).isEqualTo(409);

        // listed and shown, to a viewer too; never a hash
        HttpResponse<String> listed = send(VIEWER, VIEWER_PASSWORD, "GET", "/api/users", null);
        assertThat(listed.statusCode()).isEqualTo(200);
        assertThat(listed.body()).contains("\"name\":\"carol\"").doesNotContain("$argon2", made);
        assertThat(send(VIEWER, VIEWER_PASSWORD, "GET", "/api/users/carol", null).body()).contains("\"files\":100");
        assertThat(asAdmin("GET", "/api/users/nobody", null).statusCode()).isEqualTo(404);

        // a viewer changes nothing
        assertThat(send(VIEWER, VIEWER_PASSWORD, "POST", "/api/users/carol/disable", "{}").statusCode()).isEqualTo(403);
        assertThat(send(VIEWER, VIEWER_PASSWORD, "POST", "/api/users", "{\"name\": \"eve\"}").statusCode()).isEqualTo(403);
        assertThat(send(VIEWER, VIEWER_PASSWORD, "DELETE", "/api/users/carol", null).statusCode()).isEqualTo(403);
        assertThat(login("carol", made)).isEqualTo(230);

        // disabled: the next login is refused; enabled again: in
        HttpResponse<String> disabled = asAdmin("POST", "/api/users/carol/disable", "{}");
        assertThat(disabled.statusCode()).as(disabled.body()).isEqualTo(200);
        assertThat(disabled.body()).contains("\"enabled\":false");
        assertThat(loginUntil(530, "carol", made)).isEqualTo(530);
        assertThat(asAdmin("POST", "/api/users/carol/enable", "{}").statusCode()).isEqualTo(200);
        assertThat(loginUntil(230, "carol", made)).isEqualTo(230);
        // a cross-site form cannot send the JSON type: no body, no change
        assertThat(asAdmin("POST", "/api/users/carol/disable", null).statusCode()).isEqualTo(415);

        // password reset, given and made: the old one stops working at once
        assertThat(asAdmin("POST", "/api/users/carol/password", "{\"password\": \"n3w-Carol-pw\"}").body())
                .contains("\"password_generated\":false").doesNotContain("n3w-Carol-pw");
        assertThat(loginUntil(530, "carol", made)).isEqualTo(530);
        assertThat(login("carol", "n3w-Carol-pw")).isEqualTo(230);
        String again = generated(asAdmin("POST", "/api/users/carol/password", "{}").body());
        assertThat(loginUntil(230, "carol", again)).isEqualTo(230);
        assertThat(login("carol", "n3w-Carol-pw")).isEqualTo(530);

        // quota and limits
        assertThat(asAdmin("PUT", "/api/users/carol/quota", "{\"bytes\": \"1GiB\"}").body())
                .contains("\"quota\":{\"bytes\":1073741824,\"files\":100}");
        assertThat(asAdmin("PUT", "/api/users/carol/limits", "{\"upload_rate\": \"1MiB\", \"max_sessions\": 0}").body())
                .contains("\"bandwidth\":{\"upload\":1048576,\"download\":0}", "\"max_sessions\":0");

        // bad input, each with its reason
        HttpResponse<String> badName = asAdmin("POST", "/api/users", "{\"name\": \"a b\"}");
        assertThat(badName.statusCode()).isEqualTo(400);
        assertThat(badName.body()).contains("\\\"name\\\" must be 1 to 64");
        assertThat(asAdmin("POST", "/api/users", "{\"name\": \"dave\", \"quota_bytes\": \"10MB\"}").body())
                .contains("quota_bytes").contains("10GiB");
        assertThat(asAdmin("POST", "/api/users", "{\"name\": \"dave\", \"home\": \"../etc\"}").statusCode()).isEqualTo(400);
        assertThat(asAdmin("POST", "/api/users", "{\"name\": \"dave\", \"color\": \"red\"}").statusCode()).isEqualTo(400);
        assertThat(asAdmin("PUT", "/api/users/carol/quota", "{\"files\": -1}").statusCode()).isEqualTo(400);
        assertThat(asAdmin("PUT", "/api/users/nobody/quota", "{\"files\": 1}").statusCode()).isEqualTo(404);
        assertThat(asAdmin("POST", "/api/users/nobody/disable", "{}").statusCode()).isEqualTo(404);
        assertThat(asAdmin("GET", "/api/users/carol/quota", null).statusCode()).isEqualTo(405);

        // ferry users sees and changes the same account
        Path config = dir.resolve("ferry.yaml");
        DatabaseUsersServerTest.Run set = DatabaseUsersServerTest.users("", "set", "carol", "--config", config.toString(),
                "--download-rate", "4MiB", "--rights", "/=list,download;/incoming=list,upload", "--read-only");
        assertThat(set.exitCode()).as(set.err()).isZero();
        assertThat(asAdmin("GET", "/api/users/carol", null).body()).contains("\"access\":\"read-only\"",
                "\"bandwidth\":{\"upload\":1048576,\"download\":4194304}", "\"rights\":\"/=list,download;/incoming=list,upload\"");
        DatabaseUsersServerTest.Run shown = DatabaseUsersServerTest.users("", "show", "carol", "--config", config.toString());
        assertThat(shown.out()).contains("quota:     1073741824 bytes, 100 files", "bandwidth: up 1048576 B/s, down 4194304 B/s",
                "rights:    /=list,download;/incoming=list,upload", "access:    read-only");
        assertThat(DatabaseUsersServerTest.users("", "set", "carol", "--config", config.toString(), "--quota-files", "x")
                .err()).contains("--quota-files: expected a whole number");
        DatabaseUsersServerTest.Run dave = DatabaseUsersServerTest.users("d4ve-pw\n", "add", "dave", "--config",
                config.toString(), "--password-stdin", "--quota-files", "7", "--max-sessions", "3", "--upload-rate", "2KiB");
        assertThat(dave.exitCode()).as(dave.err()).isZero();
        assertThat(asAdmin("GET", "/api/users/dave", null).body()).contains("\"quota\":{\"bytes\":0,\"files\":7}",
                "\"bandwidth\":{\"upload\":2048,\"download\":0}", "\"max_sessions\":3");
        assertThat(login("dave", "d4ve-pw")).isEqualTo(230);

        // the page's login: the cookie alone is not enough for a change, the CSRF token is
        HttpResponse<String> page = http.send(request("POST", "/api/login",
                "{\"user\": \"" + ADMIN + "\", \"password\": \"" + ADMIN_PASSWORD + "\"}").build(),
                HttpResponse.BodyHandlers.ofString());
        String cookie = page.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
        Matcher token = Pattern.compile("\"csrf_token\":\"([^\"]+)\"").matcher(page.body());
        assertThat(token.find()).isTrue();
        assertThat(http.send(request("DELETE", "/api/users/carol", null).header("Cookie", cookie).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(403);
        HttpResponse<String> removed = http.send(request("DELETE", "/api/users/carol", null).header("Cookie", cookie)
                .header("X-CSRF-Token", token.group(1)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);
        assertThat(loginUntil(530, "carol", again)).isEqualTo(530);
        assertThat(asAdmin("DELETE", "/api/users/carol", null).statusCode()).isEqualTo(404);

        // one audit line per change, naming admin and user, never a password
        List<String> lines = userLines();
        assertThat(lines).extracting(l -> l.replaceAll(".*event=(user-[a-z-]+).*", "$1")).containsExactly(
                "user-added", "user-disabled", "user-enabled", "user-password-reset", "user-password-reset", "user-quota",
                "user-limits", "user-removed");
        assertThat(lines).allSatisfy(l -> assertThat(l).contains("admin=" + ADMIN, "user=carol")
                .doesNotContain(made, again, "n3w-Carol-pw", "$argon2"));
    }

    @Test
    void withoutADatabaseTheApiSaysSo() throws Exception {
        start(false);
        HttpResponse<String> r = asAdmin("GET", "/api/users", null);
        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(r.body()).contains("no database", "balancer.database");
        assertThat(asAdmin("POST", "/api/users", "{\"name\": \"carol\"}").statusCode()).isEqualTo(409);
    }
}
