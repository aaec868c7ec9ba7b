package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.protocol.proxy.ProxyHeader;
import dev.ferry.protocol.proxy.ProxyProtocol;
import dev.ferry.testkit.Scrape;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real launcher, {@code <repo>/ferry server}, as an operator runs it: a separate process that
 * prints its "listening" line on stdout and serves real clients until it is stopped. (The launcher
 * builds first when the build is stale; under {@code ./build verify} the jar is already built.)
 */
class LauncherTest {

    /** Generous: the launcher builds the jar itself when run outside a full build. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);

    private Path work;
    private Process process;

    @BeforeEach
    void workDirectory() throws IOException {
        work = Files.createTempDirectory("ferry-it-launcher-");
    }

    @AfterEach
    void stop() throws Exception {
        Launcher.stop(process);   // SIGTERM: the shutdown hook closes the server
        FerryServerExtension.deleteTree(work);
    }

    /** Starts the launcher and returns its stdout lines up to its ready line. */
    private List<String> start(Path dir, String... args) throws Exception {
        Launcher.Started started = Launcher.start(dir, work.resolve("stderr.txt"), START_TIMEOUT, args);
        process = started.process();
        return started.stdout();
    }

    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void servesCurlWithTheGivenUserAndStopsOnSigterm() throws Exception {
        int port = TestData.freePort();
        Path root = Files.createDirectories(work.resolve("served"));
        Files.writeString(root.resolve("from-launcher.txt"), "hello");

        List<String> out = start(work, "server", "--listen", "127.0.0.1:" + port, "--root", root.toString(), "--user", "u:p");
        assertThat(out).anyMatch(l -> l.contains("listening on 127.0.0.1:" + port + ", serving " + root));

        ExternalCommand.Result listing = ExternalCommand.run(work, Duration.ofSeconds(30), Map.of(),
                List.of("curl", "-sS", "--max-time", "20", "-u", "u:p", "ftp://127.0.0.1:" + port + "/")).assertSuccess();
        assertThat(listing.stdout().lines()).anyMatch(l -> l.endsWith(" from-launcher.txt"));

        process.destroy();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("the server stops on SIGTERM").isTrue();
    }

    /**
     * With no arguments the server serves ./ftp-root on 127.0.0.1:2121 with a generated password. If
     * 2121 is taken on this machine the test passes only --listen, keeping everything else default.
     */
    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void withoutArgumentsPrintsAGeneratedPasswordThatLogsIn() throws Exception {
        boolean defaultPortFree = isFree(2121);
        int port = defaultPortFree ? 2121 : TestData.freePort();
        List<String> out = defaultPortFree ? start(work, "server") : start(work, "server", "--listen", "127.0.0.1:" + port);
        if (!defaultPortFree) {
            System.out.println("LauncherTest: port 2121 is in use here; ran `ferry server --listen 127.0.0.1:" + port + "`");
        }

        assertThat(out).anyMatch(l -> l.contains("listening on 127.0.0.1:" + port));
        Matcher m = Pattern.compile("user: ferry\\s+password: (\\S+)").matcher(String.join("\n", out));
        assertThat(m.find()).as("a generated password in %s", out).isTrue();
        String password = m.group(1);
        assertThat(work.resolve("ftp-root")).isDirectory();

        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.connect("127.0.0.1", port);
        try {
            assertThat(c.login("ferry", "not-" + password)).isFalse();
            assertThat(c.login("ferry", password)).as(c.getReplyString()).isTrue();
            assertThat(c.printWorkingDirectory()).isEqualTo("/");
        } finally {
            c.disconnect();
        }
    }

    /** --proxy-protocol-from: the listed network must send a PROXY header first; anyone else is greeted at once. */
    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void proxyProtocolFromAsksOnlyTheGivenNetworkForAHeader() throws Exception {
        int port = TestData.freePort();
        start(work, "server", "--listen", "127.0.0.1:" + port, "--root", work.toString(), "--user", "u:p",
                "--proxy-protocol-from", "127.0.0.1/32");
        byte[] header = ProxyProtocol.encodeV2(new ProxyHeader(new InetSocketAddress("192.0.2.1", 50001),
                new InetSocketAddress("127.0.0.1", port)));

        try (RawFtp balancer = RawFtp.connect(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("127.0.0.1"), port)) {
            balancer.sendRaw(header);
            balancer.expect(220);
            balancer.login("u", "p");
            assertThat(balancer.command("STAT", 211).lines()).contains(" Connected from 192.0.2.1");
        }
        try (RawFtp outsider = RawFtp.connect(TestData.secondLoopback(), InetAddress.getByName("127.0.0.1"), port)) {
            outsider.expect(220);
        }
    }

