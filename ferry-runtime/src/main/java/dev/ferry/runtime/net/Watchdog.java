package dev.ferry.runtime.net;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Deadlines for blocking I/O.
 *
 * <p>Design: blocking channels have no write timeout at all and no read timeout either (only the
 * socket adaptor's streams do). Instead, code arms a {@link Guard} before each blocking operation;
 * one platform thread scans the live guards a few times a second and fires those whose deadline
 * passed. Firing runs the guard's action (shut the socket's input so a blocked read returns EOF and
 * the session can still say 421, or close the channel so a stuck write or sendfile fails). The
 * registry holds one guard per live connection, so its size is bounded by the session limits, and
 * arming is one volatile write, cheap enough for every chunk of a transfer.
 */
public final class Watchdog implements AutoCloseable {

    private static final long SCAN_INTERVAL_MILLIS = 200;

    private final Set<Guard> guards = ConcurrentHashMap.newKeySet();
    private final Thread scanner;
    private volatile boolean running = true;

    public Watchdog(String name) {
        scanner = Thread.ofPlatform().daemon().name(name).start(this::scanLoop);
    }

    /** A guard that runs {@code onTimeout} (which must not block) each time an armed deadline passes. */
    public Guard guard(Runnable onTimeout) {
        Guard g = new Guard(onTimeout);
        guards.add(g);
        return g;
    }

    public int size() {
        return guards.size();
    }

    private void scanLoop() {
        while (running) {
            try {
                TimeUnit.MILLISECONDS.sleep(SCAN_INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Guard g : guards) {
                g.checkExpired(now);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        scanner.interrupt();
    }

    private static final java.lang.invoke.VarHandle DEADLINE;

    static {
        try {
            DEADLINE = java.lang.invoke.MethodHandles.lookup().findVarHandle(Guard.class, "deadline", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One connection's deadline. */
    public final class Guard implements AutoCloseable {
        private static final long DISARMED = 0;
        private final Runnable onTimeout;
        private volatile long deadline = DISARMED;
        private volatile int firings;

        private Guard(Runnable onTimeout) {
            this.onTimeout = onTimeout;
        }

        /** Fires unless disarmed or re-armed within {@code timeout}. A zero or negative timeout disarms. */
        public void arm(Duration timeout) {
            long nanos = timeout.toNanos();
            if (nanos <= 0) {
                deadline = DISARMED;
                return;
            }
            long d = System.nanoTime() + nanos;
            deadline = d == DISARMED ? 1 : d;
        }

        public void disarm() {
            deadline = DISARMED;
        }

        /** How many times this guard fired. */
        public int firings() {
            return firings;
        }

        public boolean fired() {
            return firings > 0;
        }

        void checkExpired(long now) {
            long d = deadline;
            // Compare-and-set, so a re-arm that races with this check is never lost.
            if (d != DISARMED && now - d > 0 && DEADLINE.compareAndSet(this, d, DISARMED)) {
                firings++;
                onTimeout.run();
            }
        }

        @Override
        public void close() {
            deadline = DISARMED;
            guards.remove(this);
        }
    }
}
