package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.admin.AdminServer;
import dev.ferry.balancer.admin.AdminSettings;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.runtime.password.PasswordHasher;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
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
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The admin API against a real cluster (two servers and a balancer, round robin) with real FTP
 * sessions: what the status says about them, and what draining, a weight and ending a session do
 * to what clients see.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdminApiTest {

    private static final String ADMIN = "ops";
    private static final String ADMIN_PASSWORD = "ops-Pa55word";
    private static final String ADMIN_HASH = PasswordHasher.hash(ADMIN_PASSWORD.toCharArray());

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private BalancerCluster cluster;
    private AdminServer admin;

    @AfterEach
    void stop() throws IOException {
        if (admin != null) {
            admin.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private void start() throws IOException {
        cluster = BalancerCluster.start(s -> s.withBalance(BalancerSettings.Balance.ROUNDROBIN));
        admin = AdminServer.start(cluster.balancer().status(), new AdminSettings(new InetSocketAddress("127.0.0.1", 0),
                List.of(new AdminSettings.User(ADMIN, ADMIN_HASH, AdminSettings.Role.ADMIN))), Map.of());
    }

    // ---- HTTP ------------------------------------------------------------------------------------

    private HttpResponse<String> send(String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.address().getPort() + path))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        (ADMIN + ":" + ADMIN_PASSWORD).getBytes(StandardCharsets.UTF_8)))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GET /api/status, read with a YAML 1.2 parser (JSON is a subset of it). */
    @SuppressWarnings("unchecked")
    private Map<String, Object> status() throws Exception {
        HttpResponse<String> r = send("GET", "/api/status", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(r.body());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) {
        return (List<Map<String, Object>>) o;
    }

    private static long number(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).longValue();
    }

    private Map<String, Object> backend(Map<String, Object> status, String name) {
        return list(status.get("backends")).stream().filter(b -> b.get("name").equals(name)).findFirst().orElseThrow();
    }

    /** The status entry of the session whose client is {@code ftp}'s socket. */
    private Map<String, Object> sessionOf(Map<String, Object> status, RawFtp ftp) {
        String client = "127.0.0.1:" + ftp.socket().getLocalPort();
        return list(status.get("sessions")).stream().filter(s -> s.get("client").equals(client)).findFirst()
                .orElseThrow(() -> new AssertionError("no session of " + client + " in " + status.get("sessions")));
    }

    private RawFtp session() throws IOException {
        return RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD);
    }

    /** One short session: log in, NOOP, QUIT, and wait until the balancer closed the connection. */
    private void shortSession() throws IOException {
        try (RawFtp ftp = session()) {
            ftp.command("NOOP", 200);
            ftp.command("QUIT", 221);
            assertThat(ftp.closedByServer()).isTrue();
        }
    }

    // ---- the status ------------------------------------------------------------------------------

    @Test
    void theStatusShowsTheBalancerItsBackendsAndTheLiveSessions() throws Exception {
        start();
        TestData.await("a check heard each backend's FEAT",
                () -> cluster.backend(0).features() != null && cluster.backend(1).features() != null);
        byte[] file = TestData.randomFile(cluster.root().resolve("small.bin"), 100_000, 1);
        try (RawFtp first = session(); RawFtp second = session()) {
            first.command("NOOP", 200);
            // A whole download inside a live session: its bytes count before the session ends.
            InetSocketAddress data = second.pasv();
            assertThat(number(map(status().get("balancer")), "passive_ports_in_use")).as("a PASV port awaits its connection").isEqualTo(1);
            try (Socket in = new Socket(data.getAddress(), data.getPort())) {
                second.command("RETR small.bin", 150);
                assertThat(in.getInputStream().readAllBytes()).hasSize(file.length);
            }
            second.expect(226);

            Map<String, Object> status = status();
            Map<String, Object> balancer = map(status.get("balancer"));
            assertThat(balancer.get("listen")).isEqualTo("127.0.0.1:" + cluster.port());
            assertThat(number(balancer, "sessions_now")).isEqualTo(2);
            assertThat(number(balancer, "sessions_max")).isEqualTo(2000);
            assertThat(number(balancer, "sessions_total")).isGreaterThanOrEqualTo(2);
            assertThat(number(balancer, "queued")).isZero();
            assertThat(number(balancer, "bytes_out")).isGreaterThanOrEqualTo(file.length);
            assertThat(number(balancer, "passive_ports_in_use")).isZero();
            assertThat(balancer.get("passive_ports_range")).isEqualTo("any");
            assertThat(balancer.get("relay_mode")).isIn("splice", "copy");
            assertThat(balancer.get("balance")).isEqualTo("roundrobin");
            assertThat(balancer).containsKeys("uptime_seconds", "started_at", "session_rate", "bytes_in", "passive_ports_size");

            List<Map<String, Object>> backends = list(status.get("backends"));
            assertThat(backends).extracting(b -> b.get("name")).containsExactly("s1", "s2");
            for (Map<String, Object> b : backends) {
                assertThat(b.get("status")).isEqualTo("up");
                assertThat(b.get("state")).isEqualTo("up");
                assertThat(b.get("admin_state")).isEqualTo("ready");
                assertThat(number(b, "weight")).isEqualTo(1);
                assertThat(number(b, "sessions_now")).as("round robin: one each").isEqualTo(1);
                assertThat(b).containsKeys("address", "state_since", "in_state_seconds", "check", "sessions_total",
                        "transfers", "bytes_up", "bytes_down", "errors", "retries");
                // What the ftp check heard from the Ferry server's FEAT.
                assertThat(b.get("features")).asInstanceOf(InstanceOfAssertFactories.LIST).contains("MFMT", "AUTH TLS")
                        .anyMatch(f -> f.toString().startsWith("HASH SHA-256*;"));
            }

            Map<String, Object> one = sessionOf(status, first);
            Map<String, Object> two = sessionOf(status, second);
            assertThat(one.get("user")).isEqualTo(BalancerCluster.USER);
            assertThat(one.get("command")).isEqualTo("NOOP");
            assertThat(two.get("command")).isEqualTo("RETR");
            assertThat(two.get("transferring")).isEqualTo(false);
            assertThat(number(two, "transfers")).isEqualTo(1);
            assertThat(number(two, "bytes_down")).isEqualTo(file.length);
            assertThat(List.of(one.get("backend"), two.get("backend"))).containsExactlyInAnyOrder("s1", "s2");
            Map<String, Object> servedSecond = backend(status, (String) two.get("backend"));
            assertThat(number(servedSecond, "transfers")).isEqualTo(1);
            assertThat(number(servedSecond, "bytes_down")).isEqualTo(file.length);
            assertThat(status.get("sessions_omitted")).isEqualTo(0);
        }
        TestData.await("the sessions ended", () -> list(status().get("sessions")).isEmpty());
        Map<String, Object> after = status();
        assertThat(number(map(after.get("balancer")), "sessions_now")).isZero();
        assertThat(number(map(after.get("balancer")), "bytes_out")).as("kept when the session ended").isGreaterThanOrEqualTo(100_000);
    }

    @Test
    void theStatusCountsRefusalsByReasonAndLoginTimeoutsWithTheLimitsInForce() throws Exception {
        start();
        BalancerSettings running = cluster.balancer().status().settings();
        cluster.balancer().reload(running.withMaxSessionsPerAddress(1)
                .withTimeouts(running.timeouts().withLogin(Duration.ofSeconds(1))));
        try (RawFtp first = session(); RawFtp second = RawFtp.connect(cluster.port());
             RawFtp silent = RawFtp.connect(TestData.secondLoopback(), InetAddress.getByName("127.0.0.1"), cluster.port())) {
            assertThat(second.reply().code()).as("over the per-address limit").isEqualTo(421);
            silent.expect(220);
            assertThat(silent.reply().text()).isEqualTo("Login timeout; closing the connection.");
            first.command("NOOP", 200);

            Map<String, Object> balancer = map(status().get("balancer"));
            assertThat(number(balancer, "sessions_per_address_max")).isEqualTo(1);
            assertThat(map(balancer.get("refused"))).isEqualTo(Map.of("max_sessions", 0, "queue_timeout", 0, "max_per_address", 1));
            assertThat(map(balancer.get("timeouts"))).isEqualTo(Map.of("login", 1, "client_idle", 0));
        }
    }

    @Test
    void aTransferInProgressShowsItsBytesSoFar() throws Exception {
        start();
        TestData.randomFile(cluster.root().resolve("big.bin"), 32 << 20, 2);
        try (RawFtp ftp = session()) {
            InetSocketAddress data = ftp.pasv();
            try (Socket in = new Socket(data.getAddress(), data.getPort())) {
                in.setReceiveBufferSize(64 * 1024);
                ftp.command("RETR big.bin", 150);
                // Nothing is read here, so the relay stalls once the socket buffers are full.
                TestData.await("the status shows the transfer", () -> {
                    Map<String, Object> s = sessionOf(status(), ftp);
                    return Boolean.TRUE.equals(s.get("transferring")) && number(s, "transfer_bytes") > 0;
                });
                Map<String, Object> s = sessionOf(status(), ftp);
                assertThat(s.get("command")).isEqualTo("RETR");
                assertThat(number(s, "transfer_bytes")).isLessThan(32 << 20);
            }
        }
    }

    // ---- actions -------------------------------------------------------------------------------

    @Test
    void drainingABackendSendsNewSessionsToTheOtherAndLetsItsOwnFinish() throws Exception {
        start();
        Backend s1 = cluster.backend(0);
        Backend s2 = cluster.backend(1);
        try (RawFtp a = session(); RawFtp b = session()) {
            RawFtp onS1 = sessionOf(status(), a).get("backend").equals("s1") ? a : b;

            HttpResponse<String> drained = send("POST", "/api/backends/s1/state", "{\"state\": \"drain\"}");
            assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
            assertThat(s1.adminState()).isEqualTo(AdminState.DRAIN);
            assertThat(backend(status(), "s1").get("status")).isEqualTo("drain");

            long s1Before = s1.totalSessions();
            long s2Before = s2.totalSessions();
            for (int i = 0; i < 4; i++) {
                shortSession();
            }
            assertThat(s1.totalSessions()).as("no new session on the drained s1").isEqualTo(s1Before);
            assertThat(s2.totalSessions() - s2Before).isEqualTo(4);
            onS1.command("NOOP", 200);   // its own session goes on

            assertThat(send("POST", "/api/backends/s1/state", "{\"state\": \"ready\"}").statusCode()).isEqualTo(200);
            for (int i = 0; i < 4; i++) {
                shortSession();
            }
            assertThat(s1.totalSessions() - s1Before).as("back in the rotation").isEqualTo(2);
        }
    }

    @Test
    void aNewWeightAppliesToTheNextSessions() throws Exception {
        start();
        Backend s1 = cluster.backend(0);
        Backend s2 = cluster.backend(1);
        HttpResponse<String> r = send("POST", "/api/backends/s2/weight", "{\"weight\": 3}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(number(backend(status(), "s2"), "weight")).isEqualTo(3);

        long s1Before = s1.totalSessions();
        long s2Before = s2.totalSessions();
        for (int i = 0; i < 8; i++) {
            shortSession();
        }
        // Smooth weighted round robin: exactly 3:1.
        assertThat(s2.totalSessions() - s2Before).isEqualTo(6);
        assertThat(s1.totalSessions() - s1Before).isEqualTo(2);

        assertThat(send("POST", "/api/backends/s2/weight", "{\"weight\": 0}").statusCode()).isEqualTo(200);
        s2Before = s2.totalSessions();
        for (int i = 0; i < 3; i++) {
            shortSession();
        }
        assertThat(s2.totalSessions()).as("weight 0 takes no new sessions").isEqualTo(s2Before);
    }

    @Test
    void endingASessionTellsTheClient421AndClosesIt() throws Exception {
        start();
        try (RawFtp victim = session(); RawFtp bystander = session()) {
            String id = (String) sessionOf(status(), victim).get("id");

            HttpResponse<String> r = send("DELETE", "/api/sessions/" + id, null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            assertThat(r.body()).isEqualTo("{\"id\":\"" + id + "\",\"ending\":true}");

            victim.timeout(Duration.ofSeconds(5));
            RawFtp.Reply reply = victim.reply();
            assertThat(reply.code()).isEqualTo(421);
            assertThat(reply.text()).contains("ended by an administrator");
            assertThat(victim.closedByServer()).isTrue();
            bystander.command("NOOP", 200);

            TestData.await("the session left the status", () -> list(status().get("sessions")).size() == 1);
            HttpResponse<String> again = send("DELETE", "/api/sessions/" + id, null);
            assertThat(again.statusCode()).isEqualTo(404);
        }
    }
}
