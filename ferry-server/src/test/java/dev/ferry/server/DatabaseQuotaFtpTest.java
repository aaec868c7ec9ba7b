package dev.ferry.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.database.DatabaseSettings;
import dev.ferry.runtime.password.PasswordHasher;
import dev.ferry.server.policy.AccountPolicy;
import dev.ferry.server.policy.DatabaseQuotaLedger;
import dev.ferry.server.policy.MemoryQuotaLedger;
import dev.ferry.server.policy.Quota;
import dev.ferry.testkit.PostgresServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A quota held across two servers over real sockets: servers A (127.0.0.31) and B (127.0.0.32) share one root
 * directory and one PostgreSQL, as two hosts of a cluster share a file system and a database. alice may keep
 * 100,000 bytes; bob has no quota.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DatabaseQuotaFtpTest {

    private static final String PASSWORD = "secret";
    private static final String HASH = PasswordHasher.hash(PASSWORD.toCharArray(), 256, 1, 1);
    private static final long QUOTA = 100_000;
    private static PostgresServer pg;
    private static final AtomicInteger DATABASES = new AtomicInteger();

    @TempDir
    Path root;
    private DatabaseSettings database;
    private final List<FtpServer> servers = new ArrayList<>();
    private final List<FTPClient> clients = new ArrayList<>();

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = PostgresServer.create();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    @BeforeEach
    void freshDatabase() throws Exception {
        String url = pg.createDatabase("f" + DATABASES.incrementAndGet());
        database = new DatabaseSettings(url, pg.user(), pg.passwordFile(), 4, Duration.ofSeconds(1), Duration.ofSeconds(2));
        Files.createDirectories(root.resolve("alice"));
        Files.createDirectories(root.resolve("bob"));
    }

    @AfterEach
    void stop() {
        for (FTPClient c : clients) {
            try {
                c.disconnect();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        servers.forEach(FtpServer::close);
    }

    private FtpServer start(String address, String node, boolean shared) throws IOException {
        List<ServerSettings.UserAccount> users = List.of(
                new ServerSettings.UserAccount("alice", HASH, root.resolve("alice"), true, true)
                        .withPolicy(AccountPolicy.NONE.withQuota(new Quota(QUOTA, 0))),
                new ServerSettings.UserAccount("bob", HASH, root.resolve("bob"), true, true));
        ServerSettings s = ServerSettings.defaults(root).withListen(new InetSocketAddress(address, 0)).withNode(node)
                .withUsers(users, null).withDatabase(shared ? database : null);
        FtpServer server = FtpServer.start(s);
        servers.add(server);
        return server;
    }

    private FTPClient login(FtpServer server, String user) throws IOException {
        FTPClient c = new FTPClient();
        c.setDefaultTimeout(10_000);
        c.setConnectTimeout(10_000);
        clients.add(c);
        c.connect(server.address().getAddress(), server.port());
        c.setSoTimeout(10_000);
        c.setDataTimeout(Duration.ofSeconds(10));
        assertThat(c.login(user, PASSWORD)).isTrue();
        c.setFileType(FTP.BINARY_FILE_TYPE);
        c.enterLocalPassiveMode();
        return c;
    }

    private static String reply(FTPClient c) {
        return c.getReplyString().strip();
    }

    private long stored(String user) throws IOException {
        try (Stream<Path> files = Files.walk(root.resolve(user))) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static long usedBytes(FTPClient c) throws IOException {
        assertThat(c.sendCommand("SITE QUOTA")).isEqualTo(200);
        String line = Arrays.stream(c.getReplyStrings()).filter(l -> l.contains("bytes used")).findFirst().orElseThrow();
        return Long.parseLong(line.strip().replaceAll(" bytes used.*", ""));
    }

    /** Both uploads at once, one through each server; what each STOR answered (true: stored). */
    private boolean[] race(FTPClient one, FTPClient two, int size, boolean allo) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            List<Future<Boolean>> done = new ArrayList<>();
            int n = 0;
            for (FTPClient c : List.of(one, two)) {
                String name = "f" + n++ + ".bin";
                done.add(pool.submit((Callable<Boolean>) () -> {
                    if (allo) {
                        assertThat(c.sendCommand("ALLO " + size)).as(reply(c)).isEqualTo(200);
                    }
                    go.await();
                    return c.storeFile(name, new ByteArrayInputStream(new byte[size]));
                }));
            }
            go.countDown();
            return new boolean[] {done.get(0).get(60, TimeUnit.SECONDS), done.get(1).get(60, TimeUnit.SECONDS)};
        }
    }

    @Test
    void twoConcurrentUploadsThroughTwoServersNeverBothPassWithAllo() throws Exception {
        FtpServer a = start("127.0.0.31", "a", true);
        FtpServer b = start("127.0.0.32", "b", true);
        assertThat(a.context().quotaLedger()).isInstanceOf(DatabaseQuotaLedger.class);
        FTPClient viaA = login(a, "alice");
        FTPClient viaB = login(b, "alice");
        for (int round = 0; round < 5; round++) {
            boolean[] r = race(viaA, viaB, 60_000, true);
            assertThat(r[0] && r[1]).as("round " + round + ": both stored").isFalse();
            // with ALLO the whole size is reserved before the 150: the loser is refused, the winner stores
            assertThat(r[0] || r[1]).as("round " + round + ": one of them fits alone").isTrue();
            assertThat(stored("alice")).isEqualTo(60_000);
            assertThat(usedBytes(viaB)).isEqualTo(60_000);
            FTPClient winner = r[0] ? viaA : viaB;
            assertThat(winner.deleteFile(r[0] ? "f0.bin" : "f1.bin")).as(reply(winner)).isTrue();
        }
    }

    @Test
    void twoConcurrentUploadsThroughTwoServersNeverBothPassWithoutAllo() throws Exception {
        FtpServer a = start("127.0.0.31", "a", true);
        FtpServer b = start("127.0.0.32", "b", true);
        FTPClient viaA = login(a, "alice");
        FTPClient viaB = login(b, "alice");
        for (int round = 0; round < 5; round++) {
            boolean[] r = race(viaA, viaB, 60_000, false);
            assertThat(r[0] && r[1]).as("round " + round + ": both stored").isFalse();
            // Growing step by step, both may run into the limit: never past it, and what is counted is what is there.
            assertThat(stored("alice")).isLessThanOrEqualTo(QUOTA);
            assertThat(usedBytes(viaA)).isEqualTo(stored("alice"));
            for (String name : List.of("f0.bin", "f1.bin")) {
                if (Files.exists(root.resolve("alice").resolve(name))) {
                    assertThat(viaB.deleteFile(name)).as(reply(viaB)).isTrue();
                }
            }
            assertThat(usedBytes(viaA)).isZero();
        }
    }

    @Test
    void usageIsSharedAndADeleteThroughOneServerMakesRoomOnTheOther() throws Exception {
        FtpServer a = start("127.0.0.31", "a", true);
        FtpServer b = start("127.0.0.32", "b", true);
        FTPClient viaA = login(a, "alice");
        FTPClient viaB = login(b, "alice");

        assertThat(viaA.storeFile("one.bin", new ByteArrayInputStream(new byte[70_000]))).as(reply(viaA)).isTrue();
        assertThat(viaB.sendCommand("SITE QUOTA")).isEqualTo(200);
        assertThat(Arrays.stream(viaB.getReplyStrings()).map(String::stripTrailing))
                .contains(" 70000 bytes used (70%) - authorized: 100000 bytes");
        assertThat(viaA.storeFile("two.bin", new ByteArrayInputStream(new byte[40_000]))).isFalse();
        assertThat(reply(viaA)).startsWith("552 Quota exceeded (100000 bytes)");
        assertThat(Files.exists(root.resolve("alice/two.bin"))).isFalse();

        assertThat(viaB.deleteFile("one.bin")).as(reply(viaB)).isTrue();

        assertThat(viaA.storeFile("two.bin", new ByteArrayInputStream(new byte[40_000]))).as(reply(viaA)).isTrue();
        assertThat(usedBytes(viaB)).isEqualTo(40_000);
    }

    @Test
    void aDatabaseThatIsDownRefusesLimitedUploadsWith451AndLeavesOthersAlone() throws Exception {
        FtpServer a = start("127.0.0.31", "a", true);
        FTPClient alice = login(a, "alice");
        FTPClient bob = login(a, "bob");
        assertThat(alice.storeFile("before.bin", new ByteArrayInputStream(new byte[1_000]))).isTrue();
        pg.stop();
        try {
            assertThat(alice.storeFile("during.bin", new ByteArrayInputStream(new byte[1_000]))).isFalse();
            assertThat(reply(alice)).isEqualTo("451 Quota usage cannot be checked now: /during.bin was not stored.");
            assertThat(bob.storeFile("during.bin", new ByteArrayInputStream(new byte[1_000]))).as(reply(bob)).isTrue();
            assertThat(alice.retrieveFileStream("before.bin")).isNotNull();
            assertThat(alice.completePendingCommand()).as("downloads need no ledger").isTrue();
        } finally {
            pg.start();
        }
        assertThat(alice.storeFile("after.bin", new ByteArrayInputStream(new byte[1_000]))).as(reply(alice)).isTrue();
        assertThat(usedBytes(alice)).isEqualTo(2_000);
    }

    /**
     * What a quota check costs per upload over loopback: N uploads of 1 KiB through one session, with the database
     * ledger, the memory ledger, and no quota (bob); medians of 3 rounds. Printed for docs/policy.md.
     */
    @Test
    void theQuotaCheckCostPerSmallUpload() throws Exception {
        FtpServer shared = start("127.0.0.31", "a", true);
        FtpServer alone = start("127.0.0.32", "b", false);
        assertThat(alone.context().quotaLedger()).isInstanceOf(MemoryQuotaLedger.class);
        FTPClient database = login(shared, "alice");
        FTPClient memory = login(alone, "alice");
        FTPClient none = login(shared, "bob");
        int n = 150;
        byte[] kib = new byte[1024];
        long[][] ms = new long[3][3];
        for (int round = 0; round < 3; round++) {
            FTPClient[] order = {database, memory, none};
            for (int k = 0; k < 3; k++) {
                FTPClient c = order[k];
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    assertThat(c.storeFile("s" + (i % 10) + ".bin", new ByteArrayInputStream(kib))).as(reply(c)).isTrue();
                }
                ms[k][round] = (System.nanoTime() - start) / 1_000_000;
            }
        }
        String[] names = {"database", "memory", "none"};
        StringBuilder line = new StringBuilder("QUOTA-UPLOAD-COST uploads=" + n + " size=1024");
        for (int k = 0; k < 3; k++) {
            long[] runs = ms[k].clone();
            Arrays.sort(runs);
            line.append(' ').append(names[k]).append("_median_ms=").append(runs[1])
                    .append(' ').append(names[k]).append("_per_s=").append(n * 1000L / Math.max(1, runs[1]))
                    .append(' ').append(names[k]).append("_runs_ms=").append(Arrays.toString(ms[k]).replace(" ", ""));
        }
        System.out.println(line);
        assertThat(usedBytes(database)).isEqualTo(10 * 1024);
    }
}
