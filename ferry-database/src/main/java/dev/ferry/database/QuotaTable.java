package dev.ferry.database;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Quota usage and reservations shared by every server: {@code ferry_quota_usage} (one row per account) and
 * {@code ferry_quota_reservations} (one row per running upload), migration V2. Knows accounts by name and limits
 * as numbers (0: no limit); the server's ledger maps them to its types.
 *
 * <p>Design: exact under concurrency from any number of servers, by two rules.
 * <ol>
 *   <li><b>Reserve is one statement</b>: {@code UPDATE ferry_quota_usage SET *_reserved = *_reserved + n WHERE
 *   account = ? AND used + reserved + n <= limit}, its reservation row inserted from the UPDATE's RETURNING in the
 *   same statement. Under READ COMMITTED an UPDATE that meets a row another transaction is changing waits for it,
 *   then evaluates its WHERE again against the row as committed (PostgreSQL manual, 13.2.1), so two reservations
 *   racing for the last room are decided one after the other on the real totals, whichever server sends them; a
 *   {@code SELECT ... FOR UPDATE} followed by a check in Java would be exact too, but costs three round trips where
 *   this costs one.</li>
 *   <li><b>Everything that touches a reservation row and the totals (grow, settle, release, expiry) is one short
 *   transaction that first locks the account's usage row</b> ({@code SELECT ... FOR UPDATE}). One lock order
 *   (usage row, then reservation rows) means no deadlock; and each later statement of the transaction sees all
 *   that earlier holders committed, so {@code *_reserved} stays the sum of the account's reservation rows, and a
 *   row removed by one server (its lease ended) is never subtracted again by another (DELETE ... RETURNING says
 *   whether it was still there).</li>
 * </ol>
 * Leases are compared with the database's clock, one clock for every server.
 *
 * <p>The first count of an account (walking its storage) runs under a transaction-level advisory lock on the
 * account's name, so of two servers meeting a new account at once one counts and the other finds the row.
 */
public final class QuotaTable {

    /** Advisory lock class of first counts ("fqta"); the account's hashtext is the second key. */
    static final int COUNT_LOCK_CLASS = 0x66717461;
    /** Most accounts one sweep (expiry, a node's restart) goes through: each is one short transaction. */
    static final int SWEEP_ACCOUNTS = 10_000;

    private static final String FITS = "(?::bigint = 0 OR bytes_used + bytes_reserved + ? <= ?)"
            + " AND (?::bigint = 0 OR files_used + files_reserved + ? <= ?)";
    private static final String RESERVE = "WITH u AS (UPDATE ferry_quota_usage"
            + " SET bytes_reserved = bytes_reserved + ?, files_reserved = files_reserved + ?"
            + " WHERE account = ? AND " + FITS + " RETURNING account)"
            + " INSERT INTO ferry_quota_reservations (account, node, incarnation, session, bytes, files, expires_at)"
            + " SELECT account, ?, ?, ?, ?, ?, now() + ? * interval '1 millisecond' FROM u RETURNING id";
    /** Removes reservation rows (the WHERE is appended) and takes what they held out of the account's totals. */
    private static final String DROP = "WITH gone AS (DELETE FROM ferry_quota_reservations WHERE account = ? AND %s"
            + " RETURNING bytes, files)"
            + " UPDATE ferry_quota_usage SET bytes_reserved = bytes_reserved - (SELECT coalesce(sum(bytes), 0) FROM gone),"
            + " files_reserved = files_reserved - (SELECT coalesce(sum(files), 0) FROM gone)"
            + " WHERE account = ? RETURNING (SELECT count(*) FROM gone)";

    private final Database database;

    public QuotaTable(Database database) {
        this.database = Objects.requireNonNull(database);
    }

    /** An account's totals: stored, and held by running uploads (reservations whose lease has ended left out). */
    public record Usage(long bytesUsed, long filesUsed, long bytesReserved, long filesReserved) {}

    /** What a walk of an account's storage found. */
    public record Count(long bytes, long files) {}

    /** Walks an account's storage; only called when the account has no row yet. */
    @FunctionalInterface
    public interface Counter {
        Count count() throws IOException;
    }

