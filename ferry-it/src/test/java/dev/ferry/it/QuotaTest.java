package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.server.ServerSettings;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.Quota;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Quotas over real sockets with real clients (Commons Net, curl, Python ftplib): alice may keep 1 MiB in 4
 * files (counted once from what her home holds), bob has no quota. An upload past the quota is answered 552
 * (RFC 959 §4.2) and leaves nothing behind, or the old file as it was; room is reserved as bytes arrive, so two
 * uploads cannot both use the last of it; DELE frees room; SITE QUOTA shows the usage.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class QuotaTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final Quota QUOTA = new Quota(MIB, 4);
    private static final String BOB = "bob";

    @RegisterExtension
    final FerryServerExtension ferry = new FerryServerExtension().configure(s -> s.withUsers(List.of(
            new ServerSettings.UserAccount(FerryServerExtension.USER, FerryServerExtension.hash(FerryServerExtension.PASSWORD),
                    null, true, true).withPolicy(AccountPolicy.NONE.withQuota(QUOTA)),
            new ServerSettings.UserAccount(BOB, FerryServerExtension.hash(FerryServerExtension.PASSWORD), null, true, true)),
            null));

    private final CommonsNetClients clients = new CommonsNetClients();

    private FTPClient alice() throws IOException {
        return clients.loggedIn(ferry);
    }

    /** SITE QUOTA's lines, each without its line end. */
    private static List<String> siteQuota(FTPClient c) throws IOException {
        assertThat(c.sendCommand("SITE QUOTA")).isEqualTo(200);
        return Arrays.stream(c.getReplyStrings()).map(String::stripTrailing).toList();
    }

    private static long reserved(FTPClient c) throws IOException {
        String line = siteQuota(c).stream().filter(l -> l.contains("Reserved by uploads")).findFirst().orElseThrow();
        return Long.parseLong(line.replaceAll(".*: (\\d+) bytes.*", "$1"));
    }

    private List<String> quotaLines(String result) {
        return ferry.logLines().stream().filter(l -> l.contains("event=transfer ") && l.contains("result=" + result))
                .toList();
    }

    @Test
    void anUploadWithinTheQuotaIsStoredAndCountedWithWhatTheHomeHeld() throws Exception {
        TestData.randomFile(ferry.root().resolve("before.bin"), 100_000, 1);
        FTPClient c = alice();

        assertThat(c.storeFile("a.bin", new ByteArrayInputStream(TestData.random(200_000, 2))))
                .as(CommonsNetClients.reply(c)).isTrue();

        assertThat(siteQuota(c)).containsExactly(
                "200-Quota information:",
                " 300000 bytes used (28%) - authorized: 1048576 bytes",
                " 2 files used (50%) - authorized: 4 files",
                " Reserved by uploads in progress: 0 bytes, 0 files",
                "200 End of quota information.");
        assertThat(Files.size(ferry.root().resolve("a.bin"))).isEqualTo(200_000);
    }

    @Test
    void anAccountWithoutAQuotaIsToldSo() throws Exception {
        FTPClient bob = clients.connect(InetAddress.getByName(ferry.host()), ferry.port());
        assertThat(bob.login(BOB, FerryServerExtension.PASSWORD)).isTrue();

        assertThat(CommonsNetClients.send(bob, "SITE QUOTA")).isEqualTo("200 No quota applies to this account.");
        assertThat(CommonsNetClients.send(bob, "ALLO 1000")).startsWith("202 ");
        assertThat(CommonsNetClients.send(bob, "SITE HELP")).startsWith("214-");
        assertThat(bob.getReplyStrings()).contains(" QUOTA");
    }

    /** curl uploads 2 MiB as a new file: refused once it passes 1 MiB, nothing left, nothing counted. */
    @Test
    void aNewFileThatOutgrowsTheQuotaGets552AndLeavesNothing() throws Exception {
        Files.write(ferry.clientDir().resolve("big.bin"), TestData.random(2 * MIB, 3));

        ExternalCommand.Result r = FtpsClients.curl(ferry, "-v", "-T", "big.bin", "ftp://127.0.0.1:" + ferry.port() + "/big.bin");

        assertThat(r.exitCode()).as(r.stderr()).isNotZero();
        assertThat(r.stderr()).contains("< 552 Quota exceeded (1048576 bytes, 4 files): /big.bin was not stored.");
        assertThat(TestData.names(ferry.root())).as("no file, no temp file").isEmpty();
        TestData.await("the transfer line", () -> !quotaLines("refused").isEmpty());
        assertThat(quotaLines("refused").getFirst()).contains("cmd=STOR", "path=/big.bin", "reason=quota");
        assertThat(siteQuota(alice())).contains(" 0 bytes used (0%) - authorized: 1048576 bytes",
                " Reserved by uploads in progress: 0 bytes, 0 files");
    }

    /** ftplib: STOR over an existing file and APPE to it, each past the quota: the old file stays byte for byte. */
    @Test
    void anOverwriteOrAppendPastTheQuotaKeepsTheOldFile() throws Exception {
        byte[] old = TestData.randomFile(ferry.root().resolve("old.bin"), 600_000, 4);
        Files.write(ferry.clientDir().resolve("up.bin"), TestData.random(1_500_000, 5));
        Files.write(ferry.clientDir().resolve("tail.bin"), TestData.random(500_000, 6));
        Files.write(ferry.clientDir().resolve("small.bin"), TestData.random(100_000, 14));

        Map<String, String> v = FtpsClients.pythonScript(ferry, """
                import ftplib, sys
                def out(key, value):
                    print(key + "\\t" + str(value).replace("\\r", " ").replace("\\n", " "), flush=True)
                ftp = ftplib.FTP(timeout=20)
                ftp.connect(sys.argv[4], int(sys.argv[1]))
                ftp.login(sys.argv[2], sys.argv[3])
                for cmd, local in (("STOR old.bin", "up.bin"), ("APPE old.bin", "tail.bin"), ("STOR small.bin", "small.bin")):
                    try:
                        with open(local, "rb") as f:
                            out(cmd, ftp.storbinary(cmd, f))
                    except ftplib.error_perm as e:
                        out(cmd, str(e))
                    except OSError:
                        # The server closed the data connection under ftplib's writes: the reply follows.
                        try:
                            out(cmd, ftp.getresp())
                        except ftplib.error_perm as e:
                            out(cmd, str(e))
                ftp.quit()
                """);

        assertThat(v.get("STOR old.bin")).startsWith("552 Quota exceeded");
        assertThat(v.get("APPE old.bin")).startsWith("552 Quota exceeded");
        assertThat(v.get("STOR small.bin")).as("what fits still does").startsWith("226 ");
        assertThat(TestData.sha256(ferry.root().resolve("old.bin"))).isEqualTo(TestData.sha256(old));
        assertThat(TestData.names(ferry.root())).containsExactly("old.bin", "small.bin");
        assertThat(siteQuota(alice())).contains(" 700000 bytes used (66%) - authorized: 1048576 bytes",
                " 2 files used (50%) - authorized: 4 files", " Reserved by uploads in progress: 0 bytes, 0 files");
    }

    @Test
    void theFilesQuotaRefusesAFifthFileBeforeItsDataConnection() throws Exception {
        for (int i = 1; i <= 3; i++) {
            Files.write(ferry.root().resolve("f" + i), new byte[10]);
        }
        FTPClient c = alice();
        assertThat(c.storeFile("f4", new ByteArrayInputStream(new byte[10]))).isTrue();

        int before = clients.replies.size();
        assertThat(c.storeFile("f5", new ByteArrayInputStream(new byte[10]))).isFalse();

        assertThat(clients.replies.subList(before, clients.replies.size()))
                .as("552 at once: no 150, nothing opened")
                .noneMatch(l -> l.startsWith("150"))
                .anyMatch(l -> l.startsWith("552 Quota exceeded (1048576 bytes, 4 files): /f5 was not stored."));
        assertThat(TestData.names(ferry.root())).containsExactly("f1", "f2", "f3", "f4");
        assertThat(c.storeFile("f4", new ByteArrayInputStream(new byte[20]))).as("an overwrite adds no file").isTrue();
        assertThat(ferry.logLines()).anyMatch(l -> l.contains("event=refused") && l.contains("reason=quota"));
    }

    /** A full quota refuses the next upload before its 150; DELE frees the room. */
    @Test
    void aDeleteFreesItsRoom() throws Exception {
        TestData.randomFile(ferry.root().resolve("fat.bin"), MIB, 7);
        FTPClient c = alice();
        int before = clients.replies.size();
        assertThat(c.storeFile("more.bin", new ByteArrayInputStream(TestData.random(100_000, 8)))).isFalse();
        assertThat(CommonsNetClients.reply(c)).startsWith("552 ");
        assertThat(clients.replies.subList(before, clients.replies.size())).noneMatch(l -> l.startsWith("150"));

        assertThat(c.deleteFile("fat.bin")).isTrue();

        assertThat(c.storeFile("more.bin", new ByteArrayInputStream(TestData.random(100_000, 8)))).isTrue();
        assertThat(siteQuota(c)).contains(" 100000 bytes used (9%) - authorized: 1048576 bytes",
                " 1 files used (25%) - authorized: 4 files");
    }

    @Test
    void aRenameOverAFileFreesTheReplacedFile() throws Exception {
        TestData.randomFile(ferry.root().resolve("a.bin"), 300_000, 9);
        TestData.randomFile(ferry.root().resolve("b.bin"), 500_000, 10);
        FTPClient c = alice();

        assertThat(c.rename("a.bin", "b.bin")).isTrue();

        assertThat(siteQuota(c)).contains(" 300000 bytes used (28%) - authorized: 1048576 bytes",
                " 1 files used (25%) - authorized: 4 files");
    }

    /**
     * Two uploads of 600 KB, each within the 1 MiB quota but not together, racing: with ALLO each reserves its
     * size before its 150, so exactly one is stored and the other refused before it sends a byte.
     */
    @Test
    void ofTwoAllocatedUploadsThatDoNotFitTogetherExactlyOneIsStored() throws Exception {
        FTPClient[] both = {alice(), alice()};
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                FTPClient c = both[i];
                String name = "race" + i + ".bin";
                results.add(pool.submit(() -> {
                    assertThat(CommonsNetClients.send(c, "ALLO 600000")).startsWith("200 ");
                    go.await();
                    c.storeFile(name, new ByteArrayInputStream(TestData.random(600_000, 11)));
                    return CommonsNetClients.reply(c);
                }));
            }
            go.countDown();
            List<String> replies = new ArrayList<>();
            for (Future<String> f : results) {
                replies.add(f.get(60, TimeUnit.SECONDS).substring(0, 3));
            }

            assertThat(replies).containsExactlyInAnyOrder("226", "552");
            assertThat(TestData.names(ferry.root())).hasSize(1);
            assertThat(Files.size(ferry.root().resolve(TestData.names(ferry.root()).getFirst()))).isEqualTo(600_000);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Without ALLO: the first upload has sent 600 KB (and holds room for them) when a second (curl) starts:
     * the second is refused as it grows past the quota, the first then finishes and is stored.
     */
    @Test
    void anUploadCannotUseTheRoomARunningUploadHolds() throws Exception {
        FTPClient watcher = alice();
        try (StallingUpload first = StallingUpload.start(ferry.clientDir(), ferry.host(), ferry.port(), "STOR first.bin",
                -1, 600_000, 0, StallingUpload.Then.FINISH)) {
            TestData.await("the first upload's bytes held", () -> reserved(watcher) >= 600_000);
            Files.write(ferry.clientDir().resolve("second.bin"), TestData.random(600_000, 12));

            ExternalCommand.Result second = FtpsClients.curl(ferry, "-v", "-T", "second.bin",
                    "ftp://127.0.0.1:" + ferry.port() + "/second.bin");
            first.go();

            assertThat(second.stderr()).contains("< 552 Quota exceeded");
            assertThat(first.reply()).startsWith("226 ");
        }
        assertThat(TestData.names(ferry.root())).containsExactly("first.bin");
        assertThat(TestData.sha256(ferry.root().resolve("first.bin")))
                .isEqualTo(TestData.sha256(StallingUpload.content(0, 600_000)));
        assertThat(siteQuota(watcher)).contains(" 600000 bytes used (57%) - authorized: 1048576 bytes",
                " Reserved by uploads in progress: 0 bytes, 0 files");
    }

    @Test
    void aClientKilledMidUploadReleasesItsReservation() throws Exception {
        FTPClient watcher = alice();
        try (StallingUpload upload = StallingUpload.start(ferry.clientDir(), ferry.host(), ferry.port(), "STOR gone.bin",
                -1, 400_000, 0, StallingUpload.Then.WAIT)) {
            TestData.await("the upload's bytes held", () -> reserved(watcher) >= 400_000);
            upload.kill();
        }

        TestData.await("the reservation released", () -> reserved(watcher) == 0);
        assertThat(TestData.names(ferry.root())).isEmpty();
        assertThat(siteQuota(watcher)).contains(" 0 bytes used (0%) - authorized: 1048576 bytes",
                " 0 files used (0%) - authorized: 4 files");
    }

    /**
     * The cost of the quota check per upload: N uploads of 1 KiB in one session, by alice (quota: a reservation
     * before the 150, one step, a settlement) and by bob (none), three rounds each, alternating; the medians are
     * printed. Each round's uploads all succeed and alice's usage ends exactly at what she stored.
     */
    @Test
    void theQuotaCheckCostPerSmallUpload() throws Exception {
        int n = 300;
        Quota big = new Quota(1L << 40, 1_000_000);
        ferry.restart(s -> s.withUsers(List.of(
                new ServerSettings.UserAccount(FerryServerExtension.USER, FerryServerExtension.hash(FerryServerExtension.PASSWORD),
                        null, true, true).withPolicy(AccountPolicy.NONE.withQuota(big)),
                new ServerSettings.UserAccount(BOB, FerryServerExtension.hash(FerryServerExtension.PASSWORD), null, true, true)),
                null));
        FTPClient alice = alice();
        FTPClient bob = clients.connect(InetAddress.getByName(ferry.host()), ferry.port());
        assertThat(bob.login(BOB, FerryServerExtension.PASSWORD)).isTrue();
        bob.enterLocalPassiveMode();
        bob.setFileType(FTPClient.BINARY_FILE_TYPE);
        byte[] kib = TestData.random(KIB, 13);
        uploads(alice, "warm-a", 50, kib);
        uploads(bob, "warm-b", 50, kib);
        List<Double> with = new ArrayList<>();
        List<Double> without = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            with.add(uploads(alice, "a" + round, n, kib));
            without.add(uploads(bob, "b" + round, n, kib));
        }

        // bob's files share the root, but alice was counted (empty) before he uploaded: her usage is her own.
        assertThat(siteQuota(alice)).contains(" " + (50 + 3L * n) * KIB + " bytes used (0%) - authorized: "
                + big.bytes() + " bytes", " " + (50 + 3 * n) + " files used (0%) - authorized: 1000000 files");
        System.out.printf("QuotaTest: %d uploads of 1 KiB per round, medians of 3: with a quota %.0f uploads/s, without %.0f"
                + " uploads/s (rounds with %s, without %s)%n", n, median(with), median(without), with, without);
    }

    /** {@code count} STORs of {@code content}; the rate in uploads per second. */
    private static double uploads(FTPClient c, String prefix, int count, byte[] content) throws IOException {
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            assertThat(c.storeFile(prefix + "-" + i, new ByteArrayInputStream(content))).as(CommonsNetClients.reply(c)).isTrue();
        }
        return count / ((System.nanoTime() - start) / 1e9);
    }

    private static double median(List<Double> values) {
        return values.stream().sorted().toList().get(values.size() / 2);
    }
}
