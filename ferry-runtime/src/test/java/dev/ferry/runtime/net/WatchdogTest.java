package dev.ferry.runtime.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Deadlines are short (300 ms) and every wait is a bounded latch. That a guard did NOT fire is shown
 * with witnesses instead of sleeps: a witness armed with the same timeout after the guard under test
 * has a later deadline, so once it fired, any scan that could have fired the guard has run; a
 * second witness armed after that proves the scan that fired the first one has finished.
 */
@Timeout(10)
class WatchdogTest {

    private static final Duration SHORT = Duration.ofMillis(300);

    private final Watchdog watchdog = new Watchdog("test-watchdog");

    @AfterEach
    void stop() {
        watchdog.close();
    }

    /** A guard whose firings count down a latch. */
    private final class Probe {
        final CountDownLatch fired = new CountDownLatch(1);
        final AtomicInteger count = new AtomicInteger();
        final Watchdog.Guard guard = watchdog.guard(() -> {
            count.incrementAndGet();
            fired.countDown();
        });

        boolean awaitFiring() throws InterruptedException {
            return fired.await(5, TimeUnit.SECONDS);
        }
    }

    /** Returns once every guard whose deadline has passed by now has been handled by the scanner. */
    private void awaitScansPast(Duration timeout) throws InterruptedException {
        Probe witness = new Probe();
        witness.guard.arm(timeout);
        assertThat(witness.awaitFiring()).as("witness fired").isTrue();
        Probe last = new Probe();
        last.guard.arm(Duration.ofNanos(1));
        assertThat(last.awaitFiring()).as("a later scan ran").isTrue();
        witness.guard.close();
        last.guard.close();
    }

    @Test
    void anArmedGuardFiresAfterItsDeadline() throws InterruptedException {
        Probe probe = new Probe();
        long start = System.nanoTime();

        probe.guard.arm(SHORT);

        assertThat(probe.awaitFiring()).isTrue();
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(SHORT.toNanos());
        assertThat(probe.guard.fired()).isTrue();
        assertThat(probe.guard.firings()).isEqualTo(1);
    }

    @Test
    void aGuardFiresOncePerArming() throws InterruptedException {
        Probe probe = new Probe();
        probe.guard.arm(SHORT);
        assertThat(probe.awaitFiring()).isTrue();

        awaitScansPast(SHORT);

        assertThat(probe.count.get()).isEqualTo(1);
        assertThat(probe.guard.firings()).isEqualTo(1);
    }

    @Test
    void aDisarmedGuardDoesNotFire() throws InterruptedException {
        Probe probe = new Probe();
        probe.guard.arm(SHORT);
        probe.guard.disarm();

        awaitScansPast(SHORT);

        assertThat(probe.count.get()).isZero();
        assertThat(probe.guard.fired()).isFalse();
    }

    @Test
    void aZeroTimeoutDisarms() throws InterruptedException {
        Probe probe = new Probe();
        probe.guard.arm(SHORT);
        probe.guard.arm(Duration.ZERO);

        awaitScansPast(SHORT);

        assertThat(probe.count.get()).isZero();
    }

    @Test
    void aClosedGuardDoesNotFireAndLeavesTheWatchdog() throws InterruptedException {
        Probe probe = new Probe();
        int before = watchdog.size();
        probe.guard.arm(SHORT);
        probe.guard.close();

        awaitScansPast(SHORT);

        assertThat(probe.count.get()).isZero();
        assertThat(watchdog.size()).isEqualTo(before - 1);
    }

    @Test
    void reArmingPostponesTheDeadline() throws InterruptedException {
        Probe probe = new Probe();
        probe.guard.arm(SHORT);
        long rearmed = System.nanoTime();
        probe.guard.arm(SHORT.multipliedBy(3));

        awaitScansPast(SHORT);
        assertThat(probe.count.get()).as("not fired at the first deadline").isZero();

        assertThat(probe.awaitFiring()).isTrue();
        assertThat(System.nanoTime() - rearmed).isGreaterThanOrEqualTo(SHORT.multipliedBy(3).toNanos());
    }

    @Test
    void aGuardCanBeArmedAgainAfterFiring() throws InterruptedException {
        Probe probe = new Probe();
        probe.guard.arm(SHORT);
        assertThat(probe.awaitFiring()).isTrue();

        probe.guard.arm(Duration.ofMillis(1));
        awaitScansPast(Duration.ofMillis(1));

        assertThat(probe.guard.firings()).isEqualTo(2);
    }

    @Test
    void guardsAreCountedWhileOpen() {
        Watchdog.Guard a = watchdog.guard(() -> { });
        Watchdog.Guard b = watchdog.guard(() -> { });
        assertThat(watchdog.size()).isEqualTo(2);

        a.close();
        b.close();

        assertThat(watchdog.size()).isZero();
    }
}
