package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.server.ServerSettings;
import dev.ferry.server.events.CommandHook;
import dev.ferry.server.events.EventSettings;
import dev.ferry.testkit.Scrape;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Upload, delete and rename events over real sockets: curl and Python's ftplib against a server whose webhook is a
 * JDK HttpServer on 127.0.0.3, and a command hook that keeps what it was given.
 */
class UploadEventsTest {

    /** Answer with a status; {@link #HANG}: do not answer (until the test ends). */
    private static final int HANG = -1;
    private static final Receiver HOOK = Receiver.start();
    private static final Duration HOOK_TIMEOUT = Duration.ofSeconds(2);

    /** One worker, so that a session's events arrive in the order they happened. */
    private static ServerSettings withWebhook(ServerSettings s, int workers, int queue) {
        return s.withEvents(EventSettings.OFF.withWebhook(HOOK.url()).withWorkers(workers).withQueue(queue)
                .withBackoff(Duration.ofMillis(50)).withTimeout(HOOK_TIMEOUT));
    }

    @RegisterExtension
    final FerryServerExtension ftp = new FerryServerExtension().configure(s -> withWebhook(s, 1, 100));

    private final ListAppender<ILoggingEvent> hookLines = new ListAppender<>();
    private final Logger events = (Logger) LoggerFactory.getLogger("ferry.events");

    @BeforeEach
    void captureHookLines() {
        // Here, not after each test: the previous server's stop delivers what it still had queued.
        HOOK.reset();
        hookLines.start();
        events.setLevel(Level.INFO);
        events.setAdditive(false);
        events.addAppender(hookLines);
    }

    @AfterEach
    void releaseHangingRequests() {
        HOOK.release();
        events.detachAppender(hookLines);
        events.setLevel(null);
        events.setAdditive(true);
    }

    @AfterAll
    static void stopReceiver() {
        HOOK.stop();
    }

    @Test
    void curlsUploadRenameAndDeleteReachTheWebhook() throws Exception {
        byte[] content = TestData.randomFile(ftp.clientDir().resolve("up.bin"), 100_000, 7);
        curl("-T", "up.bin", ftp.url() + "/up.bin");

        String upload = HOOK.next();
        assertThat(field(upload, "event")).isEqualTo("upload");
        assertThat(field(upload, "path")).isEqualTo("/up.bin");
        assertThat(field(upload, "size")).isEqualTo("100000");
        assertThat(field(upload, "sha256")).isEqualTo(sha256(content));
        assertThat(field(upload, "user")).isEqualTo("alice");
        assertThat(field(upload, "client")).startsWith("127.0.0.1:");
        assertThat(field(upload, "server")).isEqualTo(ftp.settings().node());
        assertThat(field(upload, "session")).isNotEqualTo("null");
        assertThat(upload).doesNotContain("\"target\"");

        curl("-Q", "RNFR up.bin", "-Q", "RNTO moved.bin", ftp.url() + "/");
        String rename = HOOK.next();
        assertThat(field(rename, "event")).isEqualTo("rename");
        assertThat(field(rename, "path")).isEqualTo("/up.bin");
        assertThat(field(rename, "target")).isEqualTo("/moved.bin");

        curl("-Q", "DELE moved.bin", ftp.url() + "/");
        String delete = HOOK.next();
        assertThat(field(delete, "event")).isEqualTo("delete");
        assertThat(field(delete, "path")).isEqualTo("/moved.bin");
        assertThat(field(delete, "size")).isEqualTo("100000");
        assertThat(field(delete, "sha256")).isEqualTo("null");

        Scrape.awaitValue(() -> ftp.server().context().metrics().text(),
                "ferry_server_event_deliveries_total{action=\"webhook\",result=\"delivered\"}", 3);
        assertThat(lines("event=hook-delivered")).hasSize(3);
        assertThat(lines("event=hook-delivered").getFirst()).contains("kind=upload", "path=/up.bin", "user=alice",
                "hook=webhook", "destination=http://127.0.0.3:" + HOOK.port() + "/hook", "attempt=1", "status=200");
        assertThat(lines("event=hook-delivered").get(1)).contains("kind=rename", "target=/moved.bin");
        assertThat(String.join("\n", lines(""))).as("the URL's query is never logged").doesNotContain("token");
    }

