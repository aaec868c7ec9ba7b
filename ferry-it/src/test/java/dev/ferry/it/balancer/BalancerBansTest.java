package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.it.FerryServerExtension;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.runtime.limits.BanRules;
import dev.ferry.runtime.password.PasswordHasher;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Bans at the balancer, over real sockets (a balancer on 127.0.0.1 with two servers behind it): the balancer counts
 * the failed logins it relays per real client address, refuses a banned address at connect without dialling a
 * backend, serves another address (127.0.0.2) as before, and the admin API lists, makes and lifts bans, with the
 * roles' rules.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BalancerBansTest {

    private static final String ADMIN = "ops";
    private static final String ADMIN_PASSWORD = "ops-Pa55word";
    private static final String VIEWER = "watcher";
    private static final String VIEWER_PASSWORD = "watch-Pa55word";
    private static final String BANNED = "421 Too many failed logins from your address; try again later.";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private BalancerCluster cluster;
    private AdminServer admin;
    private InetAddress other;

    @AfterEach
    void stop() throws IOException {
        if (admin != null) {
            admin.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Two failures within a minute ban for ten; the servers ban nobody (they see only the balancer here). */
    private void start() throws IOException {
        other = TestData.secondLoopback();
        cluster = BalancerCluster.start(s -> s.withLoginPolicy(FerryServerExtension.FAST_LOGIN_POLICY),
                s -> s.withBans(new BanRules(2, Duration.ofMinutes(1), Duration.ofMinutes(10))));
        admin = AdminServer.start(cluster.balancer().status(), new AdminSettings(new InetSocketAddress("127.0.0.1", 0),
                List.of(new AdminSettings.User(ADMIN, PasswordHasher.hash(ADMIN_PASSWORD.toCharArray()), AdminSettings.Role.ADMIN),
                        new AdminSettings.User(VIEWER, PasswordHasher.hash(VIEWER_PASSWORD.toCharArray()),
                                AdminSettings.Role.READ_ONLY))), Map.of());
    }

    private HttpResponse<String> send(String user, String password, String method, String path, String json)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.address().getPort() + path))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        (user + ":" + password).getBytes(StandardCharsets.UTF_8)))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> asAdmin(String method, String path, String json) throws Exception {
        return send(ADMIN, ADMIN_PASSWORD, method, path, json);
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> bans(String user, String password) throws Exception {
        HttpResponse<String> r = send(user, password, "GET", "/api/bans", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        Map<String, Object> body = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(r.body());
        return (List<Map<String, Object>>) body.get("bans");
    }

    private long backendSessions() {
        return cluster.backend(0).totalSessions() + cluster.backend(1).totalSessions();
    }

    /** Two wrong passwords from 127.0.0.1 through the balancer: the second starts the ban and ends the session. */
    private void guessTwice() throws IOException {
        try (RawFtp ftp = RawFtp.greeted(cluster.port())) {
            ftp.command("USER " + BalancerCluster.USER, 331);
            ftp.command("PASS wrong-1", 530);
            ftp.command("USER " + BalancerCluster.USER, 331);
            ftp.command("PASS wrong-2", 530);
            assertThat(ftp.reply().toString()).as("the ban holds at once").isEqualTo(BANNED);
            assertThat(ftp.closedByServer()).isTrue();
        }
    }

    private void assertRefused(InetAddress from) throws IOException {
        long before = backendSessions();
        try (RawFtp ftp = RawFtp.connect(from, InetAddress.getByName("127.0.0.1"), cluster.port())) {
            assertThat(ftp.reply().toString()).isEqualTo(BANNED);
            assertThat(ftp.closedByServer()).isTrue();
        }
        assertThat(backendSessions()).as("no backend was dialled").isEqualTo(before);
    }

    private void assertServed(InetAddress from) throws IOException {
        try (RawFtp ftp = RawFtp.connect(from, InetAddress.getByName("127.0.0.1"), cluster.port())) {
            ftp.expect(220);
            ftp.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
            ftp.command("NOOP", 200);
            ftp.command("QUIT", 221);
        }
    }

    @Test
    void repeatedWrongPasswordsBanTheAddressAtTheBalancerAndLiftingLetsItInAtOnce() throws Exception {
        start();
        InetAddress local = InetAddress.getByName("127.0.0.1");
        guessTwice();

        assertRefused(local);
        assertThat(cluster.logLines()).anySatisfy(l -> assertThat(l).contains("event=refused").contains("reason=banned")
                .contains("client=127.0.0.1:"));
        assertServed(other);

        List<Map<String, Object>> listed = bans(VIEWER, VIEWER_PASSWORD);
        assertThat(listed).singleElement().satisfies(b -> {
            assertThat(b).containsEntry("address", "127.0.0.1").containsEntry("failures", 2)
                    .containsEntry("reason", "failed-logins").containsEntry("origin", "lb");
            assertThat(((Number) b.get("seconds_left")).longValue()).isBetween(590L, 600L);
        });

        HttpResponse<String> refused = send(VIEWER, VIEWER_PASSWORD, "DELETE", "/api/bans/127.0.0.1", null);
        assertThat(refused.statusCode()).as("a viewer cannot lift a ban").isEqualTo(403);
        assertRefused(local);

        HttpResponse<String> lifted = asAdmin("DELETE", "/api/bans/127.0.0.1", null);
        assertThat(lifted.statusCode()).as(lifted.body()).isEqualTo(200);
        assertThat(cluster.logLines()).anySatisfy(l -> assertThat(l).contains("event=ban-lifted").contains("admin=ops")
                .contains("address=127.0.0.1"));
        assertServed(local);
        assertThat(bans(ADMIN, ADMIN_PASSWORD)).isEmpty();
        assertThat(asAdmin("DELETE", "/api/bans/127.0.0.1", null).statusCode()).as("nothing left to lift").isEqualTo(404);
    }

    @Test
    void anOperatorBansAnAddressByHandAndAViewerCannot() throws Exception {
        start();
        String body = "{\"address\": \"127.0.0.2\", \"duration\": \"2h\", \"reason\": \"abuse report 42\"}";
        assertThat(send(VIEWER, VIEWER_PASSWORD, "POST", "/api/bans", body).statusCode()).isEqualTo(403);
        assertServed(other);

        HttpResponse<String> made = asAdmin("POST", "/api/bans", body);
        assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
        assertThat(cluster.logLines()).anySatisfy(l -> assertThat(l).contains("event=ban-added").contains("admin=ops")
                .contains("address=127.0.0.2").contains("duration_s=7200"));
        assertRefused(other);
        assertServed(InetAddress.getByName("127.0.0.1"));
        assertThat(bans(VIEWER, VIEWER_PASSWORD)).singleElement().satisfies(b -> assertThat(b)
                .containsEntry("address", "127.0.0.2").containsEntry("failures", 0)
                .containsEntry("reason", "abuse report 42").containsEntry("origin", "ops@lb"));

        assertThat(asAdmin("POST", "/api/bans", "{\"address\": \"example.com\", \"duration\": 60}").statusCode())
                .as("a host name is not an address").isEqualTo(400);
        assertThat(asAdmin("POST", "/api/bans", "{\"address\": \"127.0.0.3\", \"duration\": \"forever\"}").statusCode())
                .isEqualTo(400);
        assertThat(asAdmin("POST", "/api/bans", "{\"address\": \"127.0.0.3\", \"duration\": 0}").statusCode())
                .isEqualTo(400);
    }

    @Test
    @SuppressWarnings("unchecked")
    void theStatusShowsTheSessionsPerUserTheBalancerSees() throws Exception {
        start();
        try (RawFtp first = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD);
             RawFtp second = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            first.command("NOOP", 200);
            second.command("NOOP", 200);
            HttpResponse<String> r = asAdmin("GET", "/api/status", null);
            Map<String, Object> status = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(r.body());
            assertThat((List<Map<String, Object>>) status.get("user_sessions"))
                    .containsExactly(Map.of("user", BalancerCluster.USER, "sessions", 2));
        }
        TestData.await("the ended sessions leave the count", () -> {
            HttpResponse<String> r = asAdmin("GET", "/api/status", null);
            Map<String, Object> status = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(r.body());
            return ((List<?>) status.get("user_sessions")).isEmpty();
        });
    }
}