    /** Who holds a reservation: the server's node, which start of it, the session. */
    public record Holder(String node, String incarnation, String session) {
        public Holder {
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(incarnation, "incarnation");
            Objects.requireNonNull(session, "session");
        }
    }

    /** An account's limits; 0: none. */
    public record Limits(long bytes, long files) {}

    /**
     * Makes sure {@code account} has a usage row, counting it with {@code counter} if it has none (once across
     * every server: the others wait on the advisory lock, then find the row). True when this call counted it.
     * The walk holds one pooled connection and an open transaction for as long as it takes.
     */
    public boolean open(String account, Counter counter) throws SQLException, IOException {
        if (usageRow(account)) {
            return false;
        }
        try (Connection c = database.connection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement st = c.prepareStatement("SELECT pg_advisory_xact_lock(?, hashtext(?))")) {
                    st.setInt(1, COUNT_LOCK_CLASS);
                    st.setString(2, account);
                    st.execute();
                }
                boolean counted = false;
                if (!exists(c, account)) {
                    Count count = counter.count();
                    try (PreparedStatement st = c.prepareStatement("INSERT INTO ferry_quota_usage (account, bytes_used,"
                            + " files_used) VALUES (?, ?, ?) ON CONFLICT (account) DO NOTHING")) {
                        st.setString(1, account);
                        st.setLong(2, Math.max(0, count.bytes()));
                        st.setLong(3, Math.max(0, count.files()));
                        counted = st.executeUpdate() == 1;
                    }
                }
                c.commit(); // ends the advisory lock too
                return counted;
            } catch (SQLException | IOException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    private boolean usageRow(String account) throws SQLException {
        try (Connection c = database.connection()) {
            return exists(c, account);
        }
    }

    private static boolean exists(Connection c, String account) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("SELECT 1 FROM ferry_quota_usage WHERE account = ?")) {
            st.setString(1, account);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Reserves {@code bytes} and {@code files} within {@code limits}: the new reservation's id, or 0 when they do
     * not fit even after the account's expired reservations are dropped.
     *
     * @throws SQLException also when the account has no usage row (it was never {@link #open opened})
     */
    public long reserve(String account, Limits limits, Holder holder, long bytes, long files, Duration lease)
            throws SQLException {
        try (Connection c = database.connection()) {
            long id = reserve(c, account, limits, holder, bytes, files, lease);
            if (id != 0) {
                return id;
            }
        }
        // Refused: drop what expired, and try once more, under the account's row lock.
        return locked(account, (c, usage) -> expire(c, account) == 0 ? 0L
                : reserve(c, account, limits, holder, bytes, files, lease));
    }

    private static long reserve(Connection c, String account, Limits limits, Holder holder, long bytes, long files,
                                Duration lease) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(RESERVE)) {
            int i = 1;
            st.setLong(i++, bytes);
            st.setLong(i++, files);
            st.setString(i++, account);
            i = bindFits(st, i, limits, bytes, files);
            st.setString(i++, holder.node());
            st.setString(i++, holder.incarnation());
            st.setString(i++, holder.session());
            st.setLong(i++, bytes);
            st.setLong(i++, files);
            st.setLong(i, lease.toMillis());
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private static int bindFits(PreparedStatement st, int i, Limits limits, long bytes, long files) throws SQLException {
        st.setLong(i++, limits.bytes());
        st.setLong(i++, bytes);
        st.setLong(i++, limits.bytes());
        st.setLong(i++, limits.files());
        st.setLong(i++, files);
        st.setLong(i++, limits.files());
        return i;
    }

    /**
     * Holds {@code more} bytes too in reservation {@code id}, within {@code limits}. A reservation whose row is
     * gone (its lease ended and another server dropped it) is held again as a whole: {@code held} bytes (what it
     * held before) plus {@code more}, and its {@code files}, under a new id. Returns the reservation's id (the same
     * or the new one), or 0 when it does not fit (nothing changed).
     */
    public long grow(long id, String account, Limits limits, Holder holder, long held, long files, long more,
                     Duration lease) throws SQLException {
        return locked(account, (c, usage) -> {
            if (fits(usage, limits, more, 0)) {
                // The usual case, the row still there: one statement changes both and says whether it was. Under the
                // usage row's lock no one else can drop it meanwhile (a renewal only delays this by its statement).
                try (PreparedStatement st = c.prepareStatement("WITH r AS (UPDATE ferry_quota_reservations"
                        + " SET bytes = bytes + ?, expires_at = now() + ? * interval '1 millisecond' WHERE id = ?"
                        + " RETURNING id)"
                        + " UPDATE ferry_quota_usage SET bytes_reserved = bytes_reserved + ?"
                        + " WHERE account = ? AND EXISTS (SELECT 1 FROM r) RETURNING account")) {
                    st.setLong(1, more);
                    st.setLong(2, lease.toMillis());
                    st.setLong(3, id);
                    st.setLong(4, more);
                    st.setString(5, account);
                    try (ResultSet rs = st.executeQuery()) {
                        if (rs.next()) {
                            return id;
                        }
                    }
                }
            }
            boolean present = reservationRow(c, id);
            long needBytes = present ? more : held + more;
            long needFiles = present ? 0 : files;
            if (!fits(usage, limits, needBytes, needFiles)) {
                if (expire(c, account) == 0) {
                    return 0L;
                }
                // The expiry may have dropped this very reservation: ask again.
                usage = usage(c, account).orElseThrow();
                present = reservationRow(c, id);
                needBytes = present ? more : held + more;
                needFiles = present ? 0 : files;
                if (!fits(usage, limits, needBytes, needFiles)) {
                    return 0L;
                }
            }
            try (PreparedStatement st = c.prepareStatement("UPDATE ferry_quota_usage SET bytes_reserved ="
                    + " bytes_reserved + ?, files_reserved = files_reserved + ? WHERE account = ?")) {
                st.setLong(1, needBytes);
                st.setLong(2, needFiles);
                st.setString(3, account);
                st.executeUpdate();
            }
            if (present) {
                try (PreparedStatement st = c.prepareStatement("UPDATE ferry_quota_reservations SET bytes = bytes + ?,"
                        + " expires_at = now() + ? * interval '1 millisecond' WHERE id = ?")) {
                    st.setLong(1, more);
                    st.setLong(2, lease.toMillis());
                    st.setLong(3, id);
                    st.executeUpdate();
                }
                return id;
            }
            try (PreparedStatement st = c.prepareStatement("INSERT INTO ferry_quota_reservations (account, node,"
                    + " incarnation, session, bytes, files, expires_at) VALUES (?, ?, ?, ?, ?, ?,"
                    + " now() + ? * interval '1 millisecond') RETURNING id")) {
                st.setString(1, account);
                st.setString(2, holder.node());
                st.setString(3, holder.incarnation());
                st.setString(4, holder.session());
                st.setLong(5, needBytes);
                st.setLong(6, needFiles);
                st.setLong(7, lease.toMillis());
                try (ResultSet rs = st.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    private static boolean fits(Usage u, Limits limits, long bytes, long files) {
        return (limits.bytes() == 0 || u.bytesUsed() + u.bytesReserved() + bytes <= limits.bytes())
                && (limits.files() == 0 || u.filesUsed() + u.filesReserved() + files <= limits.files());
    }

    private static boolean reservationRow(Connection c, long id) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("SELECT 1 FROM ferry_quota_reservations WHERE id = ?")) {
            st.setLong(1, id);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Extends reservation {@code id}'s lease; false when its row is gone (the lease had ended and it was dropped). */
    public boolean renew(long id, Duration lease) throws SQLException {
        // Locks the reservation row alone, for one statement: it waits for nothing else, so it cannot deadlock.
        try (Connection c = database.connection();
             PreparedStatement st = c.prepareStatement("UPDATE ferry_quota_reservations"
                     + " SET expires_at = now() + ? * interval '1 millisecond' WHERE id = ?")) {
            st.setLong(1, lease.toMillis());
            st.setLong(2, id);
            return st.executeUpdate() == 1;
        }
    }

    /**
     * The upload of reservation {@code id} was committed: usage changes by {@code bytes} and {@code files} (never
     * below 0), and the reservation goes. What it held is taken out of the totals only if its row was still there.
     */
    public void settle(long id, String account, long bytes, long files) throws SQLException {
        locked(account, (c, usage) -> {
            try (PreparedStatement st = c.prepareStatement("WITH gone AS (DELETE FROM ferry_quota_reservations"
                    + " WHERE id = ? RETURNING bytes, files)"
                    + " UPDATE ferry_quota_usage SET bytes_used = greatest(0, bytes_used + ?),"
                    + " files_used = greatest(0, files_used + ?),"
                    + " bytes_reserved = bytes_reserved - coalesce((SELECT bytes FROM gone), 0),"
                    + " files_reserved = files_reserved - coalesce((SELECT files FROM gone), 0) WHERE account = ?")) {
                st.setLong(1, id);
                st.setLong(2, bytes);
                st.setLong(3, files);
                st.setString(4, account);
                st.executeUpdate();
            }
            return null;
        });
    }

    /** The upload of reservation {@code id} failed: the reservation goes, usage unchanged. */
    public void release(long id, String account) throws SQLException {
        settle(id, account, 0, 0);
    }

    /** A committed change outside uploads (a delete: negative); never below 0. One statement, the usage row alone. */
    public void adjust(String account, long bytes, long files) throws SQLException {
        try (Connection c = database.connection();
             PreparedStatement st = c.prepareStatement("UPDATE ferry_quota_usage SET bytes_used = greatest(0,"
                     + " bytes_used + ?), files_used = greatest(0, files_used + ?) WHERE account = ?")) {
            st.setLong(1, bytes);
            st.setLong(2, files);
            st.setString(3, account);
            if (st.executeUpdate() != 1) {
                throw new SQLException("quota account " + account + " has no usage row (never opened)");
            }
        }
    }

    /** The account's totals, reservations whose lease has ended left out; empty when it has no row. */
    public Optional<Usage> usage(String account) throws SQLException {
        try (Connection c = database.connection();
             PreparedStatement st = c.prepareStatement("SELECT u.bytes_used, u.files_used,"
                     + " u.bytes_reserved - coalesce(x.bytes, 0), u.files_reserved - coalesce(x.files, 0)"
                     + " FROM ferry_quota_usage u LEFT JOIN LATERAL (SELECT sum(bytes) AS bytes, sum(files) AS files"
                     + " FROM ferry_quota_reservations r WHERE r.account = u.account AND r.expires_at < now()) x ON true"
                     + " WHERE u.account = ?")) {
            st.setString(1, account);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? Optional.of(new Usage(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)))
                        : Optional.empty();
            }
        }
    }

    /** The usage row as it is (expired reservations still counted): under the row lock, inside a transaction. */
    private static Optional<Usage> usage(Connection c, String account) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("SELECT bytes_used, files_used, bytes_reserved, files_reserved"
                + " FROM ferry_quota_usage WHERE account = ?")) {
            st.setString(1, account);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? Optional.of(new Usage(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)))
                        : Optional.empty();
            }
        }
    }

    /**
     * What a recount did: the usage before (null: the account had no row, and was counted for the first time) and
     * after; {@code busy}: uploads were in progress, so nothing was counted or changed.
     */
    public record Recount(Usage before, Usage after, boolean busy) {}

    /**
     * Counts {@code account} again with {@code counter} and replaces its usage, for changes made beside Ferry (a
     * shell, a restore). Refused while a reservation is live: an upload committed but not yet settled would be in
     * the walk and then added again by its settlement. The walk runs under the account's row lock, so uploads,
     * deletes and renames of the account wait for it on every server (bounded by the query timeout). What is left
     * of expired reservations goes with it.
     */
    public Recount recount(String account, Counter counter) throws SQLException, IOException {
        if (!usageRow(account) && open(account, counter)) {
            return new Recount(null, usage(account).orElseThrow(), false);
        }
        IOException[] walkFailed = new IOException[1];
        Recount r = locked(account, (c, before) -> {
            try (PreparedStatement st = c.prepareStatement("SELECT 1 FROM ferry_quota_reservations"
                    + " WHERE account = ? AND expires_at >= now() LIMIT 1")) {
                st.setString(1, account);
                try (ResultSet rs = st.executeQuery()) {
                    if (rs.next()) {
                        return new Recount(before, before, true);
                    }
                }
            }
            Count count;
            try {
                count = counter.count();
            } catch (IOException e) {
                walkFailed[0] = e;
                return null;
            }
            expire(c, account);
            try (PreparedStatement st = c.prepareStatement("UPDATE ferry_quota_usage SET bytes_used = ?, files_used = ?,"
                    + " counted_at = now() WHERE account = ?")) {
                st.setLong(1, Math.max(0, count.bytes()));
                st.setLong(2, Math.max(0, count.files()));
                st.setString(3, account);
                st.executeUpdate();
            }
            return new Recount(before, usage(c, account).orElseThrow(), false);
        });
        if (walkFailed[0] != null) {
            throw walkFailed[0];
        }
        return r;
    }

    /**
     * Drops the reservations {@code node} holds from any start but {@code incarnation} (what a crash left behind, at
     * the node's restart); how many.
     */
    public int releaseAllBut(String node, String incarnation) throws SQLException {
        int dropped = 0;
        for (String account : accounts("node = ? AND incarnation <> ?", node, incarnation)) {
            dropped += locked(account, (c, usage) -> drop(c, account, "node = ? AND incarnation <> ?", node, incarnation));
        }
        return dropped;
    }

    /** Drops every account's reservations whose lease has ended (a periodic sweep); how many. */
    public int expireAll() throws SQLException {
        int dropped = 0;
        for (String account : accounts("expires_at < now()")) {
            dropped += locked(account, (c, usage) -> expire(c, account));
        }
        return dropped;
    }

    /** The reservations held now, for tests and the admin view: account, holder, bytes, files. */
    public record Held(long id, String account, Holder holder, long bytes, long files) {}

    public List<Held> reservations(String account) throws SQLException {
        try (Connection c = database.connection();
             PreparedStatement st = c.prepareStatement("SELECT id, node, incarnation, session, bytes, files"
                     + " FROM ferry_quota_reservations WHERE account = ? ORDER BY id")) {
            st.setString(1, account);
            List<Held> held = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    held.add(new Held(rs.getLong(1), account, new Holder(rs.getString(2), rs.getString(3),
                            rs.getString(4)), rs.getLong(5), rs.getLong(6)));
                }
            }
            return held;
        }
    }

