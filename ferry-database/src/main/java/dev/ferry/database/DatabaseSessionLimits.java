package dev.ferry.database;

import dev.ferry.runtime.limits.LimitsUnavailableException;
import dev.ferry.runtime.limits.LocalSessionLimits;
import dev.ferry.runtime.limits.SessionLimits;
import dev.ferry.runtime.log.EventLog;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sessions per user across every server of a fleet, in PostgreSQL: a user with {@code max-sessions: 2} gets two in
 * the cluster.
 *
 * <p>Design. A login of an account with a limit calls {@code ferry_acquire_session} (migration sessions_bans): under a
 * per-user advisory lock it counts the user's live leases and inserts one if there is room, in one short
 * transaction, so two servers can never both grant the last place. A lease is live while its node's row carries
 * the node's current incarnation (a random id per start) and was seen within {@link #DEFAULT_STALE}: every node
 * beats every {@link #DEFAULT_HEARTBEAT}, and deletes the leases of nodes not seen for that long, so a crashed
 * server's sessions stop counting after at most that time, and at once when it starts again (new incarnation).
 * A logout deletes its lease. A delete or insert whose outcome is unknown (the database went away) marks this
 * node's leases for a reconcile at the next heartbeat: the rows of this node are made to match the sessions it
 * really holds.
 *
 * <p>Accounts without a limit never query (their sessions are counted in memory, for the status page). Database
 * down: a login of an account with a limit is refused ({@link LimitsUnavailableException}, 421): letting it in
 * would break the limit the operator set; sessions logged in go on.
 */
public final class DatabaseSessionLimits implements SessionLimits, AutoCloseable {

    public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_STALE = Duration.ofSeconds(30);
    /** While the database is down, how long limited logins are refused at once before one tries again. */
    static final Duration RETRY = Duration.ofSeconds(1);

    private final Database db;
    /** This process's slot: the node name and, for a server, its listen address. */
    private final String node;
    private final UUID incarnation = UUID.randomUUID();
    private final Duration heartbeat;
    private final Duration stale;
    private final EventLog log;
    /** Every session of this process, limited or not: what {@link #counts()} shows. */
    private final LocalSessionLimits local;
    /** The leases this process holds in the database, by their row's session id, with their user. */
    private final Map<String, String> held = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicBoolean down = new AtomicBoolean();
    /** While down: no query before this time (System.nanoTime), so that logins do not each wait the connect timeout. */
    private volatile long retryAt;
    private final AtomicBoolean takenLogged = new AtomicBoolean();
    private volatile boolean dirty;
    private volatile boolean closed;
    private final Thread beater;

    private DatabaseSessionLimits(Database db, String node, Duration heartbeat, Duration stale, EventLog log) {
        this.db = db;
        this.node = node;
        this.heartbeat = heartbeat;
        this.stale = stale;
        this.log = log;
        this.local = new LocalSessionLimits(node);
        this.beater = Thread.ofVirtual().name("ferry-session-heartbeat").unstarted(this::beatLoop);
    }

    /** Registers this process (a new incarnation of {@code node}) and starts its heartbeat. */
    public static DatabaseSessionLimits start(Database db, String node, EventLog log) throws DatabaseException {
        return start(db, node, DEFAULT_HEARTBEAT, DEFAULT_STALE, log);
    }

    public static DatabaseSessionLimits start(Database db, String node, Duration heartbeat, Duration stale, EventLog log)
            throws DatabaseException {
        if (!heartbeat.isPositive() || stale.compareTo(heartbeat.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("stale (" + stale + ") must be at least twice the heartbeat (" + heartbeat + ")");
        }
        DatabaseSessionLimits limits = new DatabaseSessionLimits(db, node, heartbeat, stale, log);
        try (Connection c = db.connection()) {
            limits.register(c);
        } catch (SQLException e) {
            throw Database.unreachable(db.settings(), e);
        }
        limits.beater.start();
        return limits;
    }

    @Override
    public Lease acquire(String user, int max, String sessionId) {
        if (max <= 0) {
            return local.acquire(user, 0, sessionId);
        }
        if (resting()) {
            throw new LimitsUnavailableException("the session count in the database cannot be asked (down)", null);
        }
        String rowId = sessionId + "/" + sequence.incrementAndGet();
        boolean granted;
        try (Connection c = db.connection();
             PreparedStatement st = c.prepareStatement("SELECT ferry_acquire_session(?, ?, ?, ?::uuid, ?, ?)")) {
            st.setString(1, user);
            st.setInt(2, max);
            st.setString(3, node);
            st.setString(4, incarnation.toString());
            st.setString(5, rowId);
            st.setLong(6, stale.toMillis());
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                granted = rs.getBoolean(1);
            }
            back();
        } catch (SQLException e) {
            dirty = true;   // it may have committed before the answer was lost
            outage("acquire", e);
            throw new LimitsUnavailableException("the session count in the database cannot be asked: " + e.getMessage(), e);
        }
        if (!granted) {
            return null;
        }
        held.put(rowId, user);
        return new SharedLease(local.acquire(user, 0, sessionId), rowId);
    }

    @Override
    public Map<String, Integer> counts() {
        return local.counts();
    }

    /** The incarnation of this process (tests, the log). */
    UUID incarnation() {
        return incarnation;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        beater.interrupt();
        // A clean stop gives its places back at once rather than after the heartbeat goes stale.
        try (Connection c = db.connection();
             PreparedStatement leases = c.prepareStatement("DELETE FROM ferry_session_leases WHERE node = ? AND incarnation = ?::uuid");
             PreparedStatement me = c.prepareStatement("DELETE FROM ferry_nodes WHERE node = ? AND incarnation = ?::uuid")) {
            for (PreparedStatement st : new PreparedStatement[] {leases, me}) {
                st.setString(1, node);
                st.setString(2, incarnation.toString());
                st.executeUpdate();
            }
        } catch (SQLException e) {
            log.warn("session-limits-close-failed").with("error", e.getMessage()).log();
        }
    }

    /** As if the process died: the heartbeat stops and nothing is deleted (tests of a crashed node). */
    void halt() {
        closed = true;
        beater.interrupt();
    }

    private final class SharedLease implements Lease {
        private final Lease counted;
        private final String rowId;
        private final AtomicBoolean closed = new AtomicBoolean();

        SharedLease(Lease counted, String rowId) {
            this.counted = counted;
            this.rowId = rowId;
        }

        @Override public String user() { return counted.user(); }
        @Override public String node() { return node; }
        @Override public String sessionId() { return counted.sessionId(); }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            counted.close();
            held.remove(rowId);
            if (resting()) {
                dirty = true;   // the heartbeat deletes it once the database answers
                return;
            }
            try (Connection c = db.connection();
                 PreparedStatement st = c.prepareStatement("DELETE FROM ferry_session_leases"
                         + " WHERE node = ? AND incarnation = ?::uuid AND session_id = ?")) {
                st.setString(1, node);
                st.setString(2, incarnation.toString());
                st.setString(3, rowId);
                st.executeUpdate();
                back();
            } catch (SQLException e) {
                dirty = true;   // the heartbeat deletes it once the database answers
                outage("release", e);
            }
        }
    }

    /** This process's node row, as a new incarnation; the leases of earlier ones of the same node go. */
    private void register(Connection c) throws SQLException {
        try (PreparedStatement up = c.prepareStatement("INSERT INTO ferry_nodes (node, incarnation) VALUES (?, ?::uuid)"
                + " ON CONFLICT (node) DO UPDATE SET incarnation = excluded.incarnation, started = now(), last_seen = now()");
             PreparedStatement old = c.prepareStatement("DELETE FROM ferry_session_leases WHERE node = ? AND incarnation <> ?::uuid")) {
            for (PreparedStatement st : new PreparedStatement[] {up, old}) {
                st.setString(1, node);
                st.setString(2, incarnation.toString());
                st.executeUpdate();
            }
        }
        log.info("session-limits-registered").with("node", node).with("incarnation", incarnation.toString()).log();
    }

    private void beatLoop() {
        while (!closed) {
            try {
                Thread.sleep(heartbeat);
            } catch (InterruptedException e) {
                return;
            }
            if (closed) {
                return;
            }
            try (Connection c = db.connection()) {
                beat(c);
                back();
            } catch (SQLException e) {
                outage("heartbeat", e);
            }
        }
    }

    private void beat(Connection c) throws SQLException {
        int seen;
        try (PreparedStatement st = c.prepareStatement("UPDATE ferry_nodes SET last_seen = now()"
                + " WHERE node = ? AND incarnation = ?::uuid")) {
            st.setString(1, node);
            st.setString(2, incarnation.toString());
            seen = st.executeUpdate();
        }
        if (seen == 0) {
            String other = null;
            try (PreparedStatement st = c.prepareStatement("SELECT incarnation FROM ferry_nodes WHERE node = ?")) {
                st.setString(1, node);
                try (ResultSet rs = st.executeQuery()) {
                    if (rs.next()) {
                        other = rs.getString(1);
                    }
                }
            }
            if (other == null) {
                // Our row was cleaned while we could not beat (an outage longer than the stale time): our leases were
                // deleted with it, so they are put back below.
                try (PreparedStatement st = c.prepareStatement("INSERT INTO ferry_nodes (node, incarnation) VALUES (?, ?::uuid)"
                        + " ON CONFLICT (node) DO NOTHING")) {
                    st.setString(1, node);
                    st.setString(2, incarnation.toString());
                    st.executeUpdate();
                }
                dirty = true;
                log.info("session-limits-reregistered").with("node", node).log();
            } else if (takenLogged.compareAndSet(false, true)) {
                // Another process started with the same node key: two servers with one node name and listen address.
                log.warn("session-limits-node-taken").with("node", node).with("incarnation", incarnation.toString())
                        .with("other_incarnation", other).log();
            }
        }
        if (dirty) {
            dirty = false;
            reconcile(c);
        }
        try (PreparedStatement st = c.prepareStatement("DELETE FROM ferry_session_leases l WHERE NOT EXISTS (SELECT 1"
                + " FROM ferry_nodes n WHERE n.node = l.node AND n.incarnation = l.incarnation"
                + " AND n.last_seen > now() - ? * interval '1 millisecond')");
             PreparedStatement nodes = c.prepareStatement("DELETE FROM ferry_nodes"
                     + " WHERE last_seen <= now() - ? * interval '1 millisecond'")) {
            st.setLong(1, stale.toMillis());
            st.executeUpdate();
            nodes.setLong(1, stale.toMillis());
            nodes.executeUpdate();
        }
    }

    /** Makes this node's lease rows those of the sessions it holds: extra rows deleted, missing ones put back. */
    private void reconcile(Connection c) throws SQLException {
        Map<String, String> now = Map.copyOf(held);
        try {
            try (PreparedStatement del = c.prepareStatement("DELETE FROM ferry_session_leases"
                    + " WHERE node = ? AND incarnation = ?::uuid AND NOT (session_id = ANY (?))")) {
                Array ids = c.createArrayOf("text", now.keySet().toArray());
                del.setString(1, node);
                del.setString(2, incarnation.toString());
                del.setArray(3, ids);
                del.executeUpdate();
            }
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO ferry_session_leases (node, incarnation, session_id,"
                    + " username) VALUES (?, ?::uuid, ?, ?) ON CONFLICT DO NOTHING")) {
                for (Map.Entry<String, String> e : now.entrySet()) {
                    ins.setString(1, node);
                    ins.setString(2, incarnation.toString());
                    ins.setString(3, e.getKey());
                    ins.setString(4, e.getValue());
                    ins.addBatch();
                }
                ins.executeBatch();
            }
        } catch (SQLException e) {
            dirty = true;
            throw e;
        }
        log.info("session-limits-reconciled").with("leases", now.size()).log();
    }

    /** Whether the database is down and was tried less than {@link #RETRY} ago: do not wait on it again yet. */
    private boolean resting() {
        return down.get() && System.nanoTime() - retryAt < 0;
    }

    private void outage(String during, SQLException e) {
        retryAt = System.nanoTime() + RETRY.toNanos();
        if (down.compareAndSet(false, true)) {
            log.warn("session-limits-database-unavailable").with("during", during).with("error", e.getMessage())
                    .with("limited_logins", "refused").log();
        }
    }

    private void back() {
        if (down.compareAndSet(true, false)) {
            log.info("session-limits-database-back").log();
        }
    }
}
