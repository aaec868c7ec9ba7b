package dev.ferry.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.database.Database;
import dev.ferry.database.DatabaseSettings;
import dev.ferry.database.QuotaTable;
import dev.ferry.runtime.log.EventLog;
import dev.ferry.testkit.PostgresServer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * The database ledger against a real PostgreSQL. Two {@link Database} pools on one database play two servers: each
 * has its own ledger, and only the database is shared between them.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class DatabaseQuotaLedgerTest {

    private static final EventLog LOG = new EventLog(LoggerFactory.getLogger("ferry.test"), "test");
    private static final QuotaLedger.Owner A = new QuotaLedger.Owner("node-a", "boot-1", "s1");
    private static final QuotaLedger.Owner B = new QuotaLedger.Owner("node-b", "boot-1", "s1");
    private static final Quota TEN_KIB_FIVE_FILES = new Quota(10_240, 5);
    private static PostgresServer pg;
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private final List<Database> opened = new ArrayList<>();

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

    @AfterEach
    void closeDatabases() {
        opened.forEach(Database::close);
    }

    /** Two servers' pools on one fresh database. */
    private Database[] twoServers(int poolSize) throws Exception {
        String url = pg.createDatabase("q" + DATABASES.incrementAndGet());
        DatabaseSettings s = new DatabaseSettings(url, pg.user(), pg.passwordFile(), poolSize, Duration.ofSeconds(5),
                Duration.ofSeconds(10));
        Database one = Database.open(s, LOG);
        opened.add(one);
        Database two = Database.open(s, LOG);
        opened.add(two);
        return new Database[] {one, two};
    }

    private static void open(QuotaLedger ledger, String user, long bytes, long files) throws IOException {
        ledger.open(user, () -> new QuotaLedger.Counted(bytes, files));
    }

    @Test
    void aReservationIsHeldAcrossServersAndSettledIntoUsage() throws Exception {
        Database[] db = twoServers(2);
        DatabaseQuotaLedger a = new DatabaseQuotaLedger(new QuotaTable(db[0]));
        DatabaseQuotaLedger b = new DatabaseQuotaLedger(new QuotaTable(db[1]));
        open(a, "alice", 1_000, 1);
        AtomicInteger counts = new AtomicInteger();
        b.open("alice", () -> {
            counts.incrementAndGet();
            return new QuotaLedger.Counted(999_999, 99);
        });
        assertThat(counts).as("server B finds the row server A counted").hasValue(0);

        QuotaLedger.Reservation r = a.reserve("alice", TEN_KIB_FIVE_FILES, A, 4_000, 1);
        assertThat(r).isNotNull();
        assertThat(b.usage("alice", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(1_000, 1, 4_000, 1, TEN_KIB_FIVE_FILES));
        assertThat(b.reserve("alice", TEN_KIB_FIVE_FILES, B, 5_241, 0)).as("one byte too many on the other server")
                .isNull();
        assertThat(r.grow(TEN_KIB_FIVE_FILES, 5_240)).isTrue();
        assertThat(r.grow(TEN_KIB_FIVE_FILES, 1)).as("one byte past the limit").isFalse();

        r.settle(3_500, 1);

        assertThat(b.usage("alice", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(4_500, 2, 0, 0, TEN_KIB_FIVE_FILES));
        assertThat(r.grow(TEN_KIB_FIVE_FILES, 1)).as("a settled reservation holds nothing again").isFalse();
        QuotaLedger.Reservation released = b.reserve("alice", TEN_KIB_FIVE_FILES, B, 5_740, 3);
        assertThat(released).as("exactly the rest").isNotNull();
        released.release();
        released.release();
        b.adjust("alice", -3_500, -1);
        assertThat(a.usage("alice", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(1_000, 1, 0, 0, TEN_KIB_FIVE_FILES));
        assertThat(new QuotaTable(db[0]).reservations("alice")).isEmpty();
    }

    @Test
    void anAccountNeverOpenedIsAnErrorNotAFreePass() throws Exception {
        Database[] db = twoServers(1);
        DatabaseQuotaLedger a = new DatabaseQuotaLedger(new QuotaTable(db[0]));
        assertThatThrownBy(() -> a.reserve("nobody", TEN_KIB_FIVE_FILES, A, 1, 1)).isInstanceOf(IOException.class)
                .hasMessageContaining("no usage row");
    }

    /** Eight servers' worth of first sessions at once: the storage is walked once. */
    @Test
    void anAccountIsCountedOnceWhenServersMeetItAtOnce() throws Exception {
        Database[] db = twoServers(4);
        AtomicInteger walks = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < 8; i++) {
                DatabaseQuotaLedger ledger = new DatabaseQuotaLedger(new QuotaTable(db[i % 2]));
                done.add(pool.submit(() -> {
                    go.await();
                    ledger.open("carol", () -> {
                        walks.incrementAndGet();
                        java.util.concurrent.locks.LockSupport.parkNanos(200_000_000L); // a walk takes a while: the others must wait for it, not walk too
                        return new QuotaLedger.Counted(7_000, 7);
                    });
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        assertThat(walks).hasValue(1);
        assertThat(new DatabaseQuotaLedger(new QuotaTable(db[1])).usage("carol", Quota.NONE).bytesUsed()).isEqualTo(7_000);
    }

    /**
     * Two servers, eight threads each, reserving, growing, settling and releasing against one 1 MB, 200-file quota
     * for a bounded number of rounds. A watcher reads the row all along: used + reserved never exceeds a limit; at
     * the end the usage is exactly the sum of what was settled and nothing is reserved.
     */
    @Test
    void usedPlusReservedNeverExceedsTheLimitUnderConcurrentServers() throws Exception {
        Database[] db = twoServers(4);
        Quota quota = new Quota(1_000_000, 200);
        DatabaseQuotaLedger[] servers = {new DatabaseQuotaLedger(new QuotaTable(db[0])),
                new DatabaseQuotaLedger(new QuotaTable(db[1]))};
        open(servers[0], "dave", 0, 0);
        open(servers[1], "dave", 0, 0);
        AtomicLong settledBytes = new AtomicLong();
        AtomicLong settledFiles = new AtomicLong();
        AtomicInteger refusals = new AtomicInteger();
        AtomicBoolean over = new AtomicBoolean();
        AtomicBoolean running = new AtomicBoolean(true);
        Object deletes = new Object();
        int threads = 16;
        int rounds = 60;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        QuotaTable watch = new QuotaTable(db[0]);
        try (ExecutorService pool = Executors.newFixedThreadPool(threads + 1)) {
            Future<?> watcher = pool.submit(() -> {
                while (running.get()) {
                    QuotaTable.Usage u = watch.usage("dave").orElseThrow();
                    if (u.bytesUsed() + u.bytesReserved() > quota.bytes() || u.filesUsed() + u.filesReserved() > quota.files()) {
                        over.set(true);
                    }
                }
                return null;
            });
            for (int t = 0; t < threads; t++) {
                DatabaseQuotaLedger ledger = servers[t % 2];
                QuotaLedger.Owner owner = new QuotaLedger.Owner("node-" + (t % 2), "boot", "s" + t);
                done.add(pool.submit(() -> {
                    go.await();
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < rounds; i++) {
                        QuotaLedger.Reservation r = ledger.reserve("dave", quota, owner, random.nextLong(1, 60_000), 1);
                        if (r == null) {
                            refusals.incrementAndGet();
                            continue;
                        }
                        boolean grown = r.grow(quota, random.nextLong(1, 60_000));
                        long stored = random.nextLong(0, r.bytes() + 1);
                        if (random.nextInt(4) == 0) {
                            r.release();
                        } else {
                            r.settle(stored, 1);
                            settledBytes.addAndGet(stored);
                            settledFiles.incrementAndGet();
                        }
                        if (!grown) {
                            refusals.incrementAndGet();
                        }
                        if (random.nextInt(3) == 0) {
                            // A delete makes room again. One at a time, and never more than what is settled (and so
                            // in the row already): the row never clamps at 0, so the sums stay exact.
                            synchronized (deletes) {
                                if (settledFiles.get() > 0) {
                                    long freed = Math.min(settledBytes.get(), 20_000);
                                    ledger.adjust("dave", -freed, -1);
                                    settledBytes.addAndGet(-freed);
                                    settledFiles.decrementAndGet();
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(180, TimeUnit.SECONDS);
            }
            running.set(false);
            watcher.get(10, TimeUnit.SECONDS);
        }
        QuotaTable.Usage end = watch.usage("dave").orElseThrow();
        assertThat(over).as("used + reserved went past a limit").isFalse();
        assertThat(refusals.get()).as("the quota was reached: the test raced for the last room").isPositive();
        assertThat(end).isEqualTo(new QuotaTable.Usage(settledBytes.get(), settledFiles.get(), 0, 0));
        assertThat(watch.reservations("dave")).isEmpty();
    }

    @Test
    void anExpiredReservationStopsCountingWhenAReservationIsRefused() throws Exception {
        Database[] db = twoServers(2);
        DatabaseQuotaLedger shortLease = new DatabaseQuotaLedger(new QuotaTable(db[0]), Duration.ofMillis(300));
        DatabaseQuotaLedger b = new DatabaseQuotaLedger(new QuotaTable(db[1]));
        open(shortLease, "erin", 0, 0);
        // a server that dies mid-upload: it never settles nor releases
        assertThat(shortLease.reserve("erin", TEN_KIB_FIVE_FILES, A, 10_000, 1)).isNotNull();
        assertThat(b.reserve("erin", TEN_KIB_FIVE_FILES, B, 1_000, 1)).as("still held").isNull();

        Thread.sleep(600);

        assertThat(b.usage("erin", TEN_KIB_FIVE_FILES).bytesReserved()).as("an ended lease is not shown").isZero();
        QuotaLedger.Reservation r = b.reserve("erin", TEN_KIB_FIVE_FILES, B, 10_240, 1);
        assertThat(r).as("the refusal dropped the expired reservation, then this fit").isNotNull();
        assertThat(new QuotaTable(db[0]).reservations("erin")).extracting(QuotaTable.Held::bytes).containsExactly(10_240L);
        r.settle(10_240, 1);
        assertThat(b.usage("erin", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(10_240, 1, 0, 0, TEN_KIB_FIVE_FILES));
    }

    @Test
    void aStalledUploadWhoseReservationWasDroppedHoldsItAgainAsAWhole() throws Exception {
        Database[] db = twoServers(2);
        DatabaseQuotaLedger shortLease = new DatabaseQuotaLedger(new QuotaTable(db[0]), Duration.ofMillis(300));
        DatabaseQuotaLedger b = new DatabaseQuotaLedger(new QuotaTable(db[1]));
        open(shortLease, "fred", 0, 0);
        QuotaLedger.Reservation stalled = shortLease.reserve("fred", TEN_KIB_FIVE_FILES, A, 6_000, 1);
        Thread.sleep(600);
        assertThat(new DatabaseQuotaLedger(new QuotaTable(db[1])).expireAll()).isEqualTo(1);
        QuotaLedger.Reservation other = b.reserve("fred", TEN_KIB_FIVE_FILES, B, 5_000, 1);
        assertThat(other).isNotNull();

        assertThat(stalled.grow(TEN_KIB_FIVE_FILES, 100)).as("6,100 held again does not fit beside 5,000").isFalse();
        other.release();
        assertThat(stalled.grow(TEN_KIB_FIVE_FILES, 100)).isTrue();
        assertThat(b.usage("fred", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(0, 0, 6_100, 1, TEN_KIB_FIVE_FILES));
        stalled.settle(6_100, 1);
        assertThat(b.usage("fred", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(6_100, 1, 0, 0, TEN_KIB_FIVE_FILES));
    }

    @Test
    void aRestartedNodeDropsWhatItsEarlierStartsHeldAndNothingElse() throws Exception {
        Database[] db = twoServers(2);
        DatabaseQuotaLedger a = new DatabaseQuotaLedger(new QuotaTable(db[0]));
        open(a, "gina", 0, 0);
        a.reserve("gina", TEN_KIB_FIVE_FILES, new QuotaLedger.Owner("node-a", "boot-1", "s1"), 3_000, 1);
        a.reserve("gina", TEN_KIB_FIVE_FILES, new QuotaLedger.Owner("node-a", "boot-1", "s2"), 2_000, 1);
        a.reserve("gina", TEN_KIB_FIVE_FILES, new QuotaLedger.Owner("node-a", "boot-2", "s1"), 1_000, 1);
        a.reserve("gina", TEN_KIB_FIVE_FILES, new QuotaLedger.Owner("node-b", "boot-1", "s1"), 500, 1);

        DatabaseQuotaLedger restarted = new DatabaseQuotaLedger(new QuotaTable(db[1]));
        assertThat(restarted.releaseAllBut("node-a", "boot-2")).isEqualTo(2);

        assertThat(restarted.usage("gina", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(0, 0, 1_500, 2, TEN_KIB_FIVE_FILES));
        assertThat(restarted.releaseAllBut("node-a", "boot-2")).isZero();
    }

    @Test
    void aRecountReplacesUsageButNotWhileAnUploadIsInProgress() throws Exception {
        Database[] db = twoServers(2);
        DatabaseQuotaLedger a = new DatabaseQuotaLedger(new QuotaTable(db[0]));
        QuotaTable table = new QuotaTable(db[1]);
        open(a, "jill", 5_000, 5);
        QuotaLedger.Reservation r = a.reserve("jill", new Quota(10_240, 10), A, 100, 1);
        assertThat(r).isNotNull();

        QuotaTable.Recount busy = table.recount("jill", () -> new QuotaTable.Count(1, 1));
        assertThat(busy.busy()).isTrue();
        assertThat(busy.after()).isEqualTo(new QuotaTable.Usage(5_000, 5, 100, 1));

        r.settle(100, 1);
        QuotaTable.Recount done = table.recount("jill", () -> new QuotaTable.Count(2_000, 2));
        assertThat(done).isEqualTo(new QuotaTable.Recount(new QuotaTable.Usage(5_100, 6, 0, 0),
                new QuotaTable.Usage(2_000, 2, 0, 0), false));
        assertThat(a.usage("jill", TEN_KIB_FIVE_FILES).bytesUsed()).isEqualTo(2_000);

        QuotaTable.Recount first = table.recount("kim", () -> new QuotaTable.Count(42, 1));
        assertThat(first).isEqualTo(new QuotaTable.Recount(null, new QuotaTable.Usage(42, 1, 0, 0), false));
        assertThatThrownBy(() -> table.recount("jill", () -> {
            throw new IOException("too big");
        })).isInstanceOf(IOException.class).hasMessage("too big");
        assertThat(a.usage("jill", TEN_KIB_FIVE_FILES).bytesUsed()).as("a failed walk changes nothing").isEqualTo(2_000);
    }

    @Test
    void aDatabaseThatIsDownIsAnIOException() throws Exception {
        Database[] db = twoServers(1);
        DatabaseQuotaLedger a = new DatabaseQuotaLedger(new QuotaTable(db[0]));
        open(a, "hank", 0, 0);
        db[0].close();
        assertThatThrownBy(() -> a.reserve("hank", TEN_KIB_FIVE_FILES, A, 1, 1)).isInstanceOf(IOException.class)
                .hasMessageContaining("quota database");
    }

    @Test
    void onlyADeadConnectionIsTriedAgainAndOnlyWhereThatIsHarmless() {
        assertThat(DatabaseQuotaLedger.deadConnection(new java.sql.SQLException("ended", "57P01"), false)).isTrue();
        assertThat(DatabaseQuotaLedger.deadConnection(new java.sql.SQLException("lost", "08006"), false)).isFalse();
        assertThat(DatabaseQuotaLedger.deadConnection(new java.sql.SQLException("lost", "08006"), true)).isTrue();
        assertThat(DatabaseQuotaLedger.deadConnection(new java.sql.SQLTransientConnectionException("down", "08001"), true))
                .as("no connection at all: the database is down").isFalse();
        assertThat(DatabaseQuotaLedger.deadConnection(new java.sql.SQLException("timeout", "57014"), true)).isFalse();
    }

    /**
     * The ledger's own cost per upload of a small file against PostgreSQL on loopback: reserve, one step, settle
     * (what a 1 KiB STOR does), one thread, bounded rounds; medians of 3. Printed for docs/policy.md.
     */
    @Test
    void theLedgerCostPerUpload() throws Exception {
        Database[] db = twoServers(2);
        DatabaseQuotaLedger a = new DatabaseQuotaLedger(new QuotaTable(db[0]));
        open(a, "ivan", 0, 0);
        Quota quota = new Quota(1L << 40, 1_000_000);
        int rounds = 500;
        long[] micros = new long[3];
        for (int run = 0; run < 3; run++) {
            long start = System.nanoTime();
            for (int i = 0; i < rounds; i++) {
                QuotaLedger.Reservation r = a.reserve("ivan", quota, A, 1, 1);
                assertThat(r.grow(quota, 4096)).isTrue();
                r.settle(1024, 1);
            }
            micros[run] = (System.nanoTime() - start) / 1_000 / rounds;
        }
        long reserveOnly;
        long start = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
            a.reserve("ivan", quota, A, 1, 0).release();
        }
        reserveOnly = (System.nanoTime() - start) / 1_000 / rounds;
        Arrays.sort(micros);
        System.out.println("QUOTA-LEDGER-COST database reserve+grow+settle median_us=" + micros[1] + " runs_us="
                + Arrays.toString(micros) + " reserve+release_us=" + reserveOnly + " rounds=" + rounds);
        assertThat(a.usage("ivan", quota).bytesUsed()).isEqualTo(3L * rounds * 1024);
    }
}
