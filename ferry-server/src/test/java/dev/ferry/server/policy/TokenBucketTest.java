package dev.ferry.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The bucket on a fake clock: a sleep moves the clock on by exactly what was asked, so no test waits. */
class TokenBucketTest {

    private static final long MIB = 1024 * 1024;
    private static final long SECOND = 1_000_000_000L;

    /** A clock that only sleeps move. */
    private static final class FakeTime implements TokenBucket.Sleeper {
        final AtomicLong now = new AtomicLong(1_000 * SECOND);
        final List<Long> sleeps = new ArrayList<>();

        @Override
        public void sleep(long nanos) {
            sleeps.add(nanos);
            now.addAndGet(nanos);
        }

        TokenBucket bucket(long rate) {
            return new TokenBucket(rate, now::get, this);
        }
    }

    @Test
    void aQuietBucketGrantsItsTenthOfASecondAtOnceThenPacesAtTheRate() throws Exception {
        FakeTime time = new FakeTime();
        TokenBucket bucket = time.bucket(MIB);
        // capacity MIB/10 = 104857 bytes; chunks of at most 64 KiB
        assertThat(bucket.take(64 * 1024)).isEqualTo(64 * 1024);
        assertThat(bucket.take(64 * 1024)).isEqualTo(64 * 1024);
        assertThat(time.sleeps).hasSize(1);
        // 131072 taken of 104857: 26215 bytes of debt at 1 MiB/s
        assertThat(time.sleeps.get(0)).isEqualTo((long) Math.ceil(26215 * 1e9 / MIB));
    }

    @Test
    void aHugeRequestIsGrantedOneChunk() throws Exception {
        FakeTime time = new FakeTime();
        TokenBucket fast = time.bucket(100 * MIB);
        TokenBucket slow = time.bucket(100_000);
        assertThat(fast.chunk()).isEqualTo(TokenBucket.MAX_CHUNK);
        assertThat(fast.take(Long.MAX_VALUE)).isEqualTo(TokenBucket.MAX_CHUNK);
        // a tenth of a second of 100000 B/s
        assertThat(slow.chunk()).isEqualTo(10_000);
        assertThat(slow.take(1L << 40)).isEqualTo(10_000);
        assertThat(time.bucket(5).chunk()).isEqualTo(1);
    }

    @Test
    void threeMebibytesAtOneMebibytePerSecondTakeThreeSecondsLessTheBurst() throws Exception {
        FakeTime time = new FakeTime();
        TokenBucket bucket = time.bucket(MIB);
        long start = time.now.get();
        long left = 3 * MIB;
        while (left > 0) {
            left -= bucket.take(left);
        }
        long elapsed = time.now.get() - start;
        // (3 MiB - the 104857-byte burst) / 1 MiB/s, each sleep rounded up by at most a nanosecond
        long expected = (long) ((3 * MIB - MIB / 10) * 1e9 / MIB);
        assertThat(elapsed).isBetween(expected - 1, expected + time.sleeps.size());
    }

    @Test
    void idleTimeFillsTheBucketOnlyUpToItsCapacity() throws Exception {
        FakeTime time = new FakeTime();
        TokenBucket bucket = time.bucket(MIB);
        bucket.take(64 * 1024);
        time.now.addAndGet(3600 * SECOND);
        assertThat(bucket.available()).isEqualTo(MIB / 10);
    }

    @Test
    void takersThatShareABucketTogetherGetItsRate() throws Exception {
        FakeTime time = new FakeTime();
        TokenBucket bucket = time.bucket(MIB);
        long start = time.now.get();
        long a = 0;
        long b = 0;
        // two sessions taking turns, as two transfers of one user do
        while (a + b < 4 * MIB) {
            a += bucket.take(64 * 1024);
            b += bucket.take(32 * 1024);
        }
        double seconds = (time.now.get() - start) / 1e9;
        assertThat((a + b - MIB / 10) / seconds).isBetween(MIB * 0.999, MIB * 1.001);
        assertThat(a).isEqualTo(2 * b);
    }

    /**
     * The window bound: with random request sizes, the bytes released in any one-second window (a release is when
     * the take returned) never exceed the capacity, one second of rate and one chunk.
     */
    @Test
    void noOneSecondWindowCarriesMoreThanTheRateAndTheBurst() throws Exception {
        FakeTime time = new FakeTime();
        long rate = 3 * MIB;
        TokenBucket bucket = time.bucket(rate);
        Random random = new Random(14);
        List<long[]> releases = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            if (random.nextInt(10) == 0) {
                time.now.addAndGet(random.nextLong(SECOND / 2));
            }
            long n = bucket.take(1 + random.nextLong(200_000));
            releases.add(new long[] {time.now.get(), n});
        }
        long bound = rate / 10 + rate + bucket.chunk();
        long total = 0;
        int from = 0;
        for (int to = 0; to < releases.size(); to++) {
            total += releases.get(to)[1];
            while (releases.get(to)[0] - releases.get(from)[0] >= SECOND) {
                total -= releases.get(from)[1];
                from++;
            }
            assertThat(total).isLessThanOrEqualTo(bound);
        }
    }

    @Test
    void concurrentTakersLoseNoReservation() throws Exception {
        // The clock stands still and sleeps return at once: every take is a pure reservation.
        AtomicLong now = new AtomicLong();
        TokenBucket bucket = new TokenBucket(MIB, now::get, nanos -> {});
        int threads = 8;
        int takes = 2_000;
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            started.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < takes; i++) {
                    try {
                        bucket.take(1000);
                    } catch (InterruptedIOException e) {
                        throw new AssertionError(e);
                    }
                }
            }));
        }
        for (Thread t : started) {
            t.join();
        }
        assertThat(bucket.available()).isEqualTo(MIB / 10 - (double) threads * takes * 1000);
    }

    @Test
    void anInterruptedWaitEndsWithAnInterruptedIOException() throws Exception {
        AtomicLong now = new AtomicLong();
        TokenBucket bucket = new TokenBucket(1000, now::get, nanos -> {
            throw new InterruptedException();
        });
        bucket.take(100);
        try {
            assertThatThrownBy(() -> bucket.take(100)).isInstanceOf(InterruptedIOException.class);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void aRateMustBeAboveZero() {
        assertThatThrownBy(() -> new TokenBucket(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
