package dev.ferry.balancer.frontend;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Who may start a session: at most {@code maxSessions} at once; over that, up to {@code queueSize}
 * more wait their turn (first come, first served) for at most {@code queueTimeout}, and the rest
 * are refused at once. A queued client has a connection but no greeting yet, which every FTP client
 * waits for (HAProxy's frontend {@code maxconn} queues the same way, in the kernel's backlog).
 *
 * <p>Both the number of sessions and the number of waiters are bounded, so a flood costs at most
 * {@code maxSessions + queueSize} parked virtual threads.
 */
public final class Admission {

    /** What became of a client that asked to start. */
    public enum Outcome { ADMITTED, QUEUE_FULL, QUEUE_TIMEOUT }

    private final int maxSessions;
    private final int queueSize;
    private final Duration queueTimeout;
    // Fair: waiters are admitted in arrival order, and a newcomer does not overtake them.
    private final Semaphore slots;
    private final AtomicInteger queued = new AtomicInteger();
    /** How often each outcome happened, by ordinal (for metrics and the stats page). */
    private final LongAdder[] outcomes = new LongAdder[Outcome.values().length];

    public Admission(int maxSessions, int queueSize, Duration queueTimeout) {
        if (maxSessions < 1 || queueSize < 0) {
            throw new IllegalArgumentException("max sessions must be >= 1 and queue >= 0");
        }
        this.maxSessions = maxSessions;
        this.queueSize = queueSize;
        this.queueTimeout = queueTimeout;
        this.slots = new Semaphore(maxSessions, true);
        for (int i = 0; i < outcomes.length; i++) {
            outcomes[i] = new LongAdder();
        }
    }

    /** Takes a slot, waiting in the queue if there is room; {@link #leave} once per ADMITTED. */
    public Outcome enter() throws InterruptedException {
        Outcome outcome = takeSlot();
        outcomes[outcome.ordinal()].increment();
        return outcome;
    }

    private Outcome takeSlot() throws InterruptedException {
        // tryAcquire(0, ...) honours fairness, unlike tryAcquire(): nobody overtakes a waiter.
        if (slots.tryAcquire(0, TimeUnit.NANOSECONDS)) {
            return Outcome.ADMITTED;
        }
        if (queued.incrementAndGet() > queueSize) {
            queued.decrementAndGet();
            return Outcome.QUEUE_FULL;
        }
        try {
            return slots.tryAcquire(queueTimeout.toNanos(), TimeUnit.NANOSECONDS) ? Outcome.ADMITTED : Outcome.QUEUE_TIMEOUT;
        } finally {
            queued.decrementAndGet();
        }
    }

    public void leave() {
        slots.release();
    }

    /** Sessions admitted and not yet ended. */
    public int active() {
        return maxSessions - slots.availablePermits();
    }

    /** Clients waiting for a slot. */
    public int queued() {
        return queued.get();
    }

    /** Clients that asked to start and got {@code outcome}, since the start. */
    public long count(Outcome outcome) {
        return outcomes[outcome.ordinal()].sum();
    }

    /** The most connections that can be held at once: sessions plus waiters. */
    public int capacity() {
        return maxSessions + queueSize;
    }
}