    /** WinSCP uploads to NAME.filepart and renames it to NAME: one upload event, of NAME. */
    @Test
    void aFilepartRenamedIntoPlaceIsReportedAsTheUploadOfTheFinalName() throws Exception {
        Map<String, String> v = python("""
                data = b"final report" * 1000
                out("stor", ftp.storbinary("STOR report.pdf.filepart", io.BytesIO(data)))
                out("rnto", ftp.rename("report.pdf.filepart", "report.pdf"))
                out("sha", hashlib.sha256(data).hexdigest())
                """);
        assertThat(v).containsEntry("rnto", "250 Renamed.");

        String upload = HOOK.next();
        assertThat(field(upload, "event")).isEqualTo("upload");
        assertThat(field(upload, "path")).isEqualTo("/report.pdf");
        assertThat(field(upload, "sha256")).isEqualTo(v.get("sha"));
        assertThat(field(upload, "size")).isEqualTo("12000");
        // One worker delivers in order: a DELE after it comes next, so nothing about the .filepart came in between.
        curl("-Q", "DELE report.pdf", ftp.url() + "/");
        assertThat(field(HOOK.next(), "event")).isEqualTo("delete");
        assertThat(HOOK.requests()).isEqualTo(2);
    }

    @Test
    void aWebhookAnswering500TwiceGetsThreeAttemptsAndOneDelivery() throws Exception {
        HOOK.answer(n -> n <= 2 ? 500 : 200);
        Files.writeString(ftp.clientDir().resolve("a.txt"), "abc");
        curl("-T", "a.txt", ftp.url() + "/a.txt");

        HOOK.next();
        HOOK.next();
        String delivered = HOOK.next();
        assertThat(field(delivered, "path")).isEqualTo("/a.txt");
        Scrape s = Scrape.awaitValue(() -> ftp.server().context().metrics().text(),
                "ferry_server_event_deliveries_total{action=\"webhook\",result=\"delivered\"}", 1);
        assertThat(s.value("ferry_server_event_deliveries_total{action=\"webhook\",result=\"failed\"}")).isZero();
        assertThat(HOOK.requests()).isEqualTo(3);
        assertThat(lines("event=hook-failed")).hasSize(2).allSatisfy(l -> assertThat(l).contains("status=500", "next=retry"));
        assertThat(lines("event=hook-delivered")).singleElement().asString().contains("attempt=3", "status=200");
    }