    /** --metrics: Prometheus text at /metrics on its own port, counting what the FTP port served. */
    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void metricsFlagServesPrometheusTextOnItsOwnPort() throws Exception {
        int port = TestData.freePort();
        int metricsPort = TestData.freePort();
        List<String> out = start(work, "server", "--listen", "127.0.0.1:" + port, "--root", work.toString(), "--user", "u:p",
                "--metrics", "127.0.0.1:" + metricsPort);
        String url = "http://127.0.0.1:" + metricsPort + "/metrics";
        assertThat(out).contains("  metrics: " + url);

        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.connect("127.0.0.1", port);
        try {
            assertThat(c.login("u", "p")).isTrue();
        } finally {
            c.disconnect();
        }

        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
            assertThat(Scrape.parse(r.body()).value("ferry_server_logins_total{result=\"ok\"}")).isEqualTo(1);

            HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
        }
    }

    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void aProxyProtocolFromThatIsNoNetworkStopsTheStart() throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(work, START_TIMEOUT, Map.of(), List.of(Launcher.script().toString(),
                "server", "--root", work.toString(), "--proxy-protocol-from", "10.1.0.0/8"));

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("ferry server: --proxy-protocol-from: expected a network such as 10.0.0.0/8 or fd00::/8, got '10.1.0.0/8'");
    }

    /** The benchmark's way (shared/bench lib/tls.sh): an RSA 2048 certificate from openssl, given with --tls-cert/--tls-key. */
    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void servesFtpsWithAnOpensslCertificateAsTheBenchmarkMakesIt() throws Exception {
        int port = TestData.freePort();
        Path cert = work.resolve("ferry.crt");
        Path key = work.resolve("ferry.key");
        ExternalCommand.run(work, Duration.ofSeconds(60), Map.of(), List.of("openssl", "req", "-x509", "-newkey", "rsa:2048",
                "-sha256", "-nodes", "-days", "30", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", key.toString(), "-out", cert.toString())).assertSuccess();
        Path root = Files.createDirectories(work.resolve("served"));
        Files.writeString(root.resolve("f.txt"), "hello");

        List<String> out = start(work, "server", "--listen", "127.0.0.1:" + port, "--root", root.toString(), "--user", "u:p",
                "--tls-cert", cert.toString(), "--tls-key", key.toString());

        assertThat(out).anyMatch(l -> l.matches("  tls: certificate " + Pattern.quote(cert.toString()) + " SHA256(:[0-9A-F]{2}){32}"));
        ExternalCommand.Result listing = ExternalCommand.run(work, Duration.ofSeconds(30), Map.of(), List.of("curl", "-sS",
                "--max-time", "20", "--disable-epsv", "--ssl-reqd", "--cacert", cert.toString(), "-u", "u:p", "-l",
                "ftp://127.0.0.1:" + port + "/")).assertSuccess();
        assertThat(listing.stdout().lines()).containsExactly("f.txt");
    }

    /** Without --tls-cert: a self-signed certificate beside the root, the same one on the next start. */
    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void theSelfSignedCertificateIsKeptBesideTheRootAndReused() throws Exception {
        Path root = Files.createDirectories(work.resolve("served"));
        String[] args = {"server", "--listen", "127.0.0.1:" + TestData.freePort(), "--root", root.toString(), "--user", "u:p"};
        List<String> first = start(work, args);
        Launcher.stop(process);
        List<String> second = start(work, args);

        String fingerprint = first.stream().filter(l -> l.startsWith("  tls: self-signed certificate SHA256:")).findFirst()
                .orElseThrow(() -> new AssertionError("no fingerprint line in " + first));
        assertThat(second).contains(fingerprint);
        assertThat(Files.getPosixFilePermissions(work.resolve("ferry-selfsigned-key.pem")))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertThat(root.resolve("ferry-selfsigned-key.pem")).doesNotExist();
    }

    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void aKeyThatIsNotTheCertificatesStopsTheStart() throws Exception {
        Path cert = work.resolve("a.crt");
        ExternalCommand.run(work, Duration.ofSeconds(60), Map.of(), List.of("openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", "/CN=a",
                "-keyout", work.resolve("a.key").toString(), "-out", cert.toString())).assertSuccess();
        ExternalCommand.run(work, Duration.ofSeconds(60), Map.of(), List.of("openssl", "genpkey", "-algorithm", "EC",
                "-pkeyopt", "ec_paramgen_curve:P-256", "-out", work.resolve("b.key").toString())).assertSuccess();

        ExternalCommand.Result r = ExternalCommand.run(work, START_TIMEOUT, Map.of(), List.of(Launcher.script().toString(),
                "server", "--root", work.toString(), "--tls-cert", cert.toString(), "--tls-key", work.resolve("b.key").toString()));

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("ferry server: tls: the private key does not belong to the certificate in " + cert);
    }

    private static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.isBound();
        } catch (IOException e) {
            return false;
        }
    }
}
