package dev.ferry.balancer.frontend;

import dev.ferry.balancer.metrics.AdmissionStats;
import dev.ferry.runtime.net.AddressCounts;
import java.net.InetAddress;
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
 * <p>Before that, each connection is counted for its client address ({@link #arrive}) from the moment
 * it is accepted until it ends ({@link #depart}), queued or not: an address over its limit is refused
 * at once and never queued, so one host cannot fill the sessions and the queue and lock every other
 * client out. The limit is passed on each arrival, so a reload applies to the next connection.
 *
 * <p>Sessions and waiters are bounded, so a flood costs at most {@code maxSessions + queueSize} parked
 * virtual threads; the address map holds one entry per address with a connection (the acceptor bounds
 * those), and an address leaves it when its last connection ends.
 */
public final class Admission implements AdmissionStats {

    /** What became of a client that asked to start. */
    public enum Outcome { ADMITTED, QUEUE_FULL, QUEUE_TIMEOUT, TOO_MANY_FROM_ADDRESS }

    private final int maxSessions;
    private final int queueSize;
    private final Duration queueTimeout;
    // Fair: waiters are admitted in arrival order, and a newcomer does not overtake them.
    private final Semaphore slots;
    private final AtomicInteger queued = new AtomicInteger();
    private final AddressCounts perAddress = new AddressCounts();
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

    /**
     * Counts a new connection for its client address, or refuses it (false, counted as
     * {@link Outcome#TOO_MANY_FROM_ADDRESS}) when that address already holds {@code limit} connections.
     * {@link #depart} once per true, when the connection ends.
     */
    public boolean arrive(InetAddress client, int limit) {
        boolean counted = perAddress.tryAdd(client, limit);
        if (!counted) {
            outcomes[Outcome.TOO_MANY_FROM_ADDRESS.ordinal()].increment();
        }
        return counted;
    }

    /** A connection counted by {@link #arrive} ended. */
    public void depart(InetAddress client) {
        perAddress.remove(client);
    }

    /** Connections from {@code client} held now (admitted, queued or not yet either). */
    public int fromAddress(InetAddress client) {
        return perAddress.count(client);
    }

    /** Client addresses holding at least one connection (an IPv4 client seen as IPv4-mapped IPv6 is one address). */
    public int addresses() {
        return perAddress.addresses();
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

    @Override
    public int active() {
        return maxSessions - slots.availablePermits();
    }

    @Override
    public int queued() {
        return queued.get();
    }

    /** Clients that asked to start and got {@code outcome}, since the start. */
    public long count(Outcome outcome) {
        return outcomes[outcome.ordinal()].sum();
    }

    @Override
    public long admitted() {
        return count(Outcome.ADMITTED);
    }

    @Override
    public long refusedQueueFull() {
        return count(Outcome.QUEUE_FULL);
    }

    @Override
    public long refusedQueueTimeout() {
        return count(Outcome.QUEUE_TIMEOUT);
    }

    @Override
    public long refusedPerAddress() {
        return count(Outcome.TOO_MANY_FROM_ADDRESS);
    }

    /** The most connections that can be held at once: sessions plus waiters. */
    public int capacity() {
        return maxSessions + queueSize;
    }
}
