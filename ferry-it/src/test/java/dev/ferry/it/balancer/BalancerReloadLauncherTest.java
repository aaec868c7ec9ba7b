package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.FerryServerExtension;
import dev.ferry.it.Launcher;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.FtpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ./ferry balancer --config FILE} as an operator runs it: the file is edited, then SIGHUP (what
 * systemd's ExecReload sends) or {@code POST /api/reload} applies it; a broken file is refused with a
 * clear log line and the running configuration stays; a session open across reloads is not dropped.
 */
@Timeout(value = 200, unit = TimeUnit.SECONDS)
class BalancerReloadLauncherTest {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);
    private static final String ADMIN_PASSWORD = "reload-Pa55";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<FtpServer> servers = new ArrayList<>();
    private Path work;
    private Process process;

    @BeforeEach
    void start() throws IOException {
        work = Files.createTempDirectory("ferry-it-reload-");
        Path root = Files.createDirectories(work.resolve("root"));
        for (int i = 0; i < 2; i++) {
            servers.add(FtpServer.start(FerryServerExtension.defaults(root).withListen(new InetSocketAddress("127.0.0.1", 0))));
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (process != null) {
            Launcher.stop(process);
        }
        servers.forEach(FtpServer::close);
        TestData.deleteTree(work);
    }

    private String config(int port, int adminPort, String backends) {
        return """
                balancer:
                  listen: 127.0.0.1:%d
                  backends:
                %s
                  check:
                    type: ftp
                    interval: 500ms
                  admin:
                    listen: 127.0.0.1:%d
                    users:
                      - name: ops
                        password-hash: "%s"
                        role: admin
                """.formatted(port, backends, adminPort, PasswordHasher.hash(ADMIN_PASSWORD.toCharArray()));
    }

    private String backend(String name, int index, int weight) {
        return "    - name: %s\n      address: 127.0.0.1:%d\n      weight: %d".formatted(name, servers.get(index).port(), weight);
    }

    private List<String> log() throws IOException {
        return Files.readAllLines(work.resolve("stderr.txt"));
    }

    private void hangUp() throws Exception {
        Launcher.hangUp(process);
    }

    private HttpResponse<String> api(int adminPort, String method, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        ("ops:" + ADMIN_PASSWORD).getBytes(StandardCharsets.UTF_8)))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void sighupAndTheApiApplyTheEditedFileAndABrokenFileChangesNothing() throws Exception {
        int port = TestData.freePort();
        int adminPort = TestData.freePort();
        Path file = work.resolve("ferry.yaml");
        Files.writeString(file, config(port, adminPort, backend("s1", 0, 1)));
        process = Launcher.start(work, work.resolve("stderr.txt"), START_TIMEOUT, "balancer", "--config", file.toString())
                .process();

        try (RawFtp session = RawFtp.loggedIn(port, FerryServerExtension.USER, FerryServerExtension.PASSWORD)) {
            // 1. A broken file: refused, named, and s1 alone still serves.
            Files.writeString(file, config(port, adminPort, backend("s1", 0, 1) + "\n      colour: blue"));
            hangUp();
            TestData.within(Duration.ofSeconds(20), "the refused reload is logged", () -> log().stream()
                    .anyMatch(l -> l.contains("event=reload-failed") && l.contains("colour")));
            session.command("NOOP", 200);

            // 2. s2 added with SIGHUP.
            Files.writeString(file, config(port, adminPort, backend("s1", 0, 1) + "\n" + backend("s2", 1, 1)));
            hangUp();
            TestData.within(Duration.ofSeconds(20), "the reload is logged", () -> log().stream()
                    .anyMatch(l -> l.contains("event=reload added=s2")));
            assertThat(api(adminPort, "GET", "/api/status").body()).contains("\"s2\"");

            // 3. s1 removed through the API: retired, its open session goes on.
            Files.writeString(file, config(port, adminPort, backend("s2", 1, 3)));
            HttpResponse<String> reloaded = api(adminPort, "POST", "/api/reload");
            assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
            assertThat(reloaded.body()).contains("\"retired\":[\"s1\"]");
            session.command("NOOP", 200);
            session.command("QUIT", 221);
        }
        TestData.within(Duration.ofSeconds(20), "the retired backend leaves once empty", () -> log().stream()
                .anyMatch(l -> l.contains("event=backend-removed backend=s1")));
        try (RawFtp fresh = RawFtp.loggedIn(port, FerryServerExtension.USER, FerryServerExtension.PASSWORD)) {
            fresh.command("NOOP", 200);
            // Logged-in sessions only: a health check's session (greeting, FEAT, QUIT) may be there too.
            assertThat(servers.get(1).context().sessions().sessions()).as("the new session is on s2")
                    .filteredOn(s -> FerryServerExtension.USER.equals(s.user())).hasSize(1);
        }

        // 4. The API says clearly when the file is wrong, and keeps the running configuration.
        Files.writeString(file, "balancer: [\n");
        HttpResponse<String> rejected = api(adminPort, "POST", "/api/reload");
        assertThat(rejected.statusCode()).isEqualTo(422);
        assertThat(rejected.body()).contains("configuration rejected").contains("ferry.yaml");
        assertThat(api(adminPort, "GET", "/api/status").body()).contains("\"s2\"");
    }


}
