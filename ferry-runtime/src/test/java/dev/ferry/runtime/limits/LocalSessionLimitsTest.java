package dev.ferry.runtime.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LocalSessionLimitsTest {

    private final LocalSessionLimits limits = new LocalSessionLimits("node-a");

    @Test
    void theThirdSessionOfAUserWithTwoIsRefusedUntilOneCloses() {
        SessionLimits.Lease first = limits.acquire("alice", 2, "s1");
        SessionLimits.Lease second = limits.acquire("alice", 2, "s2");

        assertThat(limits.acquire("alice", 2, "s3")).isNull();
        assertThat(limits.acquire("bob", 2, "s4")).as("another user has a count of his own").isNotNull();
        first.close();
        assertThat(limits.acquire("alice", 2, "s5")).isNotNull();
        assertThat(second.node()).isEqualTo("node-a");
        assertThat(second.sessionId()).isEqualTo("s2");
    }

    @Test
    void zeroMeansNoLimitButTheSessionsAreCounted() {
        for (int i = 0; i < 100; i++) {
            assertThat(limits.acquire("alice", 0, "s" + i)).isNotNull();
        }
        assertThat(limits.counts()).isEqualTo(Map.of("alice", 100));
    }

    @Test
    void aLeaseClosedTwiceGivesBackOnePlace() {
        SessionLimits.Lease a = limits.acquire("alice", 2, "s1");
        limits.acquire("alice", 2, "s2");
        a.close();
        a.close();

        assertThat(limits.counts()).isEqualTo(Map.of("alice", 1));
        assertThat(limits.acquire("alice", 2, "s3")).isNotNull();
        assertThat(limits.acquire("alice", 2, "s4")).isNull();
    }

    @Test
    void aUserWithoutSessionsIsForgotten() {
        limits.acquire("alice", 1, "s1").close();

        assertThat(limits.counts()).isEmpty();
    }

    /** N threads racing for a user with a maximum of M: never more than M leases held at once. */
    @Test
    void concurrentLoginsNeverPassTheLimit() throws Exception {
        int threads = 16;
        int max = 3;
        int rounds = 2_000;
        AtomicInteger held = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        AtomicInteger granted = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String id = "t" + t;
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int r = 0; r < rounds; r++) {
                    SessionLimits.Lease lease = limits.acquire("alice", max, id + "-" + r);
                    if (lease != null) {
                        granted.incrementAndGet();
                        peak.accumulateAndGet(held.incrementAndGet(), Math::max);
                        Thread.onSpinWait();
                        held.decrementAndGet();
                        lease.close();
                    }
                }
            }));
        }
        start.countDown();
        for (Thread w : workers) {
            assertThat(w.join(java.time.Duration.ofSeconds(30))).isTrue();
        }

        assertThat(peak.get()).isBetween(1, max);
        assertThat(granted.get()).isPositive();
        assertThat(limits.counts()).isEmpty();
    }
}
