package dev.ferry.it;

import static dev.ferry.it.FerryServerExtension.PASSWORD;
import static dev.ferry.it.FerryServerExtension.READER;
import static dev.ferry.it.FerryServerExtension.READER_PASSWORD;
import static dev.ferry.it.FerryServerExtension.USER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.Bandwidth;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bandwidth limits measured over real sockets with curl and Commons Net: a user's rate, shared by the user's
 * sessions; the server's rate, shared by every user; an unlimited user untouched; a client killed in the middle of
 * a limited upload.
 *
 * <p>The timing math. A bucket holds a tenth of a second of its rate when quiet, so N bytes at R bytes per second
 * take (N - R/10) / R: 3 MiB at 1 MiB/s take 2.9 s. The assertions allow 2.4 s to 3.9 s (about -17 % to +34 %
 * around 2.9 s): a limit that did not apply would take milliseconds on loopback, one applied twice 5.8 s, so the
 * range checks the limit while leaving room for a loaded test machine (which can only make a transfer slower).
 * Times are curl's own ({@code time_total - time_pretransfer}: from the transfer command to its end, without
 * curl's start and the login) or measured around the Commons Net calls.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BandwidthLimitTest {

    private static final int MIB = 1024 * 1024;
    private static final double LOW = 2.4;
    private static final double HIGH = 3.9;

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension();

    /** alice limited to {@code user}, the server to {@code server}; reader unlimited. */
    private void limits(Bandwidth user, Bandwidth server) throws Exception {
        ferry.restart(s -> {
            List<ServerSettings.UserAccount> users = new ArrayList<>();
            for (ServerSettings.UserAccount u : s.users()) {
                users.add(u.name().equals(USER) ? u.withPolicy(AccountPolicy.NONE.withBandwidth(user)) : u);
            }
            return s.withUsers(users, s.usersFile()).withLimits(s.limits().withBandwidth(server));
        });
    }

    /** curl's transfer time in seconds (from the transfer command to its end) and its exit. */
    private double curlSeconds(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("-w", "%{time_pretransfer} %{time_total}\\n"));
        all.addAll(List.of(args));
        String out = FtpsClients.curl(ferry, all.toArray(String[]::new)).assertSuccess().stdout().strip();
        String[] times = out.substring(out.lastIndexOf('\n') + 1).split(" ");
        return Double.parseDouble(times[1]) - Double.parseDouble(times[0]);
    }

    private static void report(String what, long bytes, double seconds, long limit) {
        System.out.printf(Locale.ROOT, "bandwidth: %s: %d bytes in %.3f s = %.3f MiB/s (limit %.3f MiB/s)%n",
                what, bytes, seconds, bytes / seconds / MIB, limit / (double) MIB);
    }

    @Test
    void aDownloadLimitedToOneMebibytePerSecondTakesThreeSecondsForThreeMebibytes() throws Exception {
        limits(new Bandwidth(0, MIB), Bandwidth.UNLIMITED);
        byte[] content = TestData.randomFile(ferry.root().resolve("three.bin"), 3 * MIB, 1);

        double seconds = curlSeconds("-o", "three.bin", ferry.url() + "/three.bin");

        report("download (sendfile)", 3L * MIB, seconds, MIB);
        assertThat(seconds).isBetween(LOW, HIGH);
        TestData.within(Duration.ofSeconds(10), "the transfer line, with the limit",
                () -> ferry.logLines().stream().anyMatch(l -> l.contains("event=transfer ") && l.contains(" limit=1048576")));
        assertThat(TestData.sha256(ferry.clientDir().resolve("three.bin"))).isEqualTo(TestData.sha256(content));
    }

    @Test
    void anUploadLimitedToOneMebibytePerSecondTakesThreeSecondsForThreeMebibytes() throws Exception {
        limits(new Bandwidth(MIB, 0), Bandwidth.UNLIMITED);
        byte[] content = TestData.randomFile(ferry.clientDir().resolve("up.bin"), 3 * MIB, 2);

        double seconds = curlSeconds("-T", "up.bin", ferry.url() + "/up.bin");

        report("upload", 3L * MIB, seconds, MIB);
        assertThat(seconds).isBetween(LOW, HIGH);
        assertThat(TestData.sha256(ferry.root().resolve("up.bin"))).isEqualTo(TestData.sha256(content));
    }

    /** PROT P and TYPE A go through the buffered loop, not sendfile: limited all the same. */
    @Test
    void protectedAndAsciiDownloadsAreLimitedToo() throws Exception {
        limits(new Bandwidth(0, MIB), Bandwidth.UNLIMITED);
        byte[] content = TestData.randomFile(ferry.root().resolve("three.bin"), 3 * MIB, 3);
        // Lines without CR: TYPE A adds one CR per line, and the limit counts what goes on the wire.
        Files.writeString(ferry.root().resolve("text.txt"), "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS\n"
                .repeat(3 * MIB / 66));

        double tls = curlSeconds("--ssl-reqd", "--insecure", "-o", "tls.bin", ferry.url() + "/three.bin");
        double ascii = curlSeconds("-o", "text.txt", ferry.url() + "/text.txt;type=a");

        report("download (PROT P)", 3L * MIB, tls, MIB);
        long wire = 3L * MIB / 66 * 67;
        report("download (TYPE A, wire bytes)", wire, ascii, MIB);
        assertThat(tls).isBetween(LOW, HIGH);
        assertThat(ascii).isBetween(LOW * wire / (3.0 * MIB), HIGH * wire / (3.0 * MIB));
        assertThat(TestData.sha256(ferry.clientDir().resolve("tls.bin"))).isEqualTo(TestData.sha256(content));
    }

    @Test
    void twoSessionsOfOneUserShareItsLimit() throws Exception {
        limits(new Bandwidth(0, MIB), Bandwidth.UNLIMITED);
        TestData.randomFile(ferry.root().resolve("a.bin"), 3 * MIB / 2, 4);
        TestData.randomFile(ferry.root().resolve("b.bin"), 3 * MIB / 2, 5);

        double seconds = together(List.of(() -> retrieve(USER, PASSWORD, "a.bin"), () -> retrieve(USER, PASSWORD, "b.bin")));

        report("two sessions of one user, together", 3L * MIB, seconds, MIB);
        assertThat(seconds).isBetween(LOW, HIGH);
    }

    @Test
    void theServersLimitCapsTwoUsersTogether() throws Exception {
        limits(Bandwidth.UNLIMITED, new Bandwidth(0, MIB));
        TestData.randomFile(ferry.root().resolve("a.bin"), 3 * MIB / 2, 6);
        TestData.randomFile(ferry.root().resolve("b.bin"), 3 * MIB / 2, 7);

        double seconds = together(List.of(() -> retrieve(USER, PASSWORD, "a.bin"),
                () -> retrieve(READER, READER_PASSWORD, "b.bin")));

        report("two users under the server's limit, together", 3L * MIB, seconds, MIB);
        assertThat(seconds).isBetween(LOW, HIGH);
    }

    @Test
    void anUnlimitedUserGoesAtFullSpeedWhileALimitedOneIsSlowed() throws Exception {
        limits(new Bandwidth(MIB, MIB), Bandwidth.UNLIMITED);
        TestData.randomFile(ferry.root().resolve("slow.bin"), 3 * MIB, 8);
        TestData.randomFile(ferry.root().resolve("big.bin"), 64 * MIB, 9);

        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try {
            Future<Double> slow = pool.submit(() -> retrieve(USER, PASSWORD, "slow.bin"));
            double fast = retrieve(READER, READER_PASSWORD, "big.bin");
            report("unlimited user beside a limited one", 64L * MIB, fast, 0);
            // more than ten times the limited user's rate
            assertThat(64.0 / fast).isGreaterThan(10);
        TestData.within(Duration.ofSeconds(10), "the unlimited transfer's line",
                () -> ferry.logLines().stream().anyMatch(l -> l.contains("event=transfer ") && l.contains(" path=/big.bin")));
        assertThat(ferry.logLines()).filteredOn(l -> l.contains("event=transfer ") && l.contains(" path=/big.bin"))
                .singleElement().asString().doesNotContain("limit=");
            assertThat(slow.get(30, TimeUnit.SECONDS)).isBetween(LOW, HIGH);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The figures of the closing note: 10 MiB/s down and up (30 MiB each, 2.9 s). */
    @Test
    void tenMebibytesPerSecondDownAndUp() throws Exception {
        long limit = 10L * MIB;
        limits(new Bandwidth(limit, limit), Bandwidth.UNLIMITED);
        TestData.randomFile(ferry.root().resolve("down.bin"), 30 * MIB, 10);
        byte[] up = TestData.randomFile(ferry.clientDir().resolve("up.bin"), 30 * MIB, 11);

        double down = curlSeconds("-o", "down.bin", ferry.url() + "/down.bin");
        double upload = curlSeconds("-T", "up.bin", ferry.url() + "/up.bin");

        report("download", 30L * MIB, down, limit);
        report("upload", 30L * MIB, upload, limit);
        assertThat(down).isBetween(LOW, HIGH);
        assertThat(upload).isBetween(LOW, HIGH);
        assertThat(TestData.sha256(ferry.root().resolve("up.bin"))).isEqualTo(TestData.sha256(up));
    }

    /**
     * kill -9 of a client in the middle of a limited upload (its data connection then ends as cleanly as a finished
     * one, and its control connection with it): nothing is published, the transfer ends, the session ends, and the
     * user's buckets go with the user's last session.
     */
    @Test
    void aClientKilledInALimitedUploadLeavesNothingAndNoThreadBehind() throws Exception {
        limits(new Bandwidth(MIB, 0), Bandwidth.UNLIMITED);
        assertThat(ferry.server().context().bandwidth().users()).isZero();
        try (StallingUpload upload = StallingUpload.start(ferry.clientDir(), ferry.host(), ferry.port(), "STOR cut.bin",
                -1, 2L * MIB, 0, StallingUpload.Then.WAIT)) {
            assertThat(ferry.server().context().bandwidth().users()).isEqualTo(1);
            upload.kill();
        }
        // The server had read at most what the limit let through: it is still reading when the client dies.
        TestData.within(Duration.ofSeconds(10), "the upload's transfer line",
                () -> ferry.logLines().stream().anyMatch(l -> l.contains("event=transfer ")));
        String line = ferry.logLines().stream().filter(l -> l.contains("event=transfer ")).findFirst().orElseThrow();
        assertThat(line).doesNotContain("result=ok");
        TestData.within(Duration.ofSeconds(10), "the session's end",
                () -> ferry.logLines().stream().anyMatch(l -> l.contains("event=disconnect ")));
        assertThat(ferry.server().context().bandwidth().users()).isZero();
        assertThat(ferry.server().context().sessions().count()).isZero();
        assertThat(TestData.names(ferry.root())).isEmpty();
    }

    /**
     * A small file (which an unlimited session sends on its control thread) under a slow limit goes on a transfer
     * thread of its own: the control connection still answers ABOR at once, not after the file's 20 s.
     */
    @Test
    void aSmallLimitedDownloadLeavesTheControlConnectionFreeForAbor() throws Exception {
        limits(new Bandwidth(0, 1000), Bandwidth.UNLIMITED);
        TestData.randomFile(ferry.root().resolve("small.bin"), 20_000, 12);
        try (RawFtp c = RawFtp.loggedIn(ferry.port(), USER, PASSWORD)) {
            c.command("TYPE I", 200);
            InetSocketAddress data = c.pasv();
            // The data connection is there before RETR: what makes a small download inline without a limit.
            try (Socket d = new Socket(data.getAddress(), data.getPort())) {
                long start = System.nanoTime();
                c.command("RETR small.bin", 150);
                c.send("ABOR");
                assertThat(c.reply().code()).isEqualTo(426);
                assertThat(c.reply().code()).isEqualTo(226);
                assertThat((System.nanoTime() - start) / 1e9).isLessThan(5);
            }
        }
    }

    /** When each RETR was sent and its data ended ({@link System#nanoTime()}), by {@link #retrieve}. */
    private final List<long[]> spans = new CopyOnWriteArrayList<>();

    /**
     * Runs the calls at once; the seconds from the first RETR to the end of the last one's data (the logins, slow
     * by design, are left out: the bucket is busy from the first RETR on, whichever session holds it).
     */
    private double together(List<Callable<Double>> calls) throws Exception {
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try {
            spans.clear();
            List<Future<Double>> running = new ArrayList<>();
            for (Callable<Double> c : calls) {
                running.add(pool.submit(c));
            }
            for (Future<Double> f : running) {
                f.get(60, TimeUnit.SECONDS);
            }
            long first = spans.stream().mapToLong(s -> s[0]).min().orElseThrow();
            long last = spans.stream().mapToLong(s -> s[1]).max().orElseThrow();
            return (last - first) / 1e9;
        } finally {
            pool.shutdownNow();
        }
    }

    /** RETR through Commons Net as {@code user}; the seconds from RETR to the end of the data. */
    private double retrieve(String user, String password, String name) throws Exception {
        FTPClient c = new FTPClient();
        c.setConnectTimeout(5_000);
        c.setDefaultTimeout(10_000);
        c.setDataTimeout(Duration.ofSeconds(10));
        try {
            c.connect(InetAddress.getByName(ferry.host()), ferry.port());
            c.setSoTimeout(10_000);
            assertThat(c.login(user, password)).as(c.getReplyString()).isTrue();
            c.enterLocalPassiveMode();
            c.setFileType(FTP.BINARY_FILE_TYPE);
            long start = System.nanoTime();
            long bytes = 0;
            try (InputStream in = c.retrieveFileStream(name)) {
                assertThat(in).as(c.getReplyString()).isNotNull();
                byte[] buffer = new byte[64 * 1024];
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    bytes += n;
                }
            }
            long end = System.nanoTime();
            spans.add(new long[] {start, end});
            double seconds = (end - start) / 1e9;
            assertThat(c.completePendingCommand()).as(c.getReplyString()).isTrue();
            assertThat(bytes).isEqualTo(Files.size(ferry.root().resolve(name)));
            c.logout();
            return seconds;
        } finally {
            if (c.isConnected()) {
                c.disconnect();
            }
        }
    }
}
