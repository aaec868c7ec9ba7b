package dev.ferry.runtime.net;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds idle control connections without a thread.
 *
 * <p>Why: a virtual thread blocked in a read keeps its stack (about 3 KiB for a session) and its
 * thread-locals on the heap. A server holding thousands of logged-in but silent clients (monitors,
 * scripts between commands) would spend most of its memory on those stacks. A session that has been
 * silent for a grace period therefore ends its thread and hands its channel here; one platform
 * thread waits on a selector for all of them and starts a fresh virtual thread for a session as soon
 * as its client sends something (or its idle timeout shuts the input). Busy sessions never come
 * here, so the per-command path pays nothing.
 *
 * <p>Blocking mode: the session switches its channel to non-blocking before parking (on its own
 * thread, so a reply being written by a transfer thread is never waited for here); the parker
 * cancels the key and flushes it with selectNow before the resumed session switches back to
 * blocking, as the selector API requires. The queue of pending registrations holds at most one
 * entry per live session, so it is bounded by the session limit.
 */
public final class IdleParker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger("ferry.runtime");

    /**
     * A session silent this long gives its thread back and waits here (short enough that thousands of idle
     * sessions cost no stacks, long enough that a client in the middle of a conversation never pays for the
     * hand-over). One value for both daemons' sessions.
     */
    public static final long PARK_AFTER_MILLIS = 500;

    /** A registration on its way to the selector thread; once registered, only {@code resume} stays (the key's attachment). */
    private record Parked(SocketChannel channel, Runnable resume) {}

    private final Selector selector;
    private final ConcurrentLinkedQueue<Parked> pending = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    public IdleParker(String name) throws IOException {
        this.selector = Selector.open();
        this.thread = Thread.ofPlatform().daemon().name(name).start(this::loop);
    }

    /**
     * Waits for {@code channel} (already non-blocking) to become readable, then runs
     * {@code resume} on a new virtual thread with the channel deregistered.
     */
    public void park(SocketChannel channel, Runnable resume) {
        pending.add(new Parked(channel, resume));
        selector.wakeup();
        if (!running) {
            // Stopped meanwhile: resume at once so the session can end normally.
            drainPendingInto(new ArrayList<>());
        }
    }

    private void loop() {
        List<Runnable> ready = new ArrayList<>();
        try {
            while (running) {
                selector.select();
                Parked p;
                while ((p = pending.poll()) != null) {
                    try {
                        // The attachment is the session's own resume action, not the Parked pair: a parked
                        // session then holds no object of the parker's beyond its key (measured per idle session).
                        p.channel().register(selector, SelectionKey.OP_READ, p.resume());
                    } catch (IOException | RuntimeException e) {
                        // Closed or otherwise gone: let the session find out on its own thread.
                        ready.add(p.resume());
                    }
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    key.cancel();
                    ready.add((Runnable) key.attachment());
                }
                selector.selectedKeys().clear();
                if (!ready.isEmpty()) {
                    // Completes the deregistration of the cancelled keys, so that the resumed
                    // session may put its channel back into blocking mode.
                    selector.selectNow();
                    resumeAll(ready);
                }
            }
        } catch (IOException | ClosedSelectorException | CancelledKeyException e) {
            if (running) {
                LOG.warn("event=idle-parker-failed error={}", e.toString());
            }
        } finally {
            // Every parked session gets its thread back so it can end properly.
            for (SelectionKey key : selector.isOpen() ? selector.keys() : java.util.Set.<SelectionKey>of()) {
                ready.add((Runnable) key.attachment());
                key.cancel();
            }
            try {
                selector.selectNow();
            } catch (IOException | ClosedSelectorException ignored) {
                // closing
            }
            drainPendingInto(ready);
        }
    }

    private void drainPendingInto(List<Runnable> ready) {
        Parked p;
        while ((p = pending.poll()) != null) {
            ready.add(p.resume());
        }
        resumeAll(ready);
    }

    private static void resumeAll(List<Runnable> ready) {
        for (Runnable resume : ready) {
            Thread.ofVirtual().start(resume);
        }
        ready.clear();
    }

    @Override
    public void close() {
        running = false;
        selector.wakeup();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
