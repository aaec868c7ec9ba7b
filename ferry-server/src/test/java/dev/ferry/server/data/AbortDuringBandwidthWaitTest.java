package dev.ferry.server.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.runtime.net.BufferPool;
import dev.ferry.runtime.net.Watchdog;
import dev.ferry.server.policy.Throttle;
import dev.ferry.server.policy.TokenBucket;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ABOR (and a session's end, a server stop) must not wait out a transfer's turn at a bandwidth bucket: a bucket
 * shared by many transfers makes each wait for all their chunks, and closing the data connection does not wake
 * a thread that sleeps. The wait ends at the abort, and the interrupt that ended it is not left set.
 */
@Timeout(30)
class AbortDuringBandwidthWaitTest {

    /** An endless upload: one byte per read. */
    private static final class Endless implements ReadableByteChannel {
        volatile boolean open = true;

        @Override
        public int read(ByteBuffer dst) {
            dst.put((byte) 'x');
            return 1;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }

    private static final WritableByteChannel DISCARD = new WritableByteChannel() {
        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    };

    @Test
    void anAbortEndsAWaitForTheBandwidthLimitAtOnceAndLeavesNoInterrupt() throws Exception {
        // 1 byte per second on a clock that never moves: 60 bytes already taken by others put the next taker a
        // minute behind them, the wait a shared bucket gives when many transfers use it.
        AtomicBoolean sleepForReal = new AtomicBoolean(false);
        TokenBucket bucket = new TokenBucket(1, () -> 0L, nanos -> {
            if (sleepForReal.get()) {
                Thread.sleep(Duration.ofNanos(nanos));
            }
        });
        for (int i = 0; i < 60; i++) {
            bucket.take(1);
        }
        sleepForReal.set(true);
        Throttle throttle = Throttle.of(bucket);

        Transfer transfer = new Transfer(new TransferProgress("STOR limited"));
        Endless data = new Endless();
        transfer.attach(data);
        AtomicReference<Thread> thread = new AtomicReference<>();
        AtomicReference<Throwable> ended = new AtomicReference<>();
        AtomicBoolean interruptLeft = new AtomicBoolean(true);
        try (Watchdog watchdog = new Watchdog("test-watchdog");
             Watchdog.Guard guard = watchdog.guard(() -> {})) {
            transfer.start(() -> {
                thread.set(Thread.currentThread());
                try {
                    Transfers.receive(data, DISCARD, false, new BufferPool(64, 4), guard, Duration.ofSeconds(10),
                            transfer.progress, throttle);
                } catch (Throwable e) {
                    ended.set(e);
                }
                interruptLeft.set(Thread.currentThread().isInterrupted());
            });
            while (thread.get() == null || thread.get().getState() != Thread.State.TIMED_WAITING) {
                Thread.sleep(5);
            }

            long start = System.nanoTime();
            transfer.abort();
            boolean endedInTime = thread.get().join(Duration.ofSeconds(5));
            long ms = (System.nanoTime() - start) / 1_000_000L;
            if (!endedInTime) {
                thread.get().interrupt();
            }

            assertThat(endedInTime).as("transfer ended within 5 s of the abort (took %d ms)", ms).isTrue();
            assertThat(ended.get()).isInstanceOf(InterruptedIOException.class);
            assertThat(interruptLeft.get()).as("interrupt status left set after the wait").isFalse();
        }
    }
}
