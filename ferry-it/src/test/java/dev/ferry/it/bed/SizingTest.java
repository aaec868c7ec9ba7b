package dev.ferry.it.bed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.TestData;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The figures docs/deployment.md gives for sizing, taken on the {@link TestBed}: one balancer (lb1, PROXY v2,
 * TLS terminated) in front of three servers. Each test checks that the work was done right (checksums, every
 * session logged in, every idle session open) and prints what it measured ({@code SizingTest: ...} in the
 * surefire report); none asserts a time or a rate, which depend on the machine. Every loop is bounded in count
 * and in time.
 *
 * <p>The client, the balancer and the three servers share the machine's cores, so the rates are what one
 * machine does running all of them: a floor for a balancer on a host of its own.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SizingTest {

    private static final String PORT = BedFixture.PORT;
    private static final String USER = BedFixture.USER;
    private static final String PASSWORD = BedFixture.PASSWORD;
    private static final List<String> SERVERS = BedFixture.SERVERS;
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(90);
    private static final long BIG = 256L * 1024 * 1024;
    /** Idle sessions held at once for the memory figure; each server takes about a third of them. */
    private static final int IDLE_SESSIONS = 300;

    private static BedFixture fixture;
    private static Path cert;

    @BeforeAll
    static void buildTheBed() throws Exception {
        fixture = BedFixture.create("sizing");
        cert = fixture.certificate();
        Map<String, List<String>> hosts = new LinkedHashMap<>();
        for (String s : SERVERS) {
            // The servers see every session as the client's (PROXY v2): the per-address limit (50) would refuse the idle ones.
            hosts.put(s, fixture.serverArgs(s, "--proxy-protocol-from", TestBed.address("lb1") + "/32",
                    "--max-sessions-per-address", "1000"));
        }
        fixture.startAll(hosts);
        List<String> lb1 = new ArrayList<>(List.of("balancer", "--listen", TestBed.address("lb1") + ":" + PORT));
        lb1.addAll(BedFixture.backendArgs(SERVERS));
        lb1.addAll(List.of("--balance", "roundrobin", "--check", "ftp", "--check-interval", "1s",
                "--proxy-protocol", "v2",
                "--tls-cert", cert.toString(), "--tls-key", fixture.certificateKey().toString(),
                "--node", "lb1"));
        fixture.start("lb1", lb1.toArray(String[]::new));
        fixture.awaitLog("lb1", "every backend up", log -> SERVERS.stream().allMatch(s -> log.contains("event=features backend=" + s)));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    // ---- throughput: one 256 MiB download ------------------------------------------------------

    private static final Pattern CURL_FIGURES = Pattern.compile("bytes=(\\d+) seconds=([0-9.]+)");

    /**
     * 256 MiB downloaded by curl (EPSV) straight from s1, through lb1, and through lb1 with FTPS (TLS between
     * client and balancer, plain between balancer and server); the bytes go into sha256sum on the client host,
     * not to a disk, so the figure is the network path's and the relay's.
     */
    @Test
    @Order(1)
    void a256MiBDownloadDirectThroughTheBalancerAndWithFtps() throws Exception {
        String sum = TestData.sha256(fixture.writeRandom("big.bin", BIG, 256));
        Map<String, List<String>> paths = new LinkedHashMap<>();
        paths.put("direct from s1", List.of("ftp://" + TestBed.address("s1") + ":" + PORT + "/big.bin"));
        paths.put("through lb1", List.of("ftp://" + TestBed.address("lb1") + ":" + PORT + "/big.bin"));
        paths.put("through lb1, FTPS", List.of("--ssl-reqd", "--cacert", cert.toString(),
                "ftp://" + TestBed.address("lb1") + ":" + PORT + "/big.bin"));
        for (Map.Entry<String, List<String>> path : paths.entrySet()) {
            String curl = "curl -sS --max-time 60 -u " + USER + ":" + PASSWORD
                    + " -w '%{stderr}bytes=%{size_download} seconds=%{time_total}\\n' " + String.join(" ", path.getValue());
            ExternalCommand.Result r = fixture.client(CLIENT_TIMEOUT, List.of("bash", "-c", "set -o pipefail; " + curl + " | sha256sum"))
                    .assertSuccess();
            assertThat(r.stdout()).as(r.describe(path.getKey())).startsWith(sum);
            Matcher m = CURL_FIGURES.matcher(r.stderr());
            assertThat(m.find()).as(r.describe(path.getKey())).isTrue();
            assertThat(Long.parseLong(m.group(1))).isEqualTo(BIG);
            double seconds = Double.parseDouble(m.group(2));
            System.out.printf("SizingTest: 256 MiB download %s: %.2f s, %.0f MB/s%n", path.getKey(), seconds, BIG / seconds / 1e6);
        }
    }

    // ---- sessions per second ------------------------------------------------------------------

    /** COUNT sessions (connect, log in, QUIT) over THREADS connections at a time, BOUND seconds at the most. */
    private static final String SESSIONS = """
            import ftplib, sys, threading, time
            host, port, user, password = sys.argv[1:5]
            count, threads, bound = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
            lock = threading.Lock()
            state = {"next": 0, "ok": 0}
            failures = []
            deadline = time.monotonic() + bound
            def worker():
                while time.monotonic() < deadline:
                    with lock:
                        if state["next"] >= count:
                            return
                        state["next"] += 1
                    try:
                        ftp = ftplib.FTP(timeout=10)
                        ftp.connect(host, int(port))
                        ftp.login(user, password)
                        ftp.quit()
                        with lock:
                            state["ok"] += 1
                    except (OSError, EOFError, ftplib.Error) as e:
                        with lock:
                            failures.append(repr(e))
            started = time.monotonic()
            workers = [threading.Thread(target=worker) for _ in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            elapsed = time.monotonic() - started
            print("ok=%d failed=%d seconds=%.3f" % (state["ok"], len(failures), elapsed))
            for f in failures[:5]:
                print("failure", f)
            """;

    private static final Pattern SESSION_FIGURES = Pattern.compile("ok=(\\d+) failed=(\\d+) seconds=([0-9.]+)");

    @Test
    @Order(2)
    void sessionsPerSecondDirectAndThroughTheBalancer() throws Exception {
        record Run(String what, String host, int count, int threads) {
        }
        List<Run> runs = List.of(new Run("direct to s1, one at a time", "s1", 200, 1),
                new Run("through lb1, one at a time", "lb1", 200, 1),
                new Run("through lb1, 8 at a time", "lb1", 400, 8));
        for (Run run : runs) {
            ExternalCommand.Result r = fixture.client(CLIENT_TIMEOUT, List.of("python3", "-c", SESSIONS, TestBed.address(run.host()), PORT,
                    USER, PASSWORD, Integer.toString(run.count()), Integer.toString(run.threads()), "30")).assertSuccess();
            Matcher m = SESSION_FIGURES.matcher(r.stdout());
            assertThat(m.find()).as(r.describe(run.what())).isTrue();
            assertThat(Integer.parseInt(m.group(2))).as("failed sessions, %s: %s", run.what(), r.stdout()).isZero();
            int ok = Integer.parseInt(m.group(1));
            // The 30 s bound cuts the loop short only on a machine far slower than any seen; then the figure covers fewer sessions.
            assertThat(ok).as("sessions, %s", run.what()).isPositive();
            double seconds = Double.parseDouble(m.group(3));
            System.out.printf("SizingTest: sessions (connect, USER/PASS, QUIT) %s: %d in %.2f s, %.0f per second%n",
                    run.what(), ok, seconds, ok / seconds);
        }
        long servers = SERVERS.stream().filter(s -> {
            try {
                return fixture.get(s).logLines().stream().anyMatch(l -> l.contains("event=connect") && l.contains(" proxy_session=lb1/"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).count();
        assertThat(servers).as("servers that took sessions through lb1").isEqualTo(3);
    }

    // ---- memory per idle session ----------------------------------------------------------------

    /** Opens COUNT sessions and logs each in, says "open", waits for a line, then quits them all. */
    private static final String IDLE = """
            import ftplib, sys
            host, port, user, password, count = sys.argv[1:6]
            sessions = []
            for _ in range(int(count)):
                ftp = ftplib.FTP(timeout=20)
                ftp.connect(host, int(port))
                ftp.login(user, password)
                sessions.append(ftp)
            print("open", len(sessions), flush=True)
            sys.stdin.readline()
            for ftp in sessions:
                ftp.quit()
            print("closed", flush=True)
            """;

    /**
     * What {@value #IDLE_SESSIONS} logged-in idle sessions through lb1 add to lb1's and the servers' JVMs: the
     * live heap (jcmd's class histogram, after a full GC: the session objects, buffers, virtual threads' stacks)
     * and the resident set (which also holds native memory, but moves with the heap's growth and collections,
     * and stays flat while new objects fit in heap already touched: a rough figure).
     */
    @Test
    @Order(3)
    void memoryPerIdleSessionOnTheBalancerAndTheServers() throws Exception {
        Map<String, OptionalLong> heapBefore = liveHeap();
        Map<String, Long> before = resident();
        Process idle = fixture.clientProcess("idle", List.of("python3", "-c", IDLE, TestBed.address("lb1"), PORT, USER, PASSWORD,
                Integer.toString(IDLE_SESSIONS)));
        try (OutputStream in = idle.getOutputStream()) {
            BlockingQueue<String> out = ExternalCommand.stdoutLines(idle);
            assertThat(out.poll(60, TimeUnit.SECONDS)).as("the idle sessions open: %s", fixture.stderr("idle"))
                    .isEqualTo("open " + IDLE_SESSIONS);
            Map<String, Long> during = resident();
            Map<String, OptionalLong> heapDuring = liveHeap();
            for (String host : before.keySet()) {
                int sessions = host.equals("lb1") ? IDLE_SESSIONS : IDLE_SESSIONS / SERVERS.size();
                long rss = during.get(host) - before.get(host);
                OptionalLong heapFrom = heapBefore.get(host);
                OptionalLong heapTo = heapDuring.get(host);
                String heap = heapFrom.isPresent() && heapTo.isPresent()
                        ? "live heap %+d KiB (%.1f KiB per session, %d KiB before)".formatted((heapTo.getAsLong() - heapFrom.getAsLong()) / 1024,
                                (heapTo.getAsLong() - heapFrom.getAsLong()) / 1024.0 / sessions, heapFrom.getAsLong() / 1024)
                        : "live heap not measured (no jcmd beside its java)";
                System.out.printf("SizingTest: %s with %d idle sessions through lb1 (about %d on it): %s, "
                        + "resident set %+d KiB (%.1f KiB per session, %d KiB before)%n",
                        host, IDLE_SESSIONS, sessions, heap, rss, (double) rss / sessions, before.get(host));
            }
            in.write("quit\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            assertThat(out.poll(60, TimeUnit.SECONDS)).as("the idle sessions end: %s", fixture.stderr("idle")).isEqualTo("closed");
        } finally {
            ExternalCommand.kill(idle);
        }
    }

    private static Map<String, OptionalLong> liveHeap() throws Exception {
        Map<String, OptionalLong> bytes = new LinkedHashMap<>();
        for (String host : List.of("lb1", "s1", "s2", "s3")) {
            bytes.put(host, fixture.get(host).liveHeapBytes());
        }
        return bytes;
    }

    private static Map<String, Long> resident() throws IOException {
        Map<String, Long> kib = new LinkedHashMap<>();
        for (String host : List.of("lb1", "s1", "s2", "s3")) {
            kib.put(host, fixture.get(host).residentKiB());
        }
        return kib;
    }
}
