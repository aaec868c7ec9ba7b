package dev.ferry.it.bed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.TestData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
 * that trust only the balancer hosts. The servers share one root directory: namespaces share the file
 * system, which stands in here for a shared file system (NFS, CephFS) mounted on every server host.
 *
 * <p>Order matters only for the last test, which kills a server host.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiHostTest {

    /** Generous for the first launcher, which builds the jar when run outside a full build. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(150);
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(40);
    private static final String PORT = "2121";
    private static final String USER = "bed";
    private static final String PASSWORD = "bed-Pa55";
    private static final List<String> SERVERS = List.of("s1", "s2", "s3");
    private static final String CLIENT = TestBed.address("client");

    private static TestBed bed;
    private static Path work;
    private static Path root;
    private static Path cert;
    private static final Map<String, FerryOnHost> running = new ConcurrentHashMap<>();
    private static String dataSum;

    @BeforeAll
    static void buildTheBed() throws Exception {
        bed = TestBed.create();
        work = Files.createTempDirectory("ferry-it-bed-");
        // One directory for every server host: the stand-in for a shared file system (see the class comment).
        root = Files.createDirectories(work.resolve("shared-root"));
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(13).nextBytes(data);
        Files.write(root.resolve("data.bin"), data);
        dataSum = TestData.sha256(root.resolve("data.bin"));
        makeCertificate();

        try (ExecutorService starts = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<FerryOnHost>> servers = new ArrayList<>();
            for (String s : SERVERS) {
                servers.add(starts.submit(() -> startServer(s)));
            }
            for (Future<FerryOnHost> f : servers) {
                FerryOnHost server = f.get(START_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS);
                running.put(server.host(), server);
            }
        }
        running.put("lb1", FerryOnHost.start(bed, "lb1", work, START_TIMEOUT, "balancer",
                "--listen", TestBed.address("lb1") + ":" + PORT,
                "--backend", "s1=" + TestBed.address("s1") + ":" + PORT,
                "--backend", "s2=" + TestBed.address("s2") + ":" + PORT,
                "--backend", "s3=" + TestBed.address("s3") + ":" + PORT,
                "--balance", "roundrobin",
                "--check", "ftp", "--check-interval", "300ms", "--rise", "1", "--fall", "2",
                "--proxy-protocol", "v2",
                "--tls-cert", cert.toString(), "--tls-key", work.resolve("key.pem").toString(),
                "--node", "lb1"));
        awaitLog("lb1", "every backend up", log -> SERVERS.stream().allMatch(s -> log.contains("event=features backend=" + s)));
    }

    private static FerryOnHost startServer(String host) throws Exception {
        return FerryOnHost.start(bed, host, work, START_TIMEOUT, "server",
                "--listen", TestBed.address(host) + ":" + PORT,
                "--root", root.toString(),
                "--user", USER + ":" + PASSWORD,
                // Only the balancer hosts may say who the client is (PROXY protocol); anyone else is refused one.
                "--proxy-protocol-from", TestBed.address("lb1") + "/32",
                "--proxy-protocol-from", TestBed.address("lb2") + "/32",
                "--node", host);
    }

    /** A certificate naming both balancer addresses, so FTPS clients can check the balancer they reach. */
    private static void makeCertificate() throws Exception {
        cert = work.resolve("cert.pem");
        ExternalCommand.run(work, Duration.ofSeconds(60), "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-subj", "/CN=ferry test bed", "-days", "2",
                "-addext", "subjectAltName=IP:" + TestBed.address("lb1") + ",IP:" + TestBed.address("lb2"),
                "-keyout", work.resolve("key.pem").toString(), "-out", cert.toString()).assertSuccess();
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            for (FerryOnHost f : running.values()) {
                f.stop();
            }
        } finally {
            if (bed != null) {
                bed.close();
            }
            if (work != null) {
                TestData.deleteTree(work);
            }
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

    @Test
    @Order(2)
    void ftplibDownloadsAndUploadsPassiveAndActiveThroughTheBalancer() throws Exception {
        // ftplib speaks PASV and PORT over IPv4.
        String script = """
                import ftplib, hashlib, sys
                host, port, user, password, passive, name = sys.argv[1:7]
                ftp = ftplib.FTP(timeout=20)
                ftp.connect(host, int(port))
                ftp.login(user, password)
                ftp.set_pasv(passive == "1")
                got = bytearray()
                ftp.retrbinary("RETR data.bin", got.extend)
                print("download", hashlib.sha256(got).hexdigest())
                with open(sys.argv[7], "rb") as f:
                    ftp.storbinary("STOR " + name, f)
                print("stored", name)
                ftp.quit()
                """;
        for (String passive : List.of("1", "0")) {
            String name = "up-ftplib-" + (passive.equals("1") ? "pasv" : "port") + ".bin";
            ExternalCommand.Result r = client(List.of("python3", "-c", script, TestBed.address("lb1"), PORT, USER, PASSWORD,
                    passive, name, root.resolve("data.bin").toString())).assertSuccess();
            assertThat(r.stdout()).as(r.describe("ran")).contains("download " + dataSum).contains("stored " + name);
            assertThat(TestData.sha256(root.resolve(name))).isEqualTo(dataSum);
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
        assertThat(running.get("lb1").logLines()).as("lb1 terminated the client's TLS")
                .anyMatch(l -> l.contains("event=tls client=" + CLIENT + ":") && l.contains("protocol=TLSv1."));
    }

    // ---- d. a server host added by reload --------------------------------------------------

    @Test
    @Order(4)
    void aServerHostAddedByReloadGetsSessions() throws Exception {
        Path config = work.resolve("lb2.yaml");
        Files.writeString(config, lb2Config(List.of("s1", "s2")));
        FerryOnHost lb2 = FerryOnHost.start(bed, "lb2", work, START_TIMEOUT, "balancer", "--config", config.toString());
        running.put("lb2", lb2);
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
        Path big = root.resolve("big.bin");
        byte[] block = new byte[1024 * 1024];
        new Random(5).nextBytes(block);
        try (var out = Files.newOutputStream(big)) {
            for (int i = 0; i < 40; i++) {
                out.write(block);
            }
        }
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
            victim.killHard();
            assertThat(download.waitFor(CLIENT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("curl ends").isTrue();
            String curlErr = Files.readString(work.resolve("big-curl.err"));
            assertThat(download.exitValue()).as("curl must report the failure, not success: %s", curlErr).isNotZero();
            assertThat(Files.exists(got) ? Files.size(got) : 0L).isLessThan(Files.size(big));

            awaitLog("lb1", victim.host() + " marked down", log -> log.contains("event=backend-down backend=" + victim.host()));
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

    /** The server whose JVM has {@code file} open (its /proc/PID/fd), waiting at most 20 s for one to. */
    private static FerryOnHost serverReading(Path file) throws Exception {
        Path real = file.toRealPath();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            for (String s : SERVERS) {
                FerryOnHost server = running.get(s);
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
        return ExternalCommand.run(work, CLIENT_TIMEOUT, Map.of(), bed.on("client", command.toArray(String[]::new)));
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
        return running.get(server).logLines().stream()
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
        assertThat(servers).as("servers that saw sessions from %s:\n%s%s%s", CLIENT, running.get("s1").describe(),
                running.get("s2").describe(), running.get("s3").describe()).isGreaterThan(1);
    }

    private static void awaitLog(String host, String what, Predicate<String> condition) throws Exception {
        running.get(host).awaitLog(what, condition);
    }
}