    /**
     * The 226 never waits for the hook: uploads are answered as fast while the webhook hangs past its timeout as
     * while it answers at once.
     */
    @Test
    void aWebhookThatNeverAnswersDoesNotDelayThe226() throws Exception {
        String uploads = """
                import time
                times = []
                for i in range(20):
                    start = time.monotonic_ns()
                    ftp.storbinary("STOR f%d.bin" % i, io.BytesIO(b"x" * 10000))
                    times.append(time.monotonic_ns() - start)
                times.sort()
                out("median_us", times[10] // 1000)
                out("worst_us", times[-1] // 1000)
                """;
        Map<String, String> answering = python(uploads);
        for (int i = 0; i < 20; i++) {
            HOOK.next();
        }
        HOOK.answer(n -> HANG);
        Map<String, String> hanging = python(uploads);
        System.out.println("FIGURE upload-226 answering-hook median_us=" + answering.get("median_us") + " worst_us="
                + answering.get("worst_us") + "; hanging-hook median_us=" + hanging.get("median_us") + " worst_us="
                + hanging.get("worst_us"));
        // The hook's timeout is 2 s and the first hanging request started with the first upload: a 226 that waited
        // for it would take at least that long.
        assertThat(Long.parseLong(hanging.get("worst_us"))).isLessThan(HOOK_TIMEOUT.toMillis() * 1000 / 2);

        // ... and the hook did hang past its timeout: attempts fail with error=timeout.
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (lines("error=timeout").isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(lines("error=timeout")).first().asString().contains("event=hook-failed", "kind=upload");
    }

    /** With the one worker held by a hanging hook and the queue full, the next event is dropped, with a log line. */
    @Test
    void aFullQueueDropsTheEventWithALogLine() throws Exception {
        ftp.restart(s -> s.withEvents(withWebhook(s, 1, 1).events().withRetries(0)));
        HOOK.answer(n -> HANG);
        Files.writeString(ftp.clientDir().resolve("a.txt"), "abc");
        curl("-T", "a.txt", ftp.url() + "/1.txt");
        HOOK.next();   // the worker is in this request, which hangs
        curl("-T", "a.txt", ftp.url() + "/2.txt");   // queued
        curl("-T", "a.txt", ftp.url() + "/3.txt");   // no room

        assertThat(lines("event=hook-dropped")).singleElement().asString()
                .contains("kind=upload", "path=/3.txt", "reason=queue-full", "queue=1");
        assertThat(Scrape.parse(ftp.server().context().metrics().text()).value("ferry_server_events_dropped_total"))
                .isEqualTo(1);
    }

    @Test
    void aCommandGetsTheJsonOnStdinAndTheFieldsInItsEnvironment() throws Exception {
        Path out = Files.createDirectories(ftp.clientDir().resolve("hook-out"));
        Path script = ftp.clientDir().resolve("hook.sh");
        Files.writeString(script, """
                #!/bin/sh
                cat > "$1/json.tmp"
                printf '%s|%s|%s|%s|%s\\n' "$FERRY_EVENT" "$FERRY_PATH" "$FERRY_SIZE" "$FERRY_USER" "$(printenv "$2" || echo none)" > "$1/env.tmp"
                mv "$1/env.tmp" "$1/env"
                mv "$1/json.tmp" "$1/json"
                """);
        // A variable of this JVM's environment (so of the server's) that the command must not see.
        String notPassedOn = System.getenv().keySet().stream()
                .filter(k -> k.matches("[A-Z][A-Z0-9_]*") && !CommandHook.PASSED_ON.contains(k) && !k.startsWith("FERRY_")
                        // what sh sets for itself
                        && !List.of("PWD", "OLDPWD", "SHLVL", "IFS", "PS1", "PS2", "PS4", "OPTIND").contains(k))
                .sorted().findFirst().orElseThrow();
        ftp.restart(s -> s.withEvents(EventSettings.OFF
                .withCommand(List.of("/bin/sh", script.toString(), out.toString(), notPassedOn)).withTimeout(Duration.ofSeconds(10))));

        Map<String, String> v = python("""
                out("stor", ftp.storbinary("STOR cmd.txt", io.BytesIO(b"hello hook")))
                """);
        assertThat(v.get("stor")).startsWith("226");

        Path json = out.resolve("json");
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!Files.exists(json) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        String body = Files.readString(json);
        assertThat(field(body, "event")).isEqualTo("upload");
        assertThat(field(body, "path")).isEqualTo("/cmd.txt");
        assertThat(field(body, "sha256")).isEqualTo(sha256("hello hook".getBytes(StandardCharsets.UTF_8)));
        assertThat(Files.readString(out.resolve("env"))).as("only the event and a few basic variables: none of the server's own")
                .isEqualTo("upload|/cmd.txt|10|alice|none\n");
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (lines("hook=command").isEmpty() && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertThat(lines("hook=command")).singleElement().asString().contains("event=hook-delivered", "exit=0",
                "destination=/bin/sh");
    }

    /**
     * The figure of the closing note: from the 226 (as ftplib returns from storbinary) to the webhook's receipt of
     * the event, median of 50 uploads 50 ms apart. Both clocks are CLOCK_MONOTONIC (Python's time.monotonic_ns, Java's
     * nanoTime): the same clock on one machine.
     */
    @Test
    void deliveryLatencyOf50Uploads() throws Exception {
        Map<String, String> v = python("""
                import time
                for i in range(50):
                    ftp.storbinary("STOR lat%02d.bin" % i, io.BytesIO(b"y" * 4096))
                    out("lat%02d" % i, time.monotonic_ns())
                    # Apart, so that each event finds the worker idle: the latency, not a queue of back-to-back ones.
                    time.sleep(0.05)
                """);
        List<Long> latencies = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String body = HOOK.next();
            String name = field(body, "path").substring(1, 6);
            latencies.add(HOOK.lastReceivedNanos() - Long.parseLong(v.get(name)));
        }
        latencies.sort(null);
        System.out.printf("FIGURE delivery-latency-226-to-webhook median_us=%d p90_us=%d max_us=%d%n",
                latencies.get(25) / 1000, latencies.get(45) / 1000, latencies.get(49) / 1000);
        assertThat(HOOK.requests()).isEqualTo(50);
    }

    /** Plain ftplib, logged in as alice; {@code out(key, value)} prints what the test reads back. */
    private static final String PRELUDE = """
            import ftplib, hashlib, io, sys
            def out(key, value):
                print(key + "\\t" + str(value).replace("\\r", "").replace("\\n", " "), flush=True)
            ftp = ftplib.FTP(timeout=10)
            ftp.connect(sys.argv[4], int(sys.argv[1]))
            ftp.login(sys.argv[2], sys.argv[3])
            """;

    private Map<String, String> python(String body) throws IOException, InterruptedException {
        return FtpsClients.pythonScript(ftp, PRELUDE + body + "ftp.quit()\n");
    }

    private void curl(String... args) throws IOException, InterruptedException {
        FtpsClients.curl(ftp, args).assertSuccess();
    }

    private List<String> lines(String containing) {
        synchronized (hookLines) {
            return hookLines.list.stream().map(ILoggingEvent::getFormattedMessage).filter(l -> l.contains(containing))
                    .toList();
        }
    }

    private static String sha256(byte[] content) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    }

