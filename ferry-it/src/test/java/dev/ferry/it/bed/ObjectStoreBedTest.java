package dev.ferry.it.bed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.it.ExternalCommand;
import dev.ferry.it.TestData;
import dev.ferry.testkit.S3ProxyServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
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
 * The bed on object storage (docs/storage.md): S3Proxy runs as its own process on the storage host
 * ({@link StorageHostMain}), s1–s3 keep their files in its bucket ({@code --storage s3://ferry/bed}) and share
 * nothing else (no directory: a file one server wrote, another sees only through the store), lb1 in front with
 * PROXY v2 as in {@link MultiHostTest}. Real clients (curl, lftp, Python ftplib) on the client host.
 *
 * <p>The store's {@code request-timeout} is {@value #REQUEST_TIMEOUT_SECONDS} s (a config file: it has no flag),
 * so that an unreachable store fails a transfer within seconds. Order matters only for the last test, which
 * kills a server host.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ObjectStoreBedTest {

    private static final String PORT = BedFixture.PORT;
    private static final String USER = BedFixture.USER;
    private static final String PASSWORD = BedFixture.PASSWORD;
    private static final List<String> SERVERS = BedFixture.SERVERS;
    private static final String CLIENT = BedFixture.CLIENT;

    private static final String STORE_PORT = "9000";
    private static final String ENDPOINT = "http://" + TestBed.address("storage") + ":" + STORE_PORT;
    private static final String PREFIX = "bed";
    private static final int REQUEST_TIMEOUT_SECONDS = 3;
    private static final int MiB = 1024 * 1024;
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(40);
    private static final Pattern UPLOAD_KEY = Pattern.compile("<Upload>.*?<Key>([^<]*)</Key>", Pattern.DOTALL);

    private static BedFixture fixture;
    private static TestBed bed;
    private static Path work;
    private static Path files;
    private static Process store;

    @BeforeAll
    static void buildTheBed() throws Exception {
        long started = System.nanoTime();
        fixture = BedFixture.create("bed-s3");
        bed = fixture.bed();
        work = fixture.work();
        files = Files.createDirectories(work.resolve("client-files"));

        // The store: the test JVM's own java and class path (S3Proxy and its jclouds are test dependencies).
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        store = fixture.startOther("storage", "s3proxy", List.of(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                StorageHostMain.class.getName(), TestBed.address("storage"), STORE_PORT, work.resolve("store").toString()));
        awaitStoreReady();
        long storeReady = System.nanoTime();

        Path credentials = work.resolve("s3-credentials");
        Files.writeString(credentials, "[default]\naws_access_key_id = " + S3ProxyServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3ProxyServer.SECRET_KEY + "\n");
        // request-timeout has no flag: the file sets it, the flags the rest (they keep the file's other keys).
        Path config = work.resolve("server.yaml");
        Files.writeString(config, """
                server:
                  storage:
                    bucket: %s
                    request-timeout: %ds
                """.formatted(S3ProxyServer.BUCKET, REQUEST_TIMEOUT_SECONDS));
        // One certificate made with openssl for all: otherwise each server makes its own key pair at start (CPU the
        // four JVMs starting at once on this machine need) and saves it to the same file of the shared directory.
        Path cert = fixture.certificate();
        Map<String, List<String>> servers = new LinkedHashMap<>();
        for (String s : SERVERS) {
            servers.put(s, List.of("server", "--config", config.toString(),
                    "--listen", TestBed.address(s) + ":" + PORT,
                    "--storage", "s3://" + S3ProxyServer.BUCKET + "/" + PREFIX,
                    "--s3-endpoint", ENDPOINT, "--s3-path-style", "--s3-credentials-file", credentials.toString(),
                    // The smallest part S3 takes: a few MiB make a multipart upload of several parts.
                    "--s3-part-size", "5MiB",
                    "--user", USER + ":" + PASSWORD, "--node", s,
                    "--tls-cert", cert.toString(), "--tls-key", fixture.certificateKey().toString(),
                    "--proxy-protocol-from", TestBed.address("lb1") + "/32"));
        }
        List<String> lb1 = new ArrayList<>(List.of("balancer", "--listen", TestBed.address("lb1") + ":" + PORT));
        lb1.addAll(BedFixture.backendArgs(SERVERS));
        lb1.addAll(List.of("--balance", "roundrobin",
                "--check", "ftp", "--check-interval", "300ms", "--rise", "1", "--fall", "2",
                "--proxy-protocol", "v2", "--node", "lb1"));
        // lb1 starts with the servers (JVM starts dominate); its checks find them up as they come.
        servers.put("lb1", lb1);
        fixture.startAll(servers);
        fixture.awaitLog("lb1", "every backend up", log -> SERVERS.stream().allMatch(s -> log.contains("event=features backend=" + s)));
        System.out.printf("ObjectStoreBedTest: S3Proxy answering on the storage host %d ms after the start; servers and lb1 up %d ms later%n",
                (storeReady - started) / 1_000_000, (System.nanoTime() - storeReady) / 1_000_000);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (fixture != null) {
            if (bed != null) {
                // A failed outage test must not leave the store cut off for the next one (nor for close).
                linkOfStorage("up");
            }
            fixture.close();
        }
    }

    // ---- one upload, seen by every server ------------------------------------------------------

    @Test
    @Order(1)
    void anUploadThroughTheBalancerIsListedAndDownloadedThroughEveryServer() throws Exception {
        Path file = randomFile("shared.bin", 7 * MiB + 123, 1);
        String sum = TestData.sha256(file);
        String size = " " + Files.size(file) + " ";
        Map<String, Long> before = sessionsViaLb1();
        curl("-T", file.toString(), url("lb1") + "shared.bin").assertSuccess();
        String uploader = newSessionOn(before);

        for (String s : SERVERS) {
            Path got = files.resolve("shared-" + s + ".bin");
            curl("-o", got.toString(), url(s) + "shared.bin").assertSuccess();
            assertThat(TestData.sha256(got)).as("download from %s (the upload went through %s)", s, uploader).isEqualTo(sum);
            ExternalCommand.Result list = curl(url(s)).assertSuccess();
            assertThat(list.stdout().lines()).as("LIST on %s", s)
                    .anyMatch(l -> l.endsWith(" shared.bin") && l.contains(size));
        }

        // Through lb1 again, three sessions (round robin: each server once), three clients.
        Map<String, Long> downloads = sessionsViaLb1();
        Path viaCurl = files.resolve("shared-lb1-curl.bin");
        curl("-o", viaCurl.toString(), url("lb1") + "shared.bin").assertSuccess();
        assertThat(TestData.sha256(viaCurl)).isEqualTo(sum);
        Path viaLftp = files.resolve("shared-lb1-lftp.bin");
        client(List.of("lftp", "-c", lftpOpen("lb1") + "; cls -l; get shared.bin -o " + viaLftp)).assertSuccess();
        assertThat(TestData.sha256(viaLftp)).isEqualTo(sum);
        ExternalCommand.Result ftplib = client(List.of("python3", "-c", FTPLIB_GET, TestBed.address("lb1"), PORT, USER, PASSWORD,
                "shared.bin")).assertSuccess();
        assertThat(ftplib.stdout()).as(ftplib.describe("ftplib through lb1")).contains("nlst shared.bin").contains("sha256 " + sum);
        Map<String, Long> after = sessionsViaLb1();
        List<String> reached = SERVERS.stream().filter(s -> after.get(s) > downloads.get(s)).toList();
        assertThat(reached).as("servers the three downloads through lb1 reached (the upload went to %s)", uploader)
                .hasSizeGreaterThan(1).anyMatch(s -> !s.equals(uploader));
    }

    /** Lists the directory (NLST), downloads NAME: "nlst NAME..." and "sha256 HEX". */
    private static final String FTPLIB_GET = """
            import ftplib, hashlib, sys
            host, port, user, password, name = sys.argv[1:6]
            ftp = ftplib.FTP(timeout=20)
            ftp.connect(host, int(port))
            ftp.login(user, password)
            print("nlst", " ".join(ftp.nlst()))
            digest = hashlib.sha256()
            ftp.retrbinary("RETR " + name, digest.update)
            print("sha256", digest.hexdigest())
            ftp.quit()
            """;

    // ---- an upload cut short on one server, resumed on another ---------------------------------

    /**
     * A client killed mid-upload (curl ended by its --max-time) leaves nothing on the store: its kernel closes the
     * data and the control connection at once, which the server takes for a lost client and aborts the multipart
     * upload (docs/uploads.md, "control-closed"), so curl {@code -C -} through another server finds no file (SIZE
     * gets 550) and sends the whole file again.
     */
    @Test
    @Order(2)
    void aKilledClientsUploadLeavesNothingSoCurlResumeThroughAnotherServerSendsItAll() throws Exception {
        Path file = randomFile("killed-client.bin", 12 * MiB + 7, 2);
        String name = file.getFileName().toString();
        ExternalCommand.Result cut = curl("--limit-rate", "2M", "--max-time", "1", "-T", file.toString(), url("s1") + name);
        // 28: curl's "operation timed out".
        assertThat(cut.exitCode()).as(cut.describe("the upload cut short")).isEqualTo(28);
        fixture.awaitLog("s1", "the cut upload's end, not committed", log -> log.lines()
                .anyMatch(l -> l.contains("event=transfer") && l.contains(" path=/" + name + " ") && l.contains("result=control-closed")));
        ExternalCommand.Result size = curl("-I", url("s2") + name);
        // 78: curl's "remote file not found" (550 to SIZE).
        assertThat(size.exitCode()).as(size.describe("SIZE through s2 after the cut upload\n" + fixture.get("s1").describe())).isEqualTo(78);

        ExternalCommand.Result resumed = curl("-v", "-C", "-", "-T", file.toString(), url("s2") + name).assertSuccess();
        System.out.println("ObjectStoreBedTest: curl -C - with nothing stored: " + sent(resumed));
        assertThat(resumed.stderr()).as(resumed.describe("curl -C - through s2")).contains("> SIZE " + name, "< 226");
        assertWholeOn("s3", file);
    }

    /**
     * A shorter upload that ended well (the data connection closed by the client while its control connection stays:
     * RFC 959 §3.4.1 stream mode, the end of the file) is what a resume continues: curl {@code -C -} through another
     * server asks SIZE and sends the rest with APPE, which the store builds from the old object by part copy
     * (docs/storage.md). The stored part is over one part size (5 MiB) here.
     */
    @Test
    @Order(3)
    void curlResumesThroughS2AnUploadStoredShortThroughS1() throws Exception {
        Path file = randomFile("resume-curl.bin", 12 * MiB + 7, 3);
        String name = file.getFileName().toString();
        long partial = 7L * MiB + 3;
        storeStart("s1", file, partial);

        ExternalCommand.Result resumed = curl("-v", "-C", "-", "-T", file.toString(), url("s2") + name).assertSuccess();
        System.out.println("ObjectStoreBedTest: curl -C - after a short upload: " + sent(resumed));
        // curl's -v: "> " what it sent, "< " the reply.
        assertThat(resumed.stderr()).as(resumed.describe("curl -C - through s2"))
                .contains("> SIZE " + name, "< 213 " + partial, "> APPE " + name, "< 226");
        assertWholeOn("s3", file);
    }

    /**
     * lftp's {@code put -c} asks SIZE and resumes with REST + STOR, built on the store as APPE is; the stored part is
     * smaller than a part (S3 takes a copied part under 5 MiB only as the last one).
     */
    @Test
    @Order(4)
    void lftpResumesThroughS3AnUploadStoredShortThroughS2() throws Exception {
        Path file = randomFile("resume-lftp.bin", 9 * MiB + 11, 4);
        String name = file.getFileName().toString();
        long partial = 3L * MiB + 5;
        storeStart("s2", file, partial);

        ExternalCommand.Result resumed = client(List.of("lftp", "-d", "-c", lftpOpen("s3") + "; put -c " + file + " -o " + name))
                .assertSuccess();
        String debug = resumed.stdout() + resumed.stderr();
        System.out.println("ObjectStoreBedTest: lftp put -c: " + debug.lines().filter(l -> l.contains("---> ") && !l.contains("PASS")).toList());
        assertThat(debug).as(resumed.describe("lftp put -c through s3")).containsAnyOf("---> REST " + partial, "---> APPE " + name);
        assertWholeOn("s1", file);
    }

    /** Stores the first {@code count} bytes of {@code file} under its name through {@code server} (ftplib: a 226). */
    private static void storeStart(String server, Path file, long count) throws Exception {
        String name = file.getFileName().toString();
        ExternalCommand.Result r = client(List.of("python3", "-c", """
                import ftplib, io, sys
                host, port, user, password, name, source, count = sys.argv[1:8]
                with open(source, "rb") as f:
                    data = f.read(int(count))
                ftp = ftplib.FTP(timeout=20)
                ftp.connect(host, int(port))
                ftp.login(user, password)
                print(ftp.storbinary("STOR " + name, io.BytesIO(data)))
                ftp.quit()
                """, TestBed.address(server), PORT, USER, PASSWORD, name, file.toString(), Long.toString(count))).assertSuccess();
        assertThat(r.stdout()).as(r.describe("the short upload")).startsWith("226");
        String other = SERVERS.get((SERVERS.indexOf(server) + 1) % SERVERS.size());
        assertThat(size(other, name)).as("the short upload, seen through %s", other).isEqualTo(count);
    }

    /** The commands curl's -v says it sent. */
    private static List<String> sent(ExternalCommand.Result r) {
        return r.stderr().lines().filter(l -> l.startsWith("> ") && !l.startsWith("> PASS")).toList();
    }

    // ---- rename seen everywhere ------------------------------------------------------------------

    @Test
    @Order(5)
    void aRenameThroughS2OfAFileUploadedThroughS1IsSeenThroughS3() throws Exception {
        Path file = randomFile("before-rename.bin", 6 * MiB + 1, 4);
        curl("-T", file.toString(), url("s1") + "before-rename.bin").assertSuccess();
        ExternalCommand.Result rename = client(List.of("python3", "-c", """
                import ftplib, sys
                ftp = ftplib.FTP(timeout=20)
                ftp.connect(sys.argv[1], int(sys.argv[2]))
                ftp.login(sys.argv[3], sys.argv[4])
                print(ftp.rename("before-rename.bin", "after-rename.bin"))
                ftp.quit()
                """, TestBed.address("s2"), PORT, USER, PASSWORD)).assertSuccess();
        assertThat(rename.stdout()).as(rename.describe("RNFR/RNTO through s2")).startsWith("250");

        ExternalCommand.Result list = curl("-l", url("s3")).assertSuccess();
        assertThat(list.stdout().lines()).as("NLST through s3").contains("after-rename.bin").doesNotContain("before-rename.bin");
        assertWholeOn("s3", file, "after-rename.bin");
        ExternalCommand.Result gone = curl("-o", "/dev/null", url("s3") + "before-rename.bin");
        // 78: curl's "remote file not found" (550 to RETR).
        assertThat(gone.exitCode()).as(gone.describe("the old name through s3")).isEqualTo(78);
    }

    // ---- the store unreachable mid-upload -------------------------------------------------------

    @Test
    @Order(6)
    void theStoreUnreachableMidUploadFailsTheTransferAndKeepsTheOldObject() throws Exception {
        Path old = randomFile("outage-old.bin", MiB + 5, 5);
        curl("-T", old.toString(), url("s2") + "outage.bin").assertSuccess();
        Path fresh = randomFile("outage-new.bin", 16 * MiB, 6);
        String key = PREFIX + "/outage.bin";

        Process upload = clientProcess("outage-curl", List.of("curl", "-sS", "-v", "--max-time", "40", "--limit-rate", "4M",
                "-u", USER + ":" + PASSWORD, "-T", fresh.toString(), url("s2") + "outage.bin"));
        long failedAfter;
        try {
            awaitUploads("the new upload's multipart upload is started", Duration.ofSeconds(10), keys -> keys.contains(key));
            linkOfStorage("down");
            long cut = System.nanoTime();
            assertThat(upload.waitFor(CLIENT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("curl ends while the store is away").isTrue();
            failedAfter = System.nanoTime() - cut;
        } finally {
            linkOfStorage("up");
            ExternalCommand.kill(upload);
        }
        String curlLog = Files.readString(work.resolve("outage-curl.err"));
        assertThat(upload.exitValue()).as("curl must fail: %s", curlLog).isNotZero();
        // The client sent the whole file before the store's timeouts ran out: it waits for the reply and gets 451.
        assertThat(curlLog).as("never a 226").doesNotContain("< 226").contains("< 451");
        String reply = curlLog.lines().filter(l -> l.startsWith("< 451")).findFirst().orElseThrow();
        fixture.awaitLog("s2", "the failed upload's transfer line", log -> log.lines()
                .anyMatch(l -> l.contains("event=transfer") && l.contains(" path=/outage.bin ") && !l.contains("result=ok")));

        // The abort that failed while the store was away is tried again, request-timeout apart.
        Duration aborted = awaitUploads("the failed upload's multipart upload aborted once the store is back",
                Duration.ofSeconds(30), keys -> !keys.contains(key));
        long abortedAfter = aborted.toNanos();
        assertThat(TestData.sha256(download("s3", "outage.bin"))).as("the old object, byte for byte").isEqualTo(TestData.sha256(old));

        curl("-T", fresh.toString(), url("s2") + "outage.bin").assertSuccess();
        assertWholeOn("s1", fresh, "outage.bin");
        System.out.printf("ObjectStoreBedTest: storage link down mid-upload (request-timeout %d s): the client got \"%s\" %d ms later; "
                        + "the multipart upload aborted %d ms after the link came back%n", REQUEST_TIMEOUT_SECONDS, reply,
                failedAfter / 1_000_000, abortedAfter / 1_000_000);
        System.out.println("ObjectStoreBedTest: s2's lines on the failed upload: " + fixture.get("s2").logLines().stream()
                .filter(l -> l.contains("outage.bin") || l.contains("storage-upload")).toList());
    }

    // ---- a server host killed mid-upload ---------------------------------------------------------

    @Test
    @Order(7)
    void aServerKilledMidUploadLeavesTheOldObjectAndAnIncompleteUploadForTheLifecycleRule() throws Exception {
        Path old = randomFile("killed-old.bin", MiB + 9, 7);
        curl("-T", old.toString(), url("lb1") + "killed.bin").assertSuccess();
        Path fresh = randomFile("killed-new.bin", 16 * MiB, 8);
        String key = PREFIX + "/killed.bin";

        Map<String, Long> before = sessionsViaLb1();
        Process upload = clientProcess("killed-curl", List.of("curl", "-sS", "-v", "--max-time", "40", "--limit-rate", "2M",
                "-u", USER + ":" + PASSWORD, "-T", fresh.toString(), url("lb1") + "killed.bin"));
        FerryOnHost victim;
        Instant killed;
        long downsBefore;
        try {
            awaitUploads("the new upload's multipart upload is started", Duration.ofSeconds(10), keys -> keys.contains(key));
            victim = fixture.get(newSessionOn(before));
            // lb1 started with the servers and saw each down once before it came up.
            downsBefore = backendDowns(victim.host()).size();
            victim.killHard();
            killed = Instant.now();
            assertThat(upload.waitFor(CLIENT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("curl ends").isTrue();
        } finally {
            ExternalCommand.kill(upload);
        }
        String curlLog = Files.readString(work.resolve("killed-curl.err"));
        assertThat(upload.exitValue()).as("curl must fail: %s", curlLog).isNotZero();
        assertThat(curlLog).as("never a 226").doesNotContain("< 226");
        String survivor = SERVERS.stream().filter(s -> !s.equals(victim.host())).findFirst().orElseThrow();
        assertThat(TestData.sha256(download(survivor, "killed.bin"))).as("the old object, byte for byte").isEqualTo(TestData.sha256(old));
        // Nobody is left to abort it: the bucket's lifecycle rule (AbortIncompleteMultipartUpload) must.
        assertThat(multipartUploads()).as("the killed server's multipart upload stays listed").contains(key);

        fixture.awaitLog("lb1", victim.host() + " marked down", log -> backendDowns(log, victim.host()).size() > downsBefore);
        // The log line's own time (ISO-8601 at the start of the line): the waits above are not part of it.
        String downLine = backendDowns(victim.host()).getLast();
        long down = Duration.between(killed, Instant.parse(downLine.substring(0, downLine.indexOf(' ')))).toMillis();
        Map<String, Long> retry = sessionsViaLb1();
        curl("-T", fresh.toString(), url("lb1") + "killed.bin").assertSuccess();
        assertThat(newSessionOn(retry)).isNotEqualTo(victim.host());
        assertWholeOn(survivor, fresh, "killed.bin");
        // Completing another upload of the same key leaves the killed one where it was.
        assertThat(multipartUploads()).as("the killed server's multipart upload, after a new upload of the key").containsOnlyOnce(key);
        System.out.printf("ObjectStoreBedTest: %s killed (SIGKILL) mid-upload: lb1 marked it down after %d ms; "
                + "its multipart upload is left for the lifecycle rule%n", victim.host(), down);
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static String url(String host) {
        return "ftp://" + TestBed.address(host) + ":" + PORT + "/";
    }

    private static String lftpOpen(String host) {
        // Plain FTP, as curl and ftplib speak here: lftp would try AUTH TLS and refuse the servers' own certificate.
        return String.join("; ", "set ftp:ssl-allow false", "set net:max-retries 1", "set net:timeout 15",
                "open -u " + USER + "," + PASSWORD + " " + url(host));
    }

    /** curl on the client host, logged in as the bed's user. */
    private static ExternalCommand.Result curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "-u", USER + ":" + PASSWORD));
        command.addAll(List.of(args));
        return client(command);
    }

    private static ExternalCommand.Result client(List<String> command) throws Exception {
        return fixture.client(CLIENT_TIMEOUT, command);
    }

    /** A program on the client host beside the test, its stdout discarded and its stderr in NAME.err. */
    private static Process clientProcess(String name, List<String> command) throws IOException {
        Process p = new ProcessBuilder(bed.on("client", command.toArray(String[]::new)))
                .directory(work.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(work.resolve(name + ".err").toFile())
                .start();
        bed.started(p);
        return p;
    }

    private static Path randomFile(String name, long size, long seed) throws IOException {
        Path file = files.resolve(name);
        byte[] block = new byte[MiB];
        Random random = new Random(seed);
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; left -= block.length) {
                random.nextBytes(block);
                out.write(block, 0, (int) Math.min(block.length, left));
            }
        }
        return file;
    }

    private static Path download(String server, String name) throws Exception {
        Path got = Files.createTempFile(files, "got-", ".bin");
        curl("-o", got.toString(), url(server) + name).assertSuccess();
        return got;
    }

    private static void assertWholeOn(String server, Path file) throws Exception {
        assertWholeOn(server, file, file.getFileName().toString());
    }

    private static void assertWholeOn(String server, Path file, String name) throws Exception {
        assertThat(TestData.sha256(download(server, name))).as("%s through %s", name, server).isEqualTo(TestData.sha256(file));
    }

    /** SIZE through {@code server}, as curl's -I shows it. */
    private static long size(String server, String name) throws Exception {
        ExternalCommand.Result r = curl("-I", url(server) + name).assertSuccess();
        Matcher m = Pattern.compile("Content-Length: (\\d+)").matcher(r.stdout());
        assertThat(m.find()).as(r.describe("SIZE of " + name)).isTrue();
        return Long.parseLong(m.group(1));
    }

    /**
     * ListMultipartUploads (GET /BUCKET?uploads) signed with SigV4 by hand, so that nothing but Python's standard
     * library is needed on the storage host (curl 7.88's --aws-sigv4 got 403 from S3Proxy for "?uploads").
     * Prints the response body; exits 1 on an HTTP error.
     */
    private static final String LIST_UPLOADS = """
            import datetime, hashlib, hmac, sys, urllib.error, urllib.request
            endpoint, host, bucket, access, secret = sys.argv[1:6]
            now = datetime.datetime.now(datetime.timezone.utc)
            amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
            payload = hashlib.sha256(b"").hexdigest()
            headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
            signed = ";".join(sorted(headers))
            canonical = "\\n".join(["GET", "/" + bucket, "uploads=",
                                   "".join(k + ":" + headers[k] + "\\n" for k in sorted(headers)), signed, payload])
            scope = day + "/us-east-1/s3/aws4_request"
            to_sign = "\\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
            key = ("AWS4" + secret).encode()
            for part in (day, "us-east-1", "s3", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
            request = urllib.request.Request(endpoint + "/" + bucket + "?uploads=", headers={
                "x-amz-content-sha256": payload, "x-amz-date": amz_date,
                "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (access, scope, signed, signature)})
            try:
                print(urllib.request.urlopen(request, timeout=10).read().decode())
            except urllib.error.HTTPError as e:
                print(e.code, e.read().decode(), file=sys.stderr)
                sys.exit(1)
            """;

    /** The keys of the bucket's multipart uploads in progress (ListMultipartUploads), asked on the storage host. */
    private static List<String> multipartUploads() throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(work, Duration.ofSeconds(20), Map.of(), bed.on("storage",
                "python3", "-c", LIST_UPLOADS, ENDPOINT, TestBed.address("storage") + ":" + STORE_PORT, S3ProxyServer.BUCKET,
                S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)).assertSuccess();
        List<String> keys = new ArrayList<>();
        Matcher m = UPLOAD_KEY.matcher(r.stdout());
        while (m.find()) {
            keys.add(m.group(1));
        }
        return keys;
    }

    /** Asks {@link #multipartUploads} every 100 ms until {@code condition} holds; how long that took. */
    private static Duration awaitUploads(String what, Duration limit, Predicate<List<String>> condition) throws Exception {
        long start = System.nanoTime();
        List<String> keys = multipartUploads();
        while (!condition.test(keys)) {
            if (System.nanoTime() - start > limit.toNanos()) {
                throw new AssertionError("not within " + limit.toSeconds() + " s: " + what + "; multipart uploads: " + keys);
            }
            Thread.sleep(100);
            keys = multipartUploads();
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** The storage host's only link, up or down: the store unreachable, its process untouched. */
    private static void linkOfStorage(String state) throws Exception {
        ExternalCommand.run(Path.of("/"), Duration.ofSeconds(20), Map.of(),
                List.of(bed.ip().toString(), "-n", bed.namespace("storage"), "link", "set", "eth0", state)).assertSuccess();
    }

    private static void awaitStoreReady() throws Exception {
        Path out = work.resolve("s3proxy.out");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!(Files.exists(out) && Files.readString(out).contains(StorageHostMain.READY))) {
            if (!store.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("S3Proxy did not start on the storage host" + (store.isAlive() ? " within 60 s" : "")
                        + ":\n" + Files.readString(work.resolve("s3proxy.err")));
            }
            Thread.sleep(100);
        }
    }

    /** Each server's count of sessions lb1 relayed from the client (their connect lines, from the PROXY v2 header). */
    private static Map<String, Long> sessionsViaLb1() {
        Map<String, Long> counts = new HashMap<>();
        for (String s : SERVERS) {
            FerryOnHost f = fixture.get(s);
            try {
                counts.put(s, f.isAlive() ? f.logLines().stream()
                        .filter(l -> l.contains("event=connect") && l.contains(" client=" + CLIENT + ":")
                                && l.contains(" via=" + TestBed.address("lb1") + ":"))
                        .count() : 0L);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return counts;
    }

    /** lb1's lines that mark {@code server} down. */
    private static List<String> backendDowns(String server) throws IOException {
        return backendDowns(fixture.get("lb1").log(), server);
    }

    private static List<String> backendDowns(String log, String server) {
        return log.lines().filter(l -> l.contains("event=backend-down backend=" + server + " ")).toList();
    }

    /** The one server with more sessions through lb1 than in {@code before}. */
    private static String newSessionOn(Map<String, Long> before) {
        Map<String, Long> now = sessionsViaLb1();
        List<String> grew = SERVERS.stream().filter(s -> now.get(s) > before.get(s)).toList();
        assertThat(grew).as("the server that took the new session:\n%s", fixture.describeServers()).hasSize(1);
        return grew.getFirst();
    }
}