    private List<String> accounts(String where, String... values) throws SQLException {
        try (Connection c = database.connection();
             PreparedStatement st = c.prepareStatement("SELECT DISTINCT account FROM ferry_quota_reservations WHERE "
                     + where + " LIMIT " + SWEEP_ACCOUNTS)) {
            for (int i = 0; i < values.length; i++) {
                st.setString(i + 1, values[i]);
            }
            List<String> accounts = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    accounts.add(rs.getString(1));
                }
            }
            return accounts;
        }
    }

    /** Drops the account's expired reservations; how many. Under the account's row lock. */
    private static int expire(Connection c, String account) throws SQLException {
        return drop(c, account, "expires_at < now()");
    }

    private static int drop(Connection c, String account, String where, String... values) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(DROP.formatted(where))) {
            int i = 1;
            st.setString(i++, account);
            for (String v : values) {
                st.setString(i++, v);
            }
            st.setString(i, account);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        }
    }

    private interface Locked<T> {
        T run(Connection c, Usage usage) throws SQLException;
    }

    /**
     * Runs {@code work} in one transaction that first locks the account's usage row (rule 2 of the design
     * comment); commits what it did, rolls back on an exception.
     */
    private <T> T locked(String account, Locked<T> work) throws SQLException {
        try (Connection c = database.connection()) {
            c.setAutoCommit(false);
            try {
                Usage usage;
                try (PreparedStatement st = c.prepareStatement("SELECT bytes_used, files_used, bytes_reserved,"
                        + " files_reserved FROM ferry_quota_usage WHERE account = ? FOR UPDATE")) {
                    st.setString(1, account);
                    try (ResultSet rs = st.executeQuery()) {
                        if (!rs.next()) {
                            throw new SQLException("quota account " + account + " has no usage row (never opened)");
                        }
                        usage = new Usage(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
                    }
                }
                T result = work.run(c, usage);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is gone: nothing was committed
        }
    }
}
