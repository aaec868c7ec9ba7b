package dev.ferry.balancer.proxy;

import dev.ferry.runtime.net.Watchdog;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The commands a session sent to its backend and whose final replies have not come yet, in order, so that
 * replies reach a pipelining client in the order of its commands.
 *
 * <p>Design: the backend answers commands in the order it got them, one final reply each (RFC 959 §4.2), so
 * the backend pump {@link #take takes} the oldest {@link Awaited} for each final reply it reads. A reply the
 * balancer makes itself {@link #awaitTurn waits its turn}: it goes out only once every earlier command has
 * been answered. A client far ahead of its replies waits in {@link #expect} (at most {@link #MAX_AWAITED}
 * commands outstanding) rather than growing the queue. Both waits are bounded by the server-idle timeout,
 * whose clock this class runs: armed while a command awaits its reply, disarmed when none does.
 *
 * <p>Threads: the client pump expects and awaits its turn, the backend pump takes and confirms, the relay
 * and the watchdog look; the queue is the lock and the condition for all of them.
 */
final class ReplyOrder {

    /** Commands a client may have on the way before it reads a reply; more wait (bounded, not dropped). */
    static final int MAX_AWAITED = 256;

    /** Guarded by itself, which is also the monitor the waits use. */
    private final ArrayDeque<Awaited> awaited = new ArrayDeque<>();
    private final Watchdog.Guard serverIdle;
    private final Supplier<Duration> serverIdleTimeout;
    /** The backend pump ended: no reply will come any more, so nobody waits for one. Guarded by {@link #awaited}. */
    private boolean backendEnded;

    /** {@code serverIdle}: the clock that ends a session whose backend stops answering; {@code timeout} read at each arm. */
    ReplyOrder(Watchdog.Guard serverIdle, Supplier<Duration> timeout) {
        this.serverIdle = serverIdle;
        this.serverIdleTimeout = timeout;
    }

    /**
     * Notes a command about to go to the backend. With {@link #MAX_AWAITED} outstanding, waits until the backend
     * answered one (or ended, or the server-idle timeout passed: then the command is noted anyway).
     */
    void expect(Awaited what) {
        synchronized (awaited) {
            long until = deadline();
            while (awaited.size() >= MAX_AWAITED && !backendEnded && waitUntil(until)) {
                // the backend pump notifies as replies go out
            }
            awaited.addLast(what);
            serverIdle.arm(serverIdleTimeout.get());
        }
    }

    /** Waits until the backend answered every command sent so far (or ended, or the server-idle timeout passed). */
    void awaitTurn() {
        synchronized (awaited) {
            long until = deadline();
            while (!awaited.isEmpty() && !backendEnded && waitUntil(until)) {
                // the backend pump notifies as replies go out
            }
        }
    }

    /** True while a command sent to the backend awaits its final reply (the server-idle clock runs). */
    boolean awaiting() {
        synchronized (awaited) {
            return !awaited.isEmpty();
        }
    }

    /** The command the backend answers next, or null. */
    Awaited head() {
        synchronized (awaited) {
            return awaited.peekFirst();
        }
    }

    /** The command a final reply answers (null: an unsolicited reply, such as a 421 on the backend's own timeout). */
    Awaited take() {
        synchronized (awaited) {
            return awaited.pollFirst();
        }
    }

    /** A final reply went out: the server-idle clock runs only while another command waits for its reply. */
    void replied() {
        synchronized (awaited) {
            if (awaited.isEmpty()) {
                serverIdle.disarm();
            } else {
                serverIdle.arm(serverIdleTimeout.get());
            }
            awaited.notifyAll();
        }
    }

    /** The backend pump ended: whoever waits for a reply stops waiting. */
    void backendEnded() {
        synchronized (awaited) {
            backendEnded = true;
            awaited.notifyAll();
        }
    }

    /**
     * The transfer at the head of the queue, if it uses {@code route} and was not answered yet, marked answered
     * (the balancer answers it itself); else null.
     */
    Awaited answerTransfer(DataRoute route) {
        synchronized (awaited) {
            Awaited head = awaited.peekFirst();
            if (head != null && head.kind == Awaited.Kind.TRANSFER && head.route == route && !head.answered()) {
                head.answer();
                return head;
            }
            return null;
        }
    }

    /**
     * True when a transfer command waits for a data connection the client has not made yet, sent less than
     * {@code limitNanos} ago: the backend's silence then is the client's doing, not the backend's.
     */
    boolean awaitingDataConnection(long limitNanos) {
        synchronized (awaited) {
            for (Awaited a : awaited) {
                if (a.kind == Awaited.Kind.TRANSFER && a.route != null && a.route.flow() == null
                        && a.route.failure() == null && System.nanoTime() - a.sentNanos < limitNanos) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Runs {@code action} on each outstanding command, oldest first, while no reply is taken. */
    void forEach(Consumer<Awaited> action) {
        synchronized (awaited) {
            awaited.forEach(action);
        }
    }

    private long deadline() {
        return System.nanoTime() + serverIdleTimeout.get().toNanos();
    }

    /** Waits on the queue until {@code until}; false once that passed (or the thread was interrupted). */
    private boolean waitUntil(long until) {
        long left = (until - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
            return false;
        }
        try {
            awaited.wait(left);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
