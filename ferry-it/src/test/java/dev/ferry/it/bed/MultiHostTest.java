package dev.ferry.it.bed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.TestData;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Ferry on several machines ({@link TestBed}): real launchers on separate hosts, real clients on a client
 * host, everything through a balancer that sends PROXY v2 headers (proxy-protocol.txt §2.2) to servers
 * that trust only the balancer hosts. The servers share one root directory ({@link BedFixture}): namespaces
 * share the file system, which stands in here for a shared file system (NFS, CephFS) mounted on every server
 * host.
 *
 * <p>Order matters only for the last two tests: one kills a server host, the other stops lb1.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiHostTest {

    private static final String PORT = BedFixture.PORT;
    private static final String USER = BedFixture.USER;
    private static final String PASSWORD = BedFixture.PASSWORD;
    private static final List<String> SERVERS = BedFixture.SERVERS;
    private static final String CLIENT = BedFixture.CLIENT;

    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(40);
    /** lb1's --grace: how long its sessions may go on once it is told to stop (test 7). */
    private static final Duration GRACE = Duration.ofSeconds(6);
    private static final String ADMIN = "127.0.0.1:8080";

    private static BedFixture fixture;
    private static TestBed bed;
    private static Path work;
    private static Path root;
    private static Path cert;
    private static String dataSum;

    @BeforeAll
    static void buildTheBed() throws Exception {
        fixture = BedFixture.create("bed");
        bed = fixture.bed();
        work = fixture.work();
        root = fixture.root();
        dataSum = TestData.sha256(fixture.writeRandom("data.bin", 3 * 1024 * 1024 + 17, 13));
        cert = fixture.certificate();

        Map<String, List<String>> servers = new LinkedHashMap<>();
        for (String s : SERVERS) {
            // Only the balancer hosts may say who the client is (PROXY protocol); anyone else is refused one.
            servers.put(s, fixture.serverArgs(s,
                    "--proxy-protocol-from", TestBed.address("lb1") + "/32",
                    "--proxy-protocol-from", TestBed.address("lb2") + "/32"));
        }
        fixture.startAll(servers);
        List<String> lb1 = new ArrayList<>(List.of("balancer", "--listen", TestBed.address("lb1") + ":" + PORT));
        lb1.addAll(BedFixture.backendArgs(SERVERS));
        lb1.addAll(List.of("--balance", "roundrobin",
                "--check", "ftp", "--check-interval", "300ms", "--rise", "1", "--fall", "2",
                "--proxy-protocol", "v2",
                "--tls-cert", cert.toString(), "--tls-key", fixture.certificateKey().toString(),
                "--grace", GRACE.toSeconds() + "s",
                // On loopback, as docs/admin-api.md advises: only a check on lb1 itself (keepalived's) dials /health.
                "--admin", ADMIN, "--admin-user", "ops:ops-Pa55-word:read-only",
                "--node", "lb1"));
        fixture.start("lb1", lb1.toArray(String[]::new));
        awaitLog("lb1", "every backend up", log -> SERVERS.stream().allMatch(s -> log.contains("event=features backend=" + s)));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    // ---- a. curl and ftplib through lb1 ------------------------------------------------------

    @Test
    @Order(1)
    void curlDownloadsAndUploadsInEveryDataModeThroughTheBalancer() throws Exception {
        String url = "ftp://" + TestBed.address("lb1") + ":" + PORT + "/";
        // curl: EPSV by default; --disable-epsv: PASV; --ftp-port: EPRT, and with --disable-eprt: PORT (RFC 2428, RFC 959).
        Map<String, List<String>> modes = Map.of(
                "epsv", List.of(),
                "pasv", List.of("--disable-epsv"),
                "eprt", List.of("--ftp-port", CLIENT),
                "port", List.of("--ftp-port", CLIENT, "--disable-eprt"));
        for (Map.Entry<String, List<String>> mode : modes.entrySet()) {
            Path got = work.resolve("curl-" + mode.getKey() + ".bin");
            curl(mode.getValue(), "-o", got.toString(), url + "data.bin");
            assertThat(TestData.sha256(got)).as("download, %s", mode.getKey()).isEqualTo(dataSum);

            curl(mode.getValue(), "-T", root.resolve("data.bin").toString(), url + "up-curl-" + mode.getKey() + ".bin");
            assertThat(TestData.sha256(root.resolve("up-curl-" + mode.getKey() + ".bin"))).as("upload, %s", mode.getKey()).isEqualTo(dataSum);
        }
        assertSessionsFromTheClientOnSeveralServers();
    }

    /**
     * ftplib chooses PASV and PORT on an IPv4 connection and keeps EPSV and EPRT (RFC 2428) for IPv6; a subclass
     * overriding its two data-connection hooks (makepasv, makeport) speaks EPSV and EPRT over IPv4, which is what
     * a client that prefers the extended commands everywhere does (curl, lftp). Its debug output shows the
     * commands sent and the replies, so the test checks the mode used, not only the bytes.
     */
    private static final String FTPLIB = """
            import ftplib, hashlib, socket, sys
            host, port, user, password, mode, name, source = sys.argv[1:8]
            class Extended(ftplib.FTP):
                def makepasv(self):
                    # RFC 2428 §3: 229 carries only the port; the host is the one the control connection reached.
                    return ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())
                def makeport(self):
                    # RFC 2428 §2: EPRT |1|address|port| for IPv4, the address this end of the control connection has.
                    listener = socket.create_server((self.sock.getsockname()[0], 0), family=socket.AF_INET, backlog=1)
                    host, port = listener.getsockname()[:2]
                    self.voidcmd("EPRT |1|%s|%d|" % (host, port))
                    listener.settimeout(self.timeout)
                    return listener
            ftp = (Extended if mode in ("epsv", "eprt") else ftplib.FTP)(timeout=20)
            ftp.connect(host, int(port))
            ftp.login(user, password)
            ftp.set_pasv(mode in ("pasv", "epsv"))
            ftp.set_debuglevel(1)
            got = bytearray()
            ftp.retrbinary("RETR data.bin", got.extend)
            print("download", hashlib.sha256(got).hexdigest())
            with open(source, "rb") as f:
                ftp.storbinary("STOR " + name, f)
            print("stored", name)
            ftp.quit()
            """;

    @Test
    @Order(2)
    void ftplibDownloadsAndUploadsInEveryDataModeThroughTheBalancer() throws Exception {
        // What each mode's command and reply look like in ftplib's debug output (RFC 959 §4.1.2, RFC 2428).
        String clientPort = CLIENT.replace('.', ',') + ",";
        Map<String, List<String>> modes = Map.of(
                "pasv", List.of("*cmd* 'PASV'", "*resp* '227 "),
                "port", List.of("*cmd* 'PORT " + clientPort, "*resp* '200 "),
                "epsv", List.of("*cmd* 'EPSV'", "*resp* '229 "),
                "eprt", List.of("*cmd* 'EPRT |1|" + CLIENT + "|", "*resp* '200 "));
        for (Map.Entry<String, List<String>> mode : modes.entrySet()) {
            String name = "up-ftplib-" + mode.getKey() + ".bin";
            ExternalCommand.Result r = client(List.of("python3", "-c", FTPLIB, TestBed.address("lb1"), PORT, USER, PASSWORD,
                    mode.getKey(), name, root.resolve("data.bin").toString())).assertSuccess();
            assertThat(r.stdout()).as(r.describe("ftplib, " + mode.getKey()))
                    .contains(mode.getValue())
                    .contains("download " + dataSum).contains("stored " + name);
            assertThat(TestData.sha256(root.resolve(name))).as("upload, %s", mode.getKey()).isEqualTo(dataSum);
        }
        assertSessionsFromTheClientOnSeveralServers();
    }

    // ---- b. lftp with FTPS through lb1 -----------------------------------------------------

    @Test
    @Order(3)
    void lftpWithFtpsThroughTheBalancer() throws Exception {
        Path got = work.resolve("lftp.bin");
        String commands = String.join("; ",
                "set ssl:ca-file " + cert,
                "set ftp:ssl-force true",
                "set ftp:ssl-protect-data true",
                "set net:max-retries 1",
                "set net:timeout 15",
                "open -u " + USER + "," + PASSWORD + " ftp://" + TestBed.address("lb1") + ":" + PORT,
                "get data.bin -o " + got,
                "put " + root.resolve("data.bin") + " -o up-lftp.bin",
                "quit");
        client(List.of("lftp", "-c", commands)).assertSuccess();
        assertThat(TestData.sha256(got)).isEqualTo(dataSum);
        assertThat(TestData.sha256(root.resolve("up-lftp.bin"))).isEqualTo(dataSum);
        assertThat(fixture.get("lb1").logLines()).as("lb1 terminated the client's TLS")
                .anyMatch(l -> l.contains("event=tls client=" + CLIENT + ":") && l.contains("protocol=TLSv1."));
    }

    // ---- d. a server host added by reload --------------------------------------------------

    @Test
    @Order(4)
    void aServerHostAddedByReloadGetsSessions() throws Exception {
        Path config = work.resolve("lb2.yaml");
        Files.writeString(config, lb2Config(List.of("s1", "s2")));
        FerryOnHost lb2 = fixture.start("lb2", "balancer", "--config", config.toString());
        String url = "ftp://" + TestBed.address("lb2") + ":" + PORT + "/";
        for (int i = 0; i < 4; i++) {
            curl(List.of(), "-o", "/dev/null", url + "data.bin");
        }
        assertThat(clientSessions("s3", "lb2")).as("s3 is not lb2's yet").isZero();

        Files.writeString(config, lb2Config(SERVERS));
        lb2.hangUp();
        awaitLog("lb2", "the reload adding s3", log -> log.contains("event=reload") && log.contains("added=s3"));
        awaitLog("lb2", "s3 checked up", log -> log.contains("event=features backend=s3"));
        // Round robin over three: a few sessions must reach s3; bounded in count and time.
        for (int i = 0; i < 9 && clientSessions("s3", "lb2") == 0; i++) {
            curl(List.of(), "-o", "/dev/null", url + "data.bin");
        }
        assertThat(clientSessions("s3", "lb2")).as("sessions reach s3 after the reload\n" + lb2.describe()).isPositive();
    }

    private static String lb2Config(List<String> servers) {
        StringBuilder backends = new StringBuilder();
        for (String s : servers) {
            backends.append("    - name: ").append(s).append("\n      address: ").append(TestBed.address(s)).append(':').append(PORT)
                    .append('\n');
        }
        return """
                balancer:
                  node: lb2
                  listen: %s:%s
                  backends:
                %s  balance: roundrobin
                  check:
                    type: ftp
                    interval: 300ms
                    rise: 1
                    fall: 2
                  proxy-protocol: v2
                """.formatted(TestBed.address("lb2"), PORT, backends);
    }

    // ---- DNS round robin: several balancers, each with its own address ----------------------

    /**
     * The other shape issue 13 names: a name with several balancer addresses, each client on whichever it got.
     * Neither balancer sets public-address: PASV answers with the address the client reached (RFC 959 §4.1.2
     * leaves the host in 227 to the server), so a data connection never needs another balancer, and the
     * transfer's bytes come through the same one (checksums).
     */
    @Test
    @Order(5)
    void dnsRoundRobinEachBalancerAnswersPasvWithItsOwnAddress() throws Exception {
        for (String lb : List.of("lb1", "lb2")) {
            String address = TestBed.address(lb);
            Path got = work.resolve("rr-" + lb + ".bin");
            ExternalCommand.Result r = client(List.of("curl", "-sS", "-v", "--max-time", "30", "--disable-epsv",
                    "-u", USER + ":" + PASSWORD, "-o", got.toString(), "ftp://" + address + ":" + PORT + "/data.bin"));
            r.assertSuccess();
            assertThat(r.stderr()).as("PASV through %s", lb).contains("227 Entering Passive Mode (" + address.replace('.', ',') + ",");
            assertThat(TestData.sha256(got)).as("download through %s", lb).isEqualTo(dataSum);
        }
        long viaLb2 = SERVERS.stream().mapToLong(s -> {
            try {
                return clientSessions(s, "lb2");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).sum();
        assertThat(viaLb2).as("sessions the servers saw from the client through lb2").isPositive();
    }

    // ---- c. a server host killed mid-transfer ------------------------------------------------

    @Test
    @Order(6)
    void aServerHostKilledMidTransferFailsTheClientAndTheNextSessionGoesElsewhere() throws Exception {
        Path big = fixture.writeRandom("big.bin", 40L * 1024 * 1024, 5);
        Path got = work.resolve("big-got.bin");
        // Slow reading (TCP back-pressure reaches the server) keeps the transfer going while its host is killed.
        Process download = new ProcessBuilder(bed.on("client", "curl", "-sS", "--max-time", "60", "--limit-rate", "2M",
                "-u", USER + ":" + PASSWORD, "-o", got.toString(), "ftp://" + TestBed.address("lb1") + ":" + PORT + "/big.bin"))
                .redirectOutput(work.resolve("big-curl.out").toFile())
                .redirectError(work.resolve("big-curl.err").toFile())
                .start();
        bed.started(download);
        try {
            FerryOnHost victim = serverReading(big);
            long killed = System.nanoTime();
            victim.killHard();
            assertThat(download.waitFor(CLIENT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("curl ends").isTrue();
            String curlErr = Files.readString(work.resolve("big-curl.err"));
            assertThat(download.exitValue()).as("curl must report the failure, not success: %s", curlErr).isNotZero();
            assertThat(Files.exists(got) ? Files.size(got) : 0L).isLessThan(Files.size(big));

            awaitLog("lb1", victim.host() + " marked down", log -> log.contains("event=backend-down backend=" + victim.host()));
            // Measured for docs/deployment.md (what a server host's death costs): checks every 300 ms, fall 2.
            System.out.printf("MultiHostTest: %s killed (SIGKILL): lb1 marked it down after %d ms (check every 300 ms, fall 2)%n",
                    victim.host(), Duration.ofNanos(System.nanoTime() - killed).toMillis());
            Map<String, Long> before = new HashMap<>();
            for (String s : SERVERS) {
                before.put(s, clientSessions(s, "lb1"));
            }
            Path again = work.resolve("after-kill.bin");
            curl(List.of(), "-o", again.toString(), "ftp://" + TestBed.address("lb1") + ":" + PORT + "/data.bin");
            assertThat(TestData.sha256(again)).isEqualTo(dataSum);
            assertThat(SERVERS.stream().filter(s -> !s.equals(victim.host())).anyMatch(s -> {
                try {
                    return clientSessions(s, "lb1") > before.get(s);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            })).as("the new session ran on a live server").isTrue();
        } finally {
            ExternalCommand.kill(download);
        }
    }

    // ---- e. lb1 stopped gracefully (SIGTERM) --------------------------------------------------

    /** Logs in, says "ready"; on each line from stdin sends NOOP and says its reply; at EOF waits for the balancer to speak. */
    private static final String IDLE_SESSION = """
            import ftplib, sys, time
            host, port, user, password = sys.argv[1:5]
            ftp = ftplib.FTP(timeout=20)
            ftp.connect(host, int(port))
            ftp.login(user, password)
            print("ready", flush=True)
            for line in sys.stdin:
                print("noop", ftp.sendcmd("NOOP"), flush=True)
            started = time.monotonic()
            try:
                # Nothing asked: whatever comes now is the balancer's own word (RFC 959 §4.2: 421 may come at any time).
                print("unasked", ftp.getresp(), flush=True)
            except (OSError, EOFError, ftplib.Error) as e:
                print("unasked", type(e).__name__, str(e).strip(), "after %.1f s" % (time.monotonic() - started), flush=True)
            """;

    /**
     * The balancer's graceful stop (docs/balancer.md): on SIGTERM it closes its admin listener and its client
     * listener at once, so /health fails (keepalived moves the address away) and a new session is refused, lets
     * the sessions in progress go on for {@code --grace}, then tells the rest 421 and closes them.
     */
    @Test
    @Order(7)
    void sigtermOnLb1RefusesNewSessionsFinishesTheDownloadAndTellsTheIdleSession421AfterTheGrace() throws Exception {
        Path file = fixture.writeRandom("graceful.bin", 6L * 1024 * 1024, 7);
        String lb1 = TestBed.address("lb1");
        assertThat(health().exitCode()).as("lb1's /health before the stop").isZero();
        Process idle = fixture.clientProcess("graceful-idle", List.of("python3", "-c", IDLE_SESSION, lb1, PORT, USER, PASSWORD));
        BlockingQueue<String> idleOut = ExternalCommand.stdoutLines(idle);
        Process download = fixture.clientProcess("graceful-download",
                List.of("python3", "-c", ClientScripts.SLOW_DOWNLOAD, lb1, PORT, USER, PASSWORD, "graceful.bin"));
        BlockingQueue<String> downloadOut = ExternalCommand.stdoutLines(download);
        try (OutputStream idleIn = idle.getOutputStream()) {
            assertThat(idleOut.poll(20, TimeUnit.SECONDS)).as("the idle session logs in: %s", fixture.stderr("graceful-idle")).isEqualTo("ready");
            assertThat(downloadOut.poll(20, TimeUnit.SECONDS)).as("the download runs: %s", fixture.stderr("graceful-download"))
                    .isEqualTo("receiving");

            FerryOnHost balancer = fixture.get("lb1");
            long stopped = System.nanoTime();
            balancer.terminate();
            // Nothing more from the download yet: it was still running at the SIGTERM.
            boolean runningAtStop = downloadOut.isEmpty();
            ExternalCommand.Result health = awaitHealthFailing();
            long healthGone = System.nanoTime() - stopped;
            // curl's exit 7: could not connect; the admin listener is closed, not answering 503.
            assertThat(health.exitCode()).as(health.describe("/health during the stop")).isEqualTo(7);
            ExternalCommand.Result refused = client(List.of("curl", "-sS", "--max-time", "5", "-u", USER + ":" + PASSWORD,
                    "-o", "/dev/null", "ftp://" + lb1 + ":" + PORT + "/data.bin"));
            assertThat(refused.exitCode()).as(refused.describe("a new session during the stop")).isEqualTo(7);

            // The session logged in goes on during the grace: its commands are relayed as before.
            idleIn.write("noop\n".getBytes(StandardCharsets.US_ASCII));
            idleIn.flush();
            assertThat(idleOut.poll(10, TimeUnit.SECONDS)).as("NOOP during the grace").startsWith("noop 200");

            String downloaded = downloadOut.poll(CLIENT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            long downloadDone = System.nanoTime() - stopped;
            assertThat(downloaded).as("the download in progress finishes: %s", fixture.stderr("graceful-download"))
                    .isEqualTo("done " + Files.size(file) + " " + TestData.sha256(file) + " 226");
            assertThat(runningAtStop).as("the download was in progress at the SIGTERM").isTrue();

            idleIn.close();
            String told = idleOut.poll(GRACE.toSeconds() + 10, TimeUnit.SECONDS);
            long toldAt = System.nanoTime() - stopped;
            assertThat(told).as("what the idle session is told at the end of the grace: %s", fixture.stderr("graceful-idle"))
                    .isNotNull().startsWith("unasked error_temp 421");
            assertThat(balancer.awaitExit(Duration.ofSeconds(10))).as("lb1's balancer ends after the grace").isTrue();
            long exited = System.nanoTime() - stopped;
            System.out.printf("MultiHostTest: lb1 SIGTERM (grace %d s): /health refused after %d ms, the running download done after %d ms, "
                    + "the idle session told \"%s\" after %d ms, exit after %d ms%n", GRACE.toSeconds(), healthGone / 1_000_000,
                    downloadDone / 1_000_000, told, toldAt / 1_000_000, exited / 1_000_000);
            assertThat(toldAt).as("the idle session is not ended before the grace").isGreaterThanOrEqualTo(GRACE.toNanos());
            assertThat(balancer.logLines())
                    .anyMatch(l -> l.contains("event=stopping") && l.contains("grace_ms=" + GRACE.toMillis()))
                    .anyMatch(l -> l.contains("event=stop-closing") && l.contains("sessions=1"))
                    .anyMatch(l -> l.contains("event=stopped"));
        } finally {
            ExternalCommand.kill(download);
            ExternalCommand.kill(idle);
        }
    }

    /** lb1's /health from lb1 itself, as keepalived's vrrp_script asks it. */
    private static ExternalCommand.Result health() throws Exception {
        return ExternalCommand.run(work, Duration.ofSeconds(10), Map.of(),
                bed.on("lb1", "curl", "-sS", "-o", "/dev/null", "--max-time", "1", "http://" + ADMIN + "/health"));
    }

    /** Asks lb1's /health every 50 ms until it fails, 5 s at the most; the failing answer. */
    private static ExternalCommand.Result awaitHealthFailing() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        ExternalCommand.Result r = health();
        while (r.exitCode() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
            r = health();
        }
        return r;
    }

    /** The server whose JVM has {@code file} open (its /proc/PID/fd), waiting at most 20 s for one to. */
    private static FerryOnHost serverReading(Path file) throws Exception {
        Path real = file.toRealPath();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            for (String s : SERVERS) {
                FerryOnHost server = fixture.get(s);
                try (var fds = Files.list(Path.of("/proc", Long.toString(server.pid()), "fd"))) {
                    if (fds.anyMatch(fd -> {
                        try {
                            return Files.readSymbolicLink(fd).equals(real);
                        } catch (IOException gone) {
                            return false;
                        }
                    })) {
                        return server;
                    }
                } catch (IOException gone) {
                    // the process or the descriptor went meanwhile
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no server opened " + file + " within 20 s");
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Runs a client program on the client host; fails the test if it hangs. */
    private static ExternalCommand.Result client(List<String> command) throws Exception {
        return fixture.client(CLIENT_TIMEOUT, command);
    }

    private static void curl(List<String> options, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "-u", USER + ":" + PASSWORD));
        command.addAll(options);
        command.addAll(List.of(args));
        client(command).assertSuccess();
    }

    /**
     * The server's session-start lines for sessions {@code balancer} relayed from the client: the client's own
     * address (from the PROXY v2 header), the balancer's session id (its unique-ID TLV) and its address.
     */
    private static List<String> proxiedSessions(String server, String balancer) throws IOException {
        return fixture.get(server).logLines().stream()
                .filter(l -> l.contains("event=connect") && l.contains(" client=" + CLIENT + ":")
                        && l.contains(" proxy_session=" + balancer + "/") && l.contains(" via=" + TestBed.address(balancer) + ":"))
                .toList();
    }

    private static long clientSessions(String server, String balancer) throws IOException {
        return proxiedSessions(server, balancer).size();
    }

    private static void assertSessionsFromTheClientOnSeveralServers() throws IOException {
        long servers = SERVERS.stream().filter(s -> {
            try {
                return clientSessions(s, "lb1") > 0;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).count();
        assertThat(servers).as("servers that saw sessions from %s:\n%s", CLIENT, fixture.describeServers()).isGreaterThan(1);
    }

    private static void awaitLog(String host, String what, Predicate<String> condition) throws Exception {
        fixture.awaitLog(host, what, condition);
    }
}
