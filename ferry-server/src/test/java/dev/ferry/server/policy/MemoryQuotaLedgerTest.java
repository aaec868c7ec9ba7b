package dev.ferry.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
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
import org.junit.jupiter.api.Test;

class MemoryQuotaLedgerTest {

    private static final QuotaLedger.Owner OWNER = new QuotaLedger.Owner("node-a", "boot-1", "s1");
    private static final Quota TEN_KIB_FIVE_FILES = new Quota(10_240, 5);

    private final AtomicLong clock = new AtomicLong();
    private final MemoryQuotaLedger ledger = new MemoryQuotaLedger(clock::get, 1_000);

    private void open(String user, long bytes, long files) throws IOException {
        ledger.open(user, () -> new QuotaLedger.Counted(bytes, files));
    }

    @Test
    void aReservationWithinTheQuotaIsHeldAndSettledIntoUsage() throws IOException {
        open("alice", 1_000, 1);

        QuotaLedger.Reservation r = ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 4_000, 1);
        assertThat(r).isNotNull();
        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(1_000, 1, 4_000, 1, TEN_KIB_FIVE_FILES));
        assertThat(r.grow(TEN_KIB_FIVE_FILES, 5_240)).isTrue();
        assertThat(r.grow(TEN_KIB_FIVE_FILES, 1)).as("one byte past the limit").isFalse();

        r.settle(3_500, 1);

        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(4_500, 2, 0, 0, TEN_KIB_FIVE_FILES));
        assertThat(r.grow(TEN_KIB_FIVE_FILES, 1)).as("a settled reservation holds nothing again").isFalse();
    }

    @Test
    void aReleasedReservationLeavesUsageAsItWas() throws IOException {
        open("alice", 1_000, 1);
        QuotaLedger.Reservation r = ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 9_240, 1);

        r.release();
        r.release();

        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(1_000, 1, 0, 0, TEN_KIB_FIVE_FILES));
        assertThat(ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 9_240, 4)).isNotNull();
    }

    @Test
    void theFilesLimitRefusesANewFileButNotAnOverwrite() throws IOException {
        open("alice", 0, 5);

        assertThat(ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 1, 1)).isNull();
        assertThat(ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 1, 0)).isNotNull();
    }

    @Test
    void aDeleteFreesRoom() throws IOException {
        open("alice", 10_240, 5);
        assertThat(ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 1, 0)).isNull();

        ledger.adjust("alice", -2_000, -1);

        assertThat(ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 2_000, 1)).isNotNull();
    }

    @Test
    void noLimitIsZero() throws IOException {
        open("alice", Long.MAX_VALUE / 4, 1_000_000);

        assertThat(ledger.reserve("alice", new Quota(0, 0), OWNER, Long.MAX_VALUE / 4, 1)).isNotNull();
    }

    @Test
    void anAccountIsCountedOnceAndOnlyWhenOpened() throws Exception {
        AtomicInteger counts = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    ledger.open("bob", () -> {
                        counts.incrementAndGet();
                        return new QuotaLedger.Counted(7, 1);
                    });
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }

        assertThat(counts).hasValue(1);
        assertThat(ledger.usage("bob", Quota.NONE).bytesUsed()).isEqualTo(7);
        assertThatThrownBy(() -> ledger.usage("carol", Quota.NONE)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aCountThatFailsIsTriedAgainByTheNextOpen() throws IOException {
        assertThatThrownBy(() -> ledger.open("bob", () -> {
            throw new IOException("too many entries");
        })).hasMessage("too many entries");

        open("bob", 3, 1);

        assertThat(ledger.usage("bob", Quota.NONE).bytesUsed()).isEqualTo(3);
    }

    /** A reservation nobody released (a server that died, with a shared ledger) stops counting after its lease. */
    @Test
    void anExpiredReservationNoLongerBlocksTheAccount() throws IOException {
        open("alice", 0, 0);
        QuotaLedger.Reservation stale = ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 10_000, 1);
        clock.addAndGet(999);
        assertThat(ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 1_000, 1)).as("within the lease").isNull();

        clock.addAndGet(2);
        QuotaLedger.Reservation fresh = ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 1_000, 1);

        assertThat(fresh).isNotNull();
        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES).bytesReserved()).isEqualTo(1_000);
        stale.settle(500, 1);
        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES))
                .as("an expired reservation still settles its upload, without giving back twice")
                .isEqualTo(new QuotaLedger.Usage(500, 1, 1_000, 1, TEN_KIB_FIVE_FILES));
    }

    /** An upload that stalled past its lease is held again, as a whole, when it grows, if it still fits. */
    @Test
    void anExpiredReservationThatGrowsIsHeldAgain() throws IOException {
        open("alice", 0, 0);
        QuotaLedger.Reservation stalled = ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 6_000, 1);
        clock.addAndGet(1_001);
        QuotaLedger.Reservation other = ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 5_000, 1);
        assertThat(other).as("the stalled one expired to make room").isNotNull();

        assertThat(stalled.grow(TEN_KIB_FIVE_FILES, 1_000)).as("7000 more do not fit beside 5000").isFalse();
        other.release();
        assertThat(stalled.grow(TEN_KIB_FIVE_FILES, 1_000)).isTrue();

        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(0, 0, 7_000, 1, TEN_KIB_FIVE_FILES));
        stalled.release();
        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(0, 0, 0, 0, TEN_KIB_FIVE_FILES));
    }

    /** A refusal expires what has run out, this reservation's own lease included: it is counted once, not twice. */
    @Test
    void aReservationWhoseOwnLeaseEndedIsNotCountedTwice() throws IOException {
        open("alice", 0, 0);
        QuotaLedger.Reservation r = ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 10_000, 1);
        clock.addAndGet(1_001);

        assertThat(r.grow(TEN_KIB_FIVE_FILES, 241)).as("one byte over").isFalse();
        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES).bytesReserved()).as("expired by the refusal").isZero();
        assertThat(r.grow(TEN_KIB_FIVE_FILES, 240)).isTrue();

        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(0, 0, 10_240, 1, TEN_KIB_FIVE_FILES));
        r.settle(10_240, 1);
        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES))
                .isEqualTo(new QuotaLedger.Usage(10_240, 1, 0, 0, TEN_KIB_FIVE_FILES));
    }

    @Test
    void growingRenewsTheLease() throws IOException {
        open("alice", 0, 0);
        QuotaLedger.Reservation r = ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 4_000, 1);
        clock.addAndGet(900);
        assertThat(r.grow(TEN_KIB_FIVE_FILES, 4_000)).isTrue();
        clock.addAndGet(900);

        assertThat(ledger.reserve("alice", TEN_KIB_FIVE_FILES, OWNER, 4_000, 1)).isNull();
        assertThat(ledger.usage("alice", TEN_KIB_FIVE_FILES).bytesReserved()).isEqualTo(8_000);
    }

    /**
     * The property the ledger exists for: however many threads reserve, grow, settle and release at once, what is
     * used and held never passes the limit, and when all is done nothing stays reserved.
     */
    @Test
    void concurrentUploadsNeverExceedTheLimit() throws Exception {
        Quota quota = new Quota(1_000_000, 200);
        open("alice", 0, 0);
        int threads = 16;
        int uploadsPerThread = 500;
        AtomicBoolean over = new AtomicBoolean();
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger refused = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        try {
            Future<?> watcher = pool.submit(() -> {
                while (!done.get()) {
                    QuotaLedger.Usage u = ledger.usage("alice", quota);
                    if (u.bytesUsed() + u.bytesReserved() > quota.bytes() || u.filesUsed() + u.filesReserved() > quota.files()) {
                        over.set(true);
                    }
                }
                return null;
            });
            List<Future<long[]>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    go.await();
                    long settledBytes = 0;
                    long settledFiles = 0;
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < uploadsPerThread; i++) {
                        QuotaLedger.Reservation r = ledger.reserve("alice", quota, OWNER, 1, 1);
                        if (r == null) {
                            refused.incrementAndGet();
                            continue;
                        }
                        long size = 1;
                        boolean fits = true;
                        for (int step = random.nextInt(1, 6); step > 0 && fits; step--) {
                            long more = random.nextLong(1, 5_000);
                            fits = r.grow(quota, more);
                            if (!fits) {
                                refused.incrementAndGet();
                            }
                            size += fits ? more : 0;
                        }
                        if (fits && random.nextInt(3) > 0) {
                            r.settle(size, 1);
                            settledBytes += size;
                            settledFiles++;
                            if (random.nextInt(2) == 0) {
                                ledger.adjust("alice", -size, -1);
                                settledBytes -= size;
                                settledFiles--;
                            }
                        } else {
                            r.release();
                        }
                    }
                    return new long[] {settledBytes, settledFiles};
                }));
            }
            go.countDown();
            long bytes = 0;
            long files = 0;
            for (Future<long[]> w : workers) {
                long[] r = w.get(60, TimeUnit.SECONDS);
                bytes += r[0];
                files += r[1];
            }
            done.set(true);
            watcher.get(10, TimeUnit.SECONDS);

            assertThat(over).as("used + reserved passed the limit at some moment").isFalse();
            assertThat(ledger.usage("alice", quota))
                    .as("usage is exactly what was settled less what was deleted, nothing left reserved")
                    .isEqualTo(new QuotaLedger.Usage(bytes, files, 0, 0, quota));
            assertThat(refused).as("the limit was reached: the test raced at it").hasPositiveValue();
        } finally {
            done.set(true);
            pool.shutdownNow();
        }
    }

    /** Exactly as many reservations as fit succeed when many threads ask at once for the last room. */
    @Test
    void ofManyRacingReservationsExactlyThoseThatFitSucceed() throws Exception {
        Quota quota = new Quota(100_000, 0);
        open("alice", 0, 0);
        int threads = 32;
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger granted = new AtomicInteger();
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            all.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    for (int i = 0; i < 50; i++) {
                        if (ledger.reserve("alice", quota, OWNER, 1_000, 1) != null) {
                            granted.incrementAndGet();
                        }
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }));
        }
        go.countDown();
        for (Thread t : all) {
            t.join(30_000);
        }

        assertThat(granted).hasValue(100);
        assertThat(ledger.usage("alice", quota).bytesReserved()).isEqualTo(100_000);
    }
}
