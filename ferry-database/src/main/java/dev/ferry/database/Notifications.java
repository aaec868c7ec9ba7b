package dev.ferry.database;

import dev.ferry.runtime.log.EventLog;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * One dedicated connection that LISTENs on named channels and hands each NOTIFY to the listeners of its channel.
 *
 * <p>Design. One virtual thread owns the connection and does everything on it: LISTEN for each channel (those
 * subscribed later too), then waits for notifications in slices of {@link #WAIT} (the driver's
 * {@code getNotifications(timeout)} bounds each wait on the socket), and checks the connection with a query every
 * {@link #PING}, so a database that vanished without closing the socket is noticed. When the connection fails the
 * thread reconnects with a growing pause (up to {@link #MAX_BACKOFF}); notifications sent meanwhile are lost, so
 * it tells every listener {@link Listener#everythingChanged()} when the connection is lost and again once it is
 * back: a cache flushes and starts afresh, and (asking {@link #connected()}) keeps nothing while it cannot hear.
 * Listeners run on this thread and must be quick (drop a cache entry, not query the database).
 */
public final class Notifications implements AutoCloseable {

    static final Duration WAIT = Duration.ofMillis(500);
    static final Duration PING = Duration.ofSeconds(10);
    static final Duration MIN_BACKOFF = Duration.ofMillis(100);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    /** Channels one process may listen on; a handful are used. */
    static final int MAX_CHANNELS = 32;
    private static final Pattern CHANNEL = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    /** Receives the notifications of the channels it subscribed to. */
    public interface Listener {
        /** {@code payload} was notified on {@code channel}. */
        void notified(String channel, String payload);

        /** The connection was lost, or is back after a loss: notifications may have been missed. */
        void everythingChanged();
    }

    private final DatabaseSettings settings;
    private final EventLog log;
    private final Map<String, List<Listener>> listeners = new ConcurrentHashMap<>();
    private final Set<String> listening = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean closed;
    private volatile boolean connected;
    private volatile Connection connection;

    private Notifications(DatabaseSettings settings, EventLog log) {
        this.settings = settings;
        this.log = log;
        this.thread = Thread.ofVirtual().name("ferry-db-notifications").unstarted(this::run);
    }

    /** Starts the listening thread; it connects in the background. */
    public static Notifications start(DatabaseSettings settings, EventLog log) {
        Notifications n = new Notifications(settings, log);
        n.thread.start();
        return n;
    }

    /** Calls {@code listener} for each NOTIFY on {@code channel} (an SQL identifier in lower case) from now on. */
    public void subscribe(String channel, Listener listener) {
        if (!CHANNEL.matcher(channel).matches()) {
            throw new IllegalArgumentException("channel " + channel + " is not a lower-case SQL identifier");
        }
        if (!listeners.containsKey(channel) && listeners.size() >= MAX_CHANNELS) {
            throw new IllegalStateException("more than " + MAX_CHANNELS + " notification channels");
        }
        listeners.computeIfAbsent(channel, k -> new CopyOnWriteArrayList<>()).add(listener);
    }

    /**
     * Stops calling {@code listener} for {@code channel}. A listener whose owner is closed must leave: the database
     * outlives account sources (a reload replaces them), and each would otherwise stay reachable, cache and all.
     */
    public void unsubscribe(String channel, Listener listener) {
        List<Listener> list = listeners.get(channel);
        if (list != null) {
            list.remove(listener);
        }
    }

    /** How many listeners {@code channel} has (for tests and the log). */
    public int subscribers(String channel) {
        List<Listener> list = listeners.get(channel);
        return list == null ? 0 : list.size();
    }

    /** Whether the LISTEN connection is up (for tests and the log). */
    public boolean connected() {
        return connected;
    }

    /** Whether a NOTIFY on {@code channel} would be heard now: connected, and LISTENing on it. */
    public boolean hearing(String channel) {
        return connected && listening.contains(channel);
    }

    /** Waits (bounded) until the LISTEN connection is up and listening on every subscribed channel. */
    public boolean awaitListening(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!(connected && listening.containsAll(listeners.keySet()))) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    @Override
    public void close() {
        closed = true;
        Connection c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
        try {
            if (!thread.join(WAIT.multipliedBy(4))) {
                thread.interrupt();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        long backoff = MIN_BACKOFF.toMillis();
        boolean lostOnce = false;
        while (!closed) {
            try (Connection c = Database.connect(settings)) {
                connection = c;
                PGConnection pg = c.unwrap(PGConnection.class);
                listening.clear();
                listenToNew(c);
                connected = true;
                backoff = MIN_BACKOFF.toMillis();
                if (lostOnce) {
                    log.info("database-notifications-resumed").with("url", settings.displayUrl()).log();
                    // SECURITY: what changed while we were away is unknown; a stale cached row could let a
                    // disabled account in, so every listener starts afresh.
                    everyListener().forEach(Listener::everythingChanged);
                }
                long nextPing = System.nanoTime() + PING.toNanos();
                while (!closed) {
                    PGNotification[] got = pg.getNotifications((int) WAIT.toMillis());
                    if (got != null) {
                        for (PGNotification n : got) {
                            deliver(n.getName(), n.getParameter());
                        }
                    }
                    listenToNew(c);
                    if (System.nanoTime() > nextPing) {
                        try (Statement st = c.createStatement()) {
                            st.execute("SELECT 1");
                        }
                        nextPing = System.nanoTime() + PING.toNanos();
                    }
                }
            } catch (SQLException | DatabaseException | RuntimeException e) {
                if (closed) {
                    break;
                }
                if (connected) {
                    connected = false;
                    // SECURITY: from now on no change is heard; what a cache holds can go stale unseen.
                    everyListener().forEach(Listener::everythingChanged);
                }
                if (!lostOnce) {
                    log.warn("database-notifications-lost").with("url", settings.displayUrl())
                            .with("error", e.getMessage()).with("retry_ms", backoff).log();
                }
                lostOnce = true;
            } finally {
                connected = false;
                connection = null;
            }
            if (closed) {
                break;
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                break;
            }
            backoff = Math.min(backoff * 2, MAX_BACKOFF.toMillis());
        }
    }

    private void listenToNew(Connection c) throws SQLException {
        for (String channel : listeners.keySet()) {
            if (!listening.contains(channel)) {
                try (Statement st = c.createStatement()) {
                    // the name was checked against CHANNEL when subscribed: a plain identifier, safe to splice
                    st.execute("LISTEN " + channel);
                }
                listening.add(channel);
            }
        }
    }

    private void deliver(String channel, String payload) {
        for (Listener l : listeners.getOrDefault(channel, List.of())) {
            try {
                l.notified(channel, payload);
            } catch (RuntimeException e) {
                log.warn("database-notification-listener-failed").with("channel", channel).with("error", e.toString()).log();
            }
        }
    }

    private List<Listener> everyListener() {
        return listeners.values().stream().flatMap(List::stream).distinct().toList();
    }
}
