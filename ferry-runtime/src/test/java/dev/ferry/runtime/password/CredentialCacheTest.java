package dev.ferry.runtime.password;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;
import org.junit.jupiter.api.Test;

class CredentialCacheTest {

    private static final Duration TTL = Duration.ofMinutes(15);

    /** Stands in for Argon2: a "hash" is "<version>$<password>", and every call is counted. */
    private final AtomicInteger verifications = new AtomicInteger();
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final BiPredicate<char[], String> countingVerifier = (password, phc) -> {
        verifications.incrementAndGet();
        return phc.substring(phc.indexOf('$') + 1).equals(new String(password));
    };

    private CredentialCache cache(Duration ttl, int maxEntries) {
        return new CredentialCache(ttl, maxEntries, countingVerifier, nanos::get, 4);
    }

    private static char[] pw(String s) {
        return s.toCharArray();
    }

    @Test
    void secondLoginDoesNotRunTheHash() {
        CredentialCache cache = cache(TTL, 10);

        assertThat(cache.verify("alice", pw("secret"), "v1$secret")).isTrue();
        assertThat(cache.verify("alice", pw("secret"), "v1$secret")).isTrue();
        assertThat(verifications).hasValue(1);
    }

    @Test
    void wrongPasswordIsVerifiedInFullEveryTime() {
        CredentialCache cache = cache(TTL, 10);
        cache.verify("alice", pw("secret"), "v1$secret");

        assertThat(cache.verify("alice", pw("guess"), "v1$secret")).isFalse();
        assertThat(cache.verify("alice", pw("guess"), "v1$secret")).isFalse();
        assertThat(verifications).hasValue(3);
        // ...and a wrong guess does not evict the remembered good password.
        assertThat(cache.verify("alice", pw("secret"), "v1$secret")).isTrue();
        assertThat(verifications).hasValue(3);
    }

    @Test
    void changedHashInTheUsersFileMisses() {
        CredentialCache cache = cache(TTL, 10);
        cache.verify("alice", pw("old"), "v1$old");

        assertThat(cache.verify("alice", pw("old"), "v2$new")).isFalse();
        assertThat(cache.verify("alice", pw("new"), "v2$new")).isTrue();
        assertThat(verifications).hasValue(3);
    }

    @Test
    void sameHashAndPasswordForAnotherUserIsNotAHit() {
        CredentialCache cache = cache(TTL, 10);
        cache.verify("alice", pw("shared"), "v1$shared");

        assertThat(cache.verify("bob", pw("shared"), "v1$shared")).isTrue();
        assertThat(verifications).hasValue(2);
    }

    @Test
    void rememberedPasswordExpiresAfterTtl() {
        CredentialCache cache = cache(Duration.ofSeconds(10), 10);
        cache.verify("alice", pw("secret"), "v1$secret");

        nanos.addAndGet(Duration.ofMillis(9_999).toNanos());
        cache.verify("alice", pw("secret"), "v1$secret");
        assertThat(verifications).as("still fresh").hasValue(1);

        nanos.addAndGet(Duration.ofMillis(1).toNanos());
        assertThat(cache.verify("alice", pw("secret"), "v1$secret")).isTrue();
        assertThat(verifications).as("expired").hasValue(2);
    }

    @Test
    void hitsDoNotExtendTheTtl() {
        CredentialCache cache = cache(Duration.ofSeconds(10), 10);
        cache.verify("alice", pw("secret"), "v1$secret");
        for (int i = 0; i < 5; i++) {
            nanos.addAndGet(Duration.ofSeconds(2).toNanos());
            cache.verify("alice", pw("secret"), "v1$secret");
        }
        assertThat(verifications).hasValue(2);
    }

    @Test
    void zeroTtlVerifiesEveryLogin() {
        CredentialCache cache = cache(Duration.ZERO, 10);
        cache.verify("alice", pw("secret"), "v1$secret");
        cache.verify("alice", pw("secret"), "v1$secret");

        assertThat(verifications).hasValue(2);
        assertThat(cache.size()).isZero();
    }

    @Test
    void sizeIsBoundedAndTheOldestIsForgotten() {
        CredentialCache cache = cache(TTL, 2);
        cache.verify("alice", pw("a"), "v1$a");
        cache.verify("bob", pw("b"), "v1$b");
        cache.verify("carol", pw("c"), "v1$c");
        assertThat(cache.size()).isEqualTo(2);

        cache.verify("carol", pw("c"), "v1$c");
        cache.verify("bob", pw("b"), "v1$b");
        assertThat(verifications).as("bob and carol remembered").hasValue(3);

        cache.verify("alice", pw("a"), "v1$a");
        assertThat(verifications).as("alice forgotten").hasValue(4);
    }

    @Test
    void burstOfOneUserCostsOneVerification() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CredentialCache cache = new CredentialCache(TTL, 10, (password, phc) -> {
            verifications.incrementAndGet();
            awaitUninterruptibly(release);
            return true;
        }, nanos::get, 4);
        ConcurrentLinkedQueue<Boolean> answers = new ConcurrentLinkedQueue<>();

        List<Thread> sessions = start(200, i -> answers.add(cache.verify("alice", pw("secret"), "v1$secret")));
        awaitAllParked(sessions);
        release.countDown();
        for (Thread t : sessions) {
            t.join();
        }

        assertThat(verifications).hasValue(1);
        assertThat(answers).hasSize(200).containsOnly(true);
    }

    @Test
    void concurrentHashesAreBoundedByPermits() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        CredentialCache cache = new CredentialCache(TTL, 10, (password, phc) -> {
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            awaitUninterruptibly(release);
            running.decrementAndGet();
            verifications.incrementAndGet();
            return true;
        }, nanos::get, 2);

        List<Thread> sessions = start(8, i -> cache.verify("user" + i, pw("pw"), "v1$pw"));
        awaitAllParked(sessions);
        release.countDown();
        for (Thread t : sessions) {
            t.join();
        }

        assertThat(mostAtOnce.get()).isLessThanOrEqualTo(2);
        assertThat(verifications).hasValue(8);
    }

    @Test
    void interruptedLoginFailsClosed() {
        CredentialCache cache = cache(TTL, 10);
        Thread.currentThread().interrupt();
        try {
            assertThat(cache.verify("alice", pw("secret"), "v1$secret")).isFalse();
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(cache.verify("alice", pw("secret"), "v1$secret")).isTrue();
    }

    private interface Body {
        void run(int index);
    }

    private static List<Thread> start(int count, Body body) {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int index = i;
            threads.add(Thread.ofPlatform().start(() -> body.run(index)));
        }
        return threads;
    }

    /** Waits until every thread is blocked (on the latch, the semaphore or the leader's result). */
    private static void awaitAllParked(List<Thread> threads) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!threads.stream().allMatch(t -> t.getState() == Thread.State.WAITING)) {
            if (System.nanoTime() > deadline) {
                fail("threads did not all block: " + threads.stream().map(Thread::getState).toList());
            }
            Thread.sleep(1);
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
