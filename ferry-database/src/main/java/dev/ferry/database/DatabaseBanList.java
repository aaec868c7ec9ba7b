package dev.ferry.database;

import dev.ferry.runtime.limits.Ban;
import dev.ferry.runtime.limits.BanList;
import dev.ferry.runtime.limits.BanRules;
import dev.ferry.runtime.limits.LimitsUnavailableException;
import dev.ferry.runtime.limits.LocalBanList;
import dev.ferry.runtime.log.EventLog;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The ban list of a fleet, in PostgreSQL: failures counted on any server or balancer add up, and a ban made
 * anywhere (by failures or by hand) holds everywhere as soon as its NOTIFY arrives.
 *
 * <p>Design. {@link #isBanned} is on every connection's path and never queries: it reads an in-memory copy of
 * the bans in force, loaded at start and kept current by {@code NOTIFY ferry_bans}, whose payload carries the whole
 * ban (or the lift), so hearing it needs no query either. An ending ban needs no notification: the copy compares
 * {@code until} with the clock. When the LISTEN connection is back after a loss (notifications may have been
 * missed) the copy is reloaded whole on another thread; notifications heard while that load runs are replayed on
 * top of it, in order, so a ban or lift committed during the load is not undone by the older snapshot.
 * {@link #recordFailure} is one call of {@code ferry_record_failure} (migration sessions_bans): LocalBanList's fixed-window
 * rule in SQL, serialised per address by an advisory lock, so two nodes' failures count exactly.
 *
 * <p>Database down: bans already known keep holding (fail-safe: an outage must not open the door to a guesser),
 * failures are counted in a {@link LocalBanList} of this process meanwhile (its bans hold here only), and the
 * outage is logged once, its end once. A ban or lift by hand cannot be made for the fleet then and says so
 * ({@link LimitsUnavailableException}).
 */
public final class DatabaseBanList implements BanList, AutoCloseable {

    static final String CHANNEL = "ferry_bans";
    /** Bans the copy holds at most (as many as LocalBanList tracks). */
    static final int MAX_BANS = LocalBanList.MAX_TRACKED_ADDRESSES;
    /** Notifications kept for replay while a reload runs; beyond this the reload is simply done again. */
    static final int MAX_REPLAY = 10_000;
    /** While the database is down, how long calls go straight to the fallback before one tries again. */
    static final Duration RETRY = Duration.ofSeconds(1);
    /** Longest pause between tries of a reload that failed. */
    static final Duration MAX_RELOAD_PAUSE = Duration.ofSeconds(5);
    /** How often ended bans and old failure rows are deleted. */
    static final Duration CLEANUP = Duration.ofMinutes(1);
    /** Longest ban the database is asked for (a timestamp has its limits; a century is "forever" here). */
    private static final long MAX_MILLIS = Duration.ofDays(36_500).toMillis();

    private final Database db;
    private final BanRules rules;
    private final String node;
    private final Clock clock;
    private final EventLog log;
    private final LocalBanList fallback;
    private final AtomicBoolean down = new AtomicBoolean();
    /** While down: no query before this time (System.nanoTime), so that calls do not each wait the connect timeout. */
    private volatile long retryAt;
    private final AtomicBoolean fullLogged = new AtomicBoolean();
    private final Thread cleaner;
    private volatile boolean closed;

    /** The bans in force as last heard; replaced whole by a reload. Changed only under {@code this}. */
    private volatile ConcurrentHashMap<InetAddress, Ban> copy = new ConcurrentHashMap<>();
    /** Guarded by {@code this}: notifications heard since a reload began, or null when none runs. */
    private List<String> replay;
    private boolean reloadAgain;
    /** Whether the fallback has ever counted (only then is it asked on the hot path). */
    private volatile boolean fallbackUsed;

    private DatabaseBanList(Database db, BanRules rules, String node, Clock clock, EventLog log) {
        this.db = db;
        this.rules = rules;
        this.node = node;
        this.clock = clock;
        this.log = log;
        this.fallback = new LocalBanList(rules, clock, node);
        this.cleaner = Thread.ofVirtual().name("ferry-bans-cleaner").unstarted(this::cleanLoop);
    }

    /**
     * Subscribes to the bans' channel, waits (bounded by the connect timeout) until it is heard, then loads the
     * bans in force.
     *
     * @throws DatabaseException the bans cannot be loaded at start
     */
    public static DatabaseBanList start(Database db, BanRules rules, String node, Clock clock, EventLog log)
            throws DatabaseException {
        DatabaseBanList list = new DatabaseBanList(db, rules, node, clock, log);
        Notifications n = db.notifications();
        n.subscribe(CHANNEL, list.new Heard());
        try {
            if (!n.awaitListening(db.settings().connectTimeout())) {
                log.warn("bans-listen-late").with("wait_ms", db.settings().connectTimeout().toMillis()).log();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DatabaseException("interrupted while starting the ban list", e);
        }
        try {
            list.reload();
        } catch (SQLException e) {
            throw Database.unreachable(db.settings(), e);
        }
        list.cleaner.start();
        return list;
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public boolean isBanned(InetAddress address) {
        InetAddress key = Ban.key(address);
        Ban b = copy.get(key);
        if (b != null && clock.instant().isBefore(b.until())) {
            return true;
        }
        return fallbackUsed && fallback.isBanned(address);
    }

    @Override
    public boolean recordFailure(InetAddress address) {
        if (!rules.enabled()) {
            return false;
        }
        InetAddress key = Ban.key(address);
        if (resting()) {
            fallbackUsed = true;
            return fallback.recordFailure(address);
        }
        try (Connection c = db.connection();
             PreparedStatement st = c.prepareStatement("SELECT host(address), until, failures, reason, origin"
                     + " FROM ferry_record_failure(?::inet, ?, ?, ?, ?)")) {
            st.setString(1, key.getHostAddress());
            st.setInt(2, rules.afterFailures());
            st.setLong(3, clampMillis(rules.window()));
            st.setLong(4, clampMillis(rules.duration()));
            st.setString(5, node);
            Ban started = null;
            try (ResultSet rs = st.executeQuery()) {
                if (rs.next()) {
                    started = ban(rs);
                }
            }
            back();
            if (started != null) {
                // at once here; the other nodes hear the NOTIFY
                put(started);
                return true;
            }
            return false;
        } catch (SQLException e) {
            outage("record-failure", e);
            fallbackUsed = true;
            return fallback.recordFailure(address);
        }
    }

    @Override
    public void recordSuccess(InetAddress address) {
        if (!rules.enabled()) {
            return;
        }
        if (fallbackUsed) {
            fallback.recordSuccess(address);
        }
        if (resting()) {
            return;
        }
        try (Connection c = db.connection();
             PreparedStatement st = c.prepareStatement("DELETE FROM ferry_login_failures WHERE address = ?::inet")) {
            st.setString(1, Ban.key(address).getHostAddress());
            st.executeUpdate();
            back();
        } catch (SQLException e) {
            outage("record-success", e);
        }
    }

    @Override
    public List<Ban> bans() {
        Instant now = clock.instant();
        List<Ban> out = new ArrayList<>();
        Set<InetAddress> seen = new HashSet<>();
        for (Ban b : copy.values()) {
            if (now.isBefore(b.until())) {
                out.add(b);
                seen.add(b.address());
            }
        }
        if (fallbackUsed) {
            for (Ban b : fallback.bans()) {
                if (seen.add(b.address())) {
                    out.add(b);
                }
            }
        }
        out.sort(Comparator.comparing(Ban::until));
        return out;
    }

    @Override
    public int bannedCount() {
        Instant now = clock.instant();
        int n = 0;
        for (Ban b : copy.values()) {
            if (now.isBefore(b.until())) {
                n++;
            }
        }
        return fallbackUsed ? n + fallback.bannedCount() : n;
    }

    @Override
    public Ban ban(InetAddress address, Duration duration, String reason, String origin) {
        if (duration == null || !duration.isPositive()) {
            throw new IllegalArgumentException("a ban lasts some time, got " + duration);
        }
        InetAddress key = Ban.key(address);
        if (resting()) {
            throw new LimitsUnavailableException("the ban database cannot be reached; the ban was not made", null);
        }
        try (Connection c = db.connection();
             PreparedStatement st = c.prepareStatement("SELECT host(address), until, failures, reason, origin"
                     + " FROM ferry_ban(?::inet, ?, ?, ?)")) {
            st.setString(1, key.getHostAddress());
            st.setLong(2, clampMillis(duration));
            st.setString(3, reason);
            st.setString(4, origin);
            Ban made;
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                made = ban(rs);
            }
            back();
            put(made);
            return made;
        } catch (SQLException e) {
            outage("ban", e);
            throw new LimitsUnavailableException("the ban database cannot be reached; the ban was not made: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public boolean lift(InetAddress address) {
        InetAddress key = Ban.key(address);
        boolean local = fallbackUsed && fallback.lift(address);
        if (resting()) {
            throw new LimitsUnavailableException("the ban database cannot be reached; the ban still holds on the"
                    + " other nodes", null);
        }
        try (Connection c = db.connection();
             PreparedStatement st = c.prepareStatement("SELECT ferry_lift(?::inet)")) {
            st.setString(1, key.getHostAddress());
            boolean lifted;
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                lifted = rs.getBoolean(1);
            }
            back();
            remove(key);
            return lifted || local;
        } catch (SQLException e) {
            outage("lift", e);
            throw new LimitsUnavailableException("the ban database cannot be reached; the ban still holds on the"
                    + " other nodes: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        closed = true;
        cleaner.interrupt();
    }

    /** Loads the bans in force, then replays what was heard meanwhile, and makes the result the copy. */
    void reload() throws SQLException {
        synchronized (this) {
            if (replay != null) {
                reloadAgain = true;   // the running reload starts over when done
                return;
            }
            replay = new ArrayList<>();
        }
        boolean again;
        do {
            ConcurrentHashMap<InetAddress, Ban> loaded = new ConcurrentHashMap<>();
            try (Connection c = db.connection();
                 PreparedStatement st = c.prepareStatement("SELECT host(address), until, failures, reason, origin"
                         + " FROM ferry_bans WHERE until > now() ORDER BY until DESC LIMIT " + MAX_BANS);
                 ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    Ban b = ban(rs);
                    loaded.put(b.address(), b);
                }
            } catch (SQLException | RuntimeException e) {
                synchronized (this) {
                    replay = null;
                    reloadAgain = false;
                }
                throw e;
            }
            synchronized (this) {
                if (replay.size() >= MAX_REPLAY) {
                    again = true;   // too much happened during the load: load again rather than keep a partial replay
                } else {
                    for (String payload : replay) {
                        apply(loaded, payload);
                    }
                    copy = loaded;
                    again = reloadAgain;
                }
                reloadAgain = false;
                if (again) {
                    replay = new ArrayList<>();
                } else {
                    replay = null;
                }
            }
            back();
            log.info("bans-loaded").with("bans", loaded.size()).log();
        } while (again);
    }

    /** What the notification thread calls: applies the payload (and keeps it for a running reload). */
    private final class Heard implements Notifications.Listener {
        @Override
        public void notified(String channel, String payload) {
            synchronized (DatabaseBanList.this) {
                if (replay != null && replay.size() < MAX_REPLAY) {
                    replay.add(payload);
                }
                apply(copy, payload);
            }
        }

        @Override
        public void everythingChanged() {
            if (closed || !db.notifications().connected()) {
                // Lost: keep serving the bans known (fail-safe); the reload comes when it is back.
                return;
            }
            // Back after a loss: what was missed is unknown. The reload queries, so not on the listening thread.
            Thread.ofVirtual().name("ferry-bans-reload").start(DatabaseBanList.this::reloadUntilDone);
        }
    }

    /**
     * Reloads, trying again (a pause of {@link #RETRY}, growing to {@link #MAX_RELOAD_PAUSE}) while the pool cannot
     * give a connection yet: the LISTEN connection may be back before the pool is. Gives up when closed, or when the
     * LISTEN connection is lost again (its return starts another reload).
     */
    private void reloadUntilDone() {
        long pause = RETRY.toMillis();
        while (!closed && db.notifications().connected()) {
            try {
                reload();
                return;
            } catch (SQLException | RuntimeException e) {
                outage("reload", e);
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                return;
            }
            pause = Math.min(pause * 2, MAX_RELOAD_PAUSE.toMillis());
        }
    }

    /** Guarded by {@code this}. A payload that cannot be read is logged and skipped: it came from a newer Ferry? */
    private void apply(Map<InetAddress, Ban> into, String payload) {
        String[] p = payload.split("\t", 6);
        try {
            if (p[0].equals("lift") && p.length == 2) {
                into.remove(Ban.parseAddress(p[1]));
                return;
            }
            if (p[0].equals("ban") && p.length == 6) {
                Ban b = new Ban(Ban.parseAddress(p[1]), Instant.ofEpochMilli(Long.parseLong(p[2])), Integer.parseInt(p[3]),
                        p[5], p[4]);
                putInto(into, b);
                return;
            }
        } catch (IllegalArgumentException e) {
            // fall through to the warning
        }
        log.warn("bans-notification-unreadable").with("payload_chars", payload.length()).log();
    }

    private synchronized void put(Ban b) {
        putInto(copy, b);
        if (replay != null && replay.size() < MAX_REPLAY) {
            // our own change, committed: a reload running now must not lose it
            replay.add("ban\t" + b.address().getHostAddress() + "\t" + b.until().toEpochMilli() + "\t" + b.failures()
                    + "\t" + b.origin() + "\t" + b.reason());
        }
    }

    private synchronized void remove(InetAddress key) {
        copy.remove(key);
        if (replay != null && replay.size() < MAX_REPLAY) {
            replay.add("lift\t" + key.getHostAddress());
        }
    }

    private void putInto(Map<InetAddress, Ban> into, Ban b) {
        if (into.size() >= MAX_BANS && !into.containsKey(b.address())) {
            Instant now = clock.instant();
            into.values().removeIf(x -> !now.isBefore(x.until()));
            if (into.size() >= MAX_BANS) {
                if (fullLogged.compareAndSet(false, true)) {
                    log.warn("bans-copy-full").with("bans", into.size()).log();
                }
                return;
            }
        }
        into.put(b.address(), b);
    }

    private static Ban ban(ResultSet rs) throws SQLException {
        // milliseconds, as the NOTIFY payload carries it: every node holds the same value
        return new Ban(Ban.parseAddress(rs.getString(1)), rs.getTimestamp(2).toInstant().truncatedTo(ChronoUnit.MILLIS),
                rs.getInt(3), rs.getString(4),
                rs.getString(5));
    }

    /** Deletes ended bans and failure windows long over, and drops ended bans from the copy. */
    private void cleanLoop() {
        while (!closed) {
            try {
                Thread.sleep(CLEANUP);
            } catch (InterruptedException e) {
                return;
            }
            Instant now = clock.instant();
            synchronized (this) {
                copy.values().removeIf(b -> !now.isBefore(b.until()));
            }
            try (Connection c = db.connection(); Statement st = c.createStatement()) {
                st.executeUpdate("DELETE FROM ferry_bans WHERE until <= now()");
                // Another node's window may be longer than ours (they should agree): a day at least is kept.
                st.executeUpdate("DELETE FROM ferry_login_failures WHERE window_start <= now() - greatest(interval '1 day', "
                        + clampMillis(rules.window()) + " * interval '1 millisecond')");
                back();
            } catch (SQLException e) {
                outage("cleanup", e);
            }
        }
    }

    /** Whether the database is down and was tried less than {@link #RETRY} ago: do not wait on it again yet. */
    private boolean resting() {
        return down.get() && System.nanoTime() - retryAt < 0;
    }

    private void outage(String during, Exception e) {
        retryAt = System.nanoTime() + RETRY.toNanos();
        if (down.compareAndSet(false, true)) {
            log.warn("bans-database-unavailable").with("during", during).with("error", String.valueOf(e.getMessage()))
                    .with("serving", "last-known-bans").with("failures_counted", "locally").log();
        }
    }

    private void back() {
        if (down.compareAndSet(true, false)) {
            log.info("bans-database-back").log();
        }
    }

    private static long clampMillis(Duration d) {
        if (d.compareTo(Duration.ofMillis(MAX_MILLIS)) >= 0) {
            return MAX_MILLIS;
        }
        return Math.max(0, d.toMillis());
    }
}
