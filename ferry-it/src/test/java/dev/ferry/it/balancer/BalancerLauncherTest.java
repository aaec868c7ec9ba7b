package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.Launcher;
import dev.ferry.it.TestData;
import java.io.IOException;
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
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code <repo>/ferry cluster} as an operator runs it: a separate process serving curl through its balancer. */
class BalancerLauncherTest {

    /** Generous: the launcher builds the jar itself when run outside a full build. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);

    private Path work;
    private Process process;

    @BeforeEach
    void workDirectory() throws IOException {
        work = Files.createTempDirectory("ferry-it-cluster-");
    }

    @AfterEach
    void stop() throws Exception {
        Launcher.stop(process);   // SIGTERM: the shutdown hook closes the server
        TestData.deleteTree(work);
    }

    /** Starts {@code ferry cluster} and returns its stdout up to its "stop with Ctrl-C" line. */
    private List<String> start(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("cluster"));
        all.addAll(List.of(args));
        Launcher.Started started = Launcher.start(work, work.resolve("stderr.txt"), START_TIMEOUT, all.toArray(String[]::new));
        process = started.process();
        return started.stdout();
    }

    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void clusterServesCurlListAndRetrWithTheGeneratedPassword() throws Exception {
        int port = TestData.freePort();
        Path root = Files.createDirectories(work.resolve("shared"));
        byte[] content = TestData.randomFile(root.resolve("through-cluster.bin"), 1_000_000, 9);

        // The admin page is tested below; off here, so the default port 8080 need not be free.
        List<String> out = start("--listen", "127.0.0.1:" + port, "--root", root.toString(), "--admin", "off");
        assertThat(out).anyMatch(l -> l.contains("balancer on 127.0.0.1:" + port));
        Matcher m = Pattern.compile("user: ferry\\s+password: (\\S+)").matcher(String.join("\n", out));
        assertThat(m.find()).as("a generated password in %s", out).isTrue();
        String credentials = "ferry:" + m.group(1);

        // From a client address of its own: the servers must see it (PROXY protocol from the balancer).
        ExternalCommand.Result listing = ExternalCommand.run(work, Duration.ofSeconds(30), Map.of(),
                List.of("curl", "-sS", "--max-time", "20", "--interface", "127.0.0.9", "-u", credentials,
                        "ftp://127.0.0.1:" + port + "/")).assertSuccess();
        assertThat(listing.stdout().lines()).anyMatch(l -> l.endsWith(" through-cluster.bin"));
        assertThat(Files.readAllLines(work.resolve("stderr.txt")))
                .as("a server's connect line names the client and the balancer it came through")
                .anyMatch(l -> l.contains("event=connect client=127.0.0.9:") && l.contains(" via=127.0.0.1:"));
        ExternalCommand.run(work, Duration.ofSeconds(30), Map.of(), List.of("curl", "-sS", "--max-time", "20",
                "-u", credentials, "-o", "fetched.bin", "ftp://127.0.0.1:" + port + "/through-cluster.bin")).assertSuccess();
        assertThat(TestData.sha256(work.resolve("fetched.bin"))).isEqualTo(TestData.sha256(content));

        process.destroy();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("the cluster stops on SIGTERM").isTrue();
    }

    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void clusterPrintsItsAdminPageWithAPasswordOfItsOwn() throws Exception {
        int port = TestData.freePort();
        int adminPort = TestData.freePort();
        List<String> out = start("--listen", "127.0.0.1:" + port, "--root", work.resolve("shared").toString(),
                "--admin", "127.0.0.1:" + adminPort);
        assertThat(out).as("the FTP lines stay as they were").anyMatch(l -> l.contains("balancer on 127.0.0.1:" + port))
                .anyMatch(l -> l.matches("\\s*user: ferry\\s+password: \\S+.*"));
        Matcher m = Pattern.compile("admin: (http://127\\.0\\.0\\.1:" + adminPort + "/stats)\\s+user: admin\\s+password: (\\S+)")
                .matcher(String.join("\n", out));
        assertThat(m.find()).as("the admin page's address and password in %s", out).isTrue();
        URI page = URI.create(m.group(1));
        String basic = "Basic " + Base64.getEncoder().encodeToString(("admin:" + m.group(2)).getBytes(StandardCharsets.UTF_8));

        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(page).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        HttpResponse<String> known = http.send(HttpRequest.newBuilder(page).header("Authorization", basic).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(known.statusCode()).isEqualTo(200);
        assertThat(known.body()).contains("id=\"login-user\"");
        HttpResponse<String> status = http.send(HttpRequest.newBuilder(page.resolve("/api/status")).header("Authorization", basic).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(status.body()).contains("\"name\":\"s1\"", "\"name\":\"s2\"");
    }

    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void clusterTerminatesFtpsWithASelfSignedCertificateKeptForTheNextStart() throws Exception {
        int port = TestData.freePort();
        Path root = Files.createDirectories(work.resolve("shared"));
        Files.writeString(root.resolve("hello.txt"), "hello\n");
        Pattern fingerprint = Pattern.compile("tls: FTPS terminated at the balancer .*(SHA256:[0-9A-F:]{95})");

        List<String> first = start("--listen", "127.0.0.1:" + port, "--root", root.toString(), "--admin", "off");
        Matcher m = fingerprint.matcher(String.join("\n", first));
        assertThat(m.find()).as("a fingerprint in %s", first).isTrue();
        String printed = m.group(1);
        Matcher password = Pattern.compile("user: ferry\\s+password: (\\S+)").matcher(String.join("\n", first));
        assertThat(password.find()).isTrue();
        ExternalCommand.Result got = ExternalCommand.run(work, Duration.ofSeconds(30), Map.of(), List.of("curl", "-sS", "-v",
                "--max-time", "20", "--ssl-reqd", "-k", "-u", "ferry:" + password.group(1), "ftp://127.0.0.1:" + port + "/hello.txt"))
                .assertSuccess();
        assertThat(got.stdout()).isEqualTo("hello\n");
        assertThat(got.stderr()).contains("> AUTH SSL", "> PROT P");
        assertThat(work.resolve("ferry-selfsigned-key.pem")).as("kept beside the root, not inside it").exists();
        Launcher.stop(process);

        List<String> second = start("--listen", "127.0.0.1:" + port, "--root", root.toString(), "--admin", "off");
        assertThat(String.join("\n", second)).contains(printed, "self-signed (reused ");
    }
}
