package dev.ferry.it.bed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.MachineRequirements;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The balancer's address survives a balancer ({@link TestBed}): Debian's keepalived on lb1 (MASTER, priority
 * 150) and lb2 (BACKUP, 100) holds one virtual address, {@value #VIP}, by VRRP (RFC 5798) over unicast, and
 * tracks each host's balancer through its {@code GET /health} (docs/admin-api.md) with a {@code vrrp_script}:
 * a failing check faults the instance, which gives the address up at once (a priority-0 advertisement,
 * RFC 5798 §6.4.3). Clients dial only the virtual address; each balancer listens on every address and tells
 * PASV clients the address they reached (the documented default of {@code public-address}), so the virtual one.
 *
 * <p>Order matters: the tests kill lb1's balancer, start it again, then stop lb1's keepalived.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VirtualAddressTest {

    static final String VIP = "198.18.0.100";
    /** The bound on a failover: keepalived checks every second and faults on the first failure. */
    private static final Duration FAILOVER_BOUND = Duration.ofSeconds(15);
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(30);
    private static final String PORT = BedFixture.PORT;
    private static final String ADMIN_PORT = "8080";
    private static final String USER = BedFixture.USER;
    private static final String PASSWORD = BedFixture.PASSWORD;
    private static final List<String> SERVERS = BedFixture.SERVERS;
    private static final String CLIENT = BedFixture.CLIENT;
    private static final String VIP_URL = "ftp://" + VIP + ":" + PORT + "/";

    private static BedFixture fixture;
    private static Path work;
    private static Path root;
    private static Path keepalived;
    private static Path curl;
    private static final Map<String, Process> keepaliveds = new ConcurrentHashMap<>();

    @BeforeAll
    static void buildTheBed() throws Exception {
        Optional<Path> k = MachineRequirements.onPath("keepalived");
        Optional<Path> c = MachineRequirements.onPath("curl");
        List<String> missing = new ArrayList<>();
        k.ifPresentOrElse(p -> keepalived = p, () -> missing.add("keepalived (Debian: keepalived)"));
        c.ifPresentOrElse(p -> curl = p, () -> missing.add("curl"));
        MachineRequirements.satisfiedOrSkip("virtual address tests", missing, "CI=true: .ci/run installs keepalived and curl");
        fixture = BedFixture.create("vip");
        work = fixture.work();
        root = fixture.root();
        fixture.writeRandom("data.bin", 512 * 1024 + 3, 17);

        Map<String, List<String>> hosts = new LinkedHashMap<>();
        for (String s : SERVERS) {
            hosts.put(s, fixture.serverArgs(s));
        }
        hosts.put("lb1", balancerArgs("lb1"));
        hosts.put("lb2", balancerArgs("lb2"));
        fixture.startAll(hosts);
        for (String lb : List.of("lb1", "lb2")) {
            awaitLog(lb, "a backend up", log -> log.contains("event=features backend="));
        }
        startKeepalived("lb1", "MASTER", 150, "lb2");
        startKeepalived("lb2", "BACKUP", 100, "lb1");
        awaitVirtualAddressOn("lb1");
    }

    /**
     * A balancer on every address of its host, so that it answers on the virtual address once keepalived adds
     * it, with the admin listener (on loopback: only keepalived's check on the same host dials it).
     */
    private static List<String> balancerArgs(String host) {
        List<String> args = new ArrayList<>(List.of("balancer", "--listen", "0.0.0.0:" + PORT));
        args.addAll(BedFixture.backendArgs(SERVERS));
        args.addAll(List.of("--check", "ftp", "--check-interval", "300ms", "--rise", "1", "--fall", "2",
                "--admin", "127.0.0.1:" + ADMIN_PORT, "--admin-user", "ops:ops-Pa55-word:read-only",
                "--node", host));
        return args;
    }

    /**
     * keepalived on {@code host}, VRRP only ({@code -P}), in the foreground, logging to HOST-keepalived.err,
     * with its pid files in the test's directory so that it cannot meet another keepalived on this machine.
     */
    private static void startKeepalived(String host, String state, int priority, String peer) throws Exception {
        Path conf = work.resolve(host + "-keepalived.conf");
        Files.writeString(conf, """
                global_defs {
                    router_id ferry_%1$s
                    script_user root
                    enable_script_security
                }
                # No weight: a failing check faults the instance, which leaves MASTER at once.
                vrrp_script chk_ferry {
                    script "%2$s -fsS -o /dev/null --max-time 1 http://127.0.0.1:%3$s/health"
                    interval 1
                    timeout 2
                    fall 1
                    rise 1
                }
                vrrp_instance ferry_vip {
                    state %4$s
                    interface eth0
                    virtual_router_id 51
                    priority %5$d
                    advert_int 1
                    # Unicast to the other balancer: no multicast needed on the segment.
                    unicast_src_ip %6$s
                    unicast_peer {
                        %7$s
                    }
                    virtual_ipaddress {
                        %8$s/24 dev eth0
                    }
                    track_script {
                        chk_ferry
                    }
                }
                """.formatted(host, curl, ADMIN_PORT, state, priority, TestBed.address(host), TestBed.address(peer), VIP));
        Process process = fixture.startOther(host, host + "-keepalived", List.of(keepalived.toString(), "--dont-fork",
                "--log-console", "--no-syslog", "--vrrp", "--log-detail", "--use-file", conf.toString(),
                "--pid", work.resolve(host + "-keepalived.pid").toString(),
                "--vrrp_pid", work.resolve(host + "-keepalived-vrrp.pid").toString()));
        keepaliveds.put(host, process);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    // ---- the address is lb1's while its balancer is healthy ----------------------------------

    @Test
    @Order(1)
    void theClientFetchesThroughTheVirtualAddressFromLb1() throws Exception {
        long before = clientSessions("lb1");
        Path got = work.resolve("first.bin");
        // --disable-epsv: PASV, whose 227 reply carries an address (RFC 959 §4.1.2): the virtual one, as the client
        // reached it, not lb1's own (which would work here too, but not once the address has moved).
        ExternalCommand.Result r = fetch(List.of("--disable-epsv", "-v"), got).assertSuccess();
        assertThat(Files.mismatch(got, root.resolve("data.bin"))).isEqualTo(-1L);
        assertThat(r.stderr()).as(r.describe("curl")).contains("227 ").contains("(198,18,0,100,");
        awaitLog("lb1", "the client's session", log -> countSessions(log) > before);
    }

    // ---- lb1's balancer dies -----------------------------------------------------------------

    @Test
    @Order(2)
    void killingLb1sBalancerMovesTheAddressAndEndsItsSessionsWithoutCommittingAnUpload() throws Exception {
        byte[] old = "the old content\n".getBytes(StandardCharsets.US_ASCII);
        Files.write(root.resolve("in-flight.bin"), old);
        fixture.writeRandom("slow.bin", 8L * 1024 * 1024, 19);
        Process idle = python(IDLE_SESSION, "idle");
        Process upload = python(SLOW_UPLOAD, "upload");
        Process download = fixture.clientProcess("download",
                List.of("python3", "-c", ClientScripts.SLOW_DOWNLOAD, VIP, PORT, USER, PASSWORD, "slow.bin"));
        try {
            BlockingQueue<String> idleOut = ExternalCommand.stdoutLines(idle);
            BlockingQueue<String> uploadOut = ExternalCommand.stdoutLines(upload);
            BlockingQueue<String> downloadOut = ExternalCommand.stdoutLines(download);
            assertThat(idleOut.poll(20, TimeUnit.SECONDS)).as("the idle session logs in via lb1: %s", fixture.stderr("idle")).isEqualTo("ready");
            assertThat(uploadOut.poll(20, TimeUnit.SECONDS)).as("the upload starts via lb1: %s", fixture.stderr("upload")).isEqualTo("sending");
            assertThat(downloadOut.poll(20, TimeUnit.SECONDS)).as("the download starts via lb1: %s", fixture.stderr("download"))
                    .isEqualTo("receiving");
            awaitUploadTempFile();

            long killed = System.nanoTime();
            fixture.get("lb1").killHard();
            Duration failover = untilFetchSucceeds(killed, "lb1-killed.bin");
            System.out.printf("VirtualAddressTest: balancer on lb1 killed (SIGKILL): a new session via %s succeeded after %d ms%n",
                    VIP, failover.toMillis());
            assertThat(failover).as("failover after killing lb1's balancer").isLessThan(FAILOVER_BOUND);
            assertThat(addresses("lb2")).as("lb2 holds the virtual address").contains(" " + VIP + "/");
            assertThat(addresses("lb1")).as("lb1 gave it up").doesNotContain(" " + VIP + "/");
            awaitLog("lb2", "the new session", log -> countSessions(log) > 0);

            // The session that was open on lb1: its next command fails, quickly (the kernel closed lb1's end).
            try (OutputStream in = idle.getOutputStream()) {
                in.write("go\n".getBytes(StandardCharsets.US_ASCII));
            }
            String outcome = idleOut.poll(15, TimeUnit.SECONDS);
            System.out.println("VirtualAddressTest: the session open on lb1, its next command: " + outcome);
            assertThat(outcome).as("the idle session's next command: %s", fixture.stderr("idle")).isNotNull().startsWith("error ")
                    .doesNotContain("TimeoutError");

            // The upload in flight: the client sees an error and the server keeps the old file (docs/uploads.md).
            String uploadOutcome = uploadOut.poll(20, TimeUnit.SECONDS);
            assertThat(uploadOutcome).as("the upload's outcome: %s", fixture.stderr("upload")).isNotNull().startsWith("error ");
            fixture.awaitServersLog("an upload ended without being committed",
                    log -> log.lines().anyMatch(l -> l.contains("event=transfer") && l.contains("in-flight.bin")));
            List<String> transfers = fixture.serverLines(l -> l.contains("event=transfer") && l.contains("in-flight.bin"));
            System.out.println("VirtualAddressTest: the upload in flight through lb1: client " + uploadOutcome + "; server " + transfers);
            assertThat(transfers).as("the upload is not committed").noneMatch(l -> l.contains("result=ok"));
            assertThat(Files.readAllBytes(root.resolve("in-flight.bin"))).as("the old content stays").isEqualTo(old);
            try (Stream<Path> files = Files.list(root)) {
                assertThat(files.map(p -> p.getFileName().toString())).as("no temp file left").noneMatch(n -> n.startsWith(".ferry-upload-"));
            }

            // The download in flight: the client reads what its buffers still hold, then fails; never "done" with a 226.
            // Seen: a timeout (no reset, no end), as lb1's kernel cannot finish the connection from an address it gave up.
            String downloadOutcome = downloadOut.poll(20, TimeUnit.SECONDS);
            System.out.println("VirtualAddressTest: the download in flight through lb1: client " + downloadOutcome);
            assertThat(downloadOutcome).as("the download's outcome: %s", fixture.stderr("download")).isNotNull().startsWith("error ");
        } finally {
            ExternalCommand.kill(idle);
            ExternalCommand.kill(upload);
            ExternalCommand.kill(download);
        }
    }

    // ---- lb1 back, then its keepalived stopped -------------------------------------------------

    @Test
    @Order(3)
    void theAddressComesBackToLb1AndStoppingItsKeepalivedMovesItAgain() throws Exception {
        fixture.start("lb1", balancerArgs("lb1").toArray(String[]::new));
        awaitLog("lb1", "a backend up", log -> log.contains("event=features backend="));
        // Its check passes again: lb1 (150) preempts lb2 (100).
        awaitVirtualAddressOn("lb1");
        // The client's neighbour entry follows lb1's gratuitous ARP (RFC 5798 §6.4.2); fetch until lb1 serves one,
        // bounded in count and time.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (int i = 0; i < 10 && clientSessions("lb1") == 0 && System.nanoTime() < deadline; i++) {
            fetch(List.of(), work.resolve("lb1-back.bin")).assertSuccess();
            awaitLogQuietly("lb1", log -> countSessions(log) > 0, Duration.ofSeconds(1));
        }
        assertThat(clientSessions("lb1")).as("a session via %s on the new lb1\n%s", VIP, fixture.get("lb1").describe()).isPositive();

        long lb2Before = clientSessions("lb2");
        long stopped = System.nanoTime();
        Process lb1Keepalived = keepaliveds.remove("lb1");
        BedFixture.stop(lb1Keepalived);
        Duration failover = untilFetchSucceeds(stopped, "lb1-keepalived-stopped.bin");
        System.out.printf("VirtualAddressTest: keepalived on lb1 stopped (SIGTERM): a new session via %s succeeded after %d ms%n",
                VIP, failover.toMillis());
        assertThat(lb1Keepalived.isAlive()).as("keepalived on lb1 ended").isFalse();
        assertThat(failover).as("failover after stopping lb1's keepalived").isLessThan(FAILOVER_BOUND);
        assertThat(addresses("lb1")).as("keepalived removed the address on stopping").doesNotContain(" " + VIP + "/");
        assertThat(addresses("lb2")).contains(" " + VIP + "/");
        awaitLog("lb2", "the new session on lb2", log -> countSessions(log) > lb2Before);
    }

    // ---- clients ---------------------------------------------------------------------------------

    /** Logs in through the virtual address, says "ready", waits for a line on stdin, then sends NOOP. */
    private static final String IDLE_SESSION = """
            import ftplib, sys, time
            host, port, user, password = sys.argv[1:5]
            ftp = ftplib.FTP(timeout=8)
            ftp.connect(host, int(port))
            ftp.login(user, password)
            print("ready", flush=True)
            sys.stdin.readline()
            started = time.monotonic()
            try:
                ftp.voidcmd("NOOP")
                print("ok", flush=True)
            except (OSError, EOFError, ftplib.Error) as e:
                print("error", type(e).__name__, "after %.2f s:" % (time.monotonic() - started), e, flush=True)
            """;

    /** Uploads in-flight.bin slowly (64 KiB every 50 ms, 20 s in all) and says "sending" once bytes have gone. */
    private static final String SLOW_UPLOAD = """
            import ftplib, sys, time
            host, port, user, password = sys.argv[1:5]
            class Slow:
                chunks = 0
                def read(self, n):
                    self.chunks += 1
                    if self.chunks > 400:
                        return b""
                    if self.chunks == 8:
                        print("sending", flush=True)
                    time.sleep(0.05)
                    return bytes([self.chunks % 251]) * 65536
            ftp = ftplib.FTP(timeout=8)
            ftp.connect(host, int(port))
            ftp.login(user, password)
            try:
                ftp.storbinary("STOR in-flight.bin", Slow(), blocksize=65536)
                print("stored", flush=True)
            except (OSError, EOFError, ftplib.Error) as e:
                print("error", type(e).__name__, e, flush=True)
            """;

    private static Process python(String script, String name) throws IOException {
        return fixture.clientProcess(name, List.of("python3", "-c", script, VIP, PORT, USER, PASSWORD));
    }

    private static ExternalCommand.Result fetch(List<String> options, Path to) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--connect-timeout", "1", "--max-time", "3",
                "-u", USER + ":" + PASSWORD, "-o", to.toString()));
        command.addAll(options);
        command.add(VIP_URL + "data.bin");
        return fixture.client(CLIENT_TIMEOUT, command);
    }

    /** Fetches through the virtual address until a fetch succeeds; the time from {@code since} to that success. */
    private static Duration untilFetchSucceeds(long since, String name) throws Exception {
        Path got = work.resolve(name);
        long deadline = since + FAILOVER_BOUND.plusSeconds(5).toNanos();
        ExternalCommand.Result last = null;
        while (System.nanoTime() < deadline) {
            last = fetch(List.of(), got);
            if (last.exitCode() == 0 && Files.mismatch(got, root.resolve("data.bin")) == -1L) {
                return Duration.ofNanos(System.nanoTime() - since);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no fetch through " + VIP + " succeeded within " + FAILOVER_BOUND.plusSeconds(5).toSeconds() + " s; last: "
                + (last == null ? "-" : last.describe("curl")) + "\n" + keepalivedLogs());
    }

    // ---- keepalived and addresses ------------------------------------------------------------------

    private static String addresses(String host) throws Exception {
        return ExternalCommand.run(work, Duration.ofSeconds(10), Map.of(),
                List.of(fixture.bed().ip().toString(), "-n", fixture.bed().namespace(host), "-4", "addr", "show", "dev", "eth0")).assertSuccess().stdout();
    }

    /** Waits until {@code host} holds the virtual address and the other balancer host does not (a handover ended). */
    private static void awaitVirtualAddressOn(String host) throws Exception {
        String other = host.equals("lb1") ? "lb2" : "lb1";
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!addresses(host).contains(" " + VIP + "/") || addresses(other).contains(" " + VIP + "/")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(VIP + " not on " + host + " alone within 20 s\n" + keepalivedLogs());
            }
            Thread.sleep(100);
        }
    }

    private static String keepalivedLogs() {
        StringBuilder all = new StringBuilder();
        for (String host : List.of("lb1", "lb2")) {
            try {
                all.append("--- ").append(host).append(" keepalived ---\n").append(Files.readString(work.resolve(host + "-keepalived.err")));
            } catch (IOException e) {
                all.append(host).append(": ").append(e).append('\n');
            }
        }
        return all.toString();
    }

    // ---- logs ----------------------------------------------------------------------------------------

    /** The balancer's end-of-session lines for the client's sessions. */
    private static long countSessions(String log) {
        return log.lines().filter(l -> l.contains("event=session") && l.contains(" client=" + CLIENT + ":")).count();
    }

    private static long clientSessions(String balancer) throws IOException {
        return countSessions(fixture.get(balancer).log());
    }

    private static void awaitUploadTempFile() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            try (Stream<Path> files = Files.list(root)) {
                if (files.anyMatch(p -> p.getFileName().toString().startsWith(".ferry-upload-"))) {
                    return;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no server started writing the upload within 10 s");
    }

    /** Whether {@code condition} held on {@code host}'s log within {@code bound}. */
    private static boolean awaitLogQuietly(String host, Predicate<String> condition, Duration bound) throws Exception {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!condition.test(fixture.get(host).log())) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    private static void awaitLog(String host, String what, Predicate<String> condition) throws Exception {
        fixture.awaitLog(host, what, condition);
    }
}