    /** One member of the flat JSON object Ferry sends: a string's text, or the literal (number, null). */
    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":(\"((?:[^\"\\\\]|\\\\.)*)\"|[^,}]*)").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no " + key + " in " + json);
        }
        return m.group(2) != null ? m.group(2) : m.group(1);
    }

    /** A webhook on 127.0.0.3: keeps each body with the time it arrived; answers as the test says. */
    static final class Receiver {
        private final HttpServer server;
        private final ExecutorService threads = Executors.newFixedThreadPool(8);
        private final BlockingQueue<long[]> times = new LinkedBlockingQueue<>();
        private final BlockingQueue<String> bodies = new LinkedBlockingQueue<>();
        private final AtomicInteger requests = new AtomicInteger();
        private volatile IntUnaryOperator answer = n -> 200;
        private volatile CountDownLatch release = new CountDownLatch(1);
        private volatile long lastReceived;

        private Receiver(HttpServer server) {
            this.server = server;
        }

        static Receiver start() {
            try {
                HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.3", 0), 16);
                Receiver r = new Receiver(s);
                s.createContext("/hook", r::handle);
                s.setExecutor(r.threads);
                s.start();
                return r;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        private void handle(HttpExchange exchange) throws IOException {
            long now = System.nanoTime();
            String body;
            try (InputStream in = exchange.getRequestBody()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            int n = requests.incrementAndGet();
            times.add(new long[] {now});
            bodies.add(body);
            int status = answer.applyAsInt(n);
            if (status == HANG) {
                try {
                    // bounded: the test's end releases it
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                exchange.close();
                return;
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        }

        /** The next body received, waiting up to 15 s. */
        String next() throws InterruptedException {
            String body = bodies.poll(15, TimeUnit.SECONDS);
            long[] t = times.poll(1, TimeUnit.SECONDS);
            if (body == null || t == null) {
                throw new AssertionError("the webhook received nothing within 15 s");
            }
            lastReceived = t[0];
            return body;
        }

        long lastReceivedNanos() {
            return lastReceived;
        }

        int requests() {
            return requests.get();
        }

        void answer(IntUnaryOperator a) {
            answer = a;
        }

        URI url() {
            // The query stands for a token: it must reach the receiver and never a log line.
            return URI.create("http://127.0.0.3:" + port() + "/hook?token=not-for-logs");
        }

        int port() {
            return server.getAddress().getPort();
        }

        /** Hanging requests end (unanswered), and new ones are answered 200. */
        void release() {
            answer = n -> 200;
            release.countDown();
        }

        void reset() {
            release.countDown();
            release = new CountDownLatch(1);
            answer = n -> 200;
            requests.set(0);
            bodies.clear();
            times.clear();
        }

        void stop() {
            release.countDown();
            server.stop(0);
            threads.shutdownNow();
        }
    }
}
