package dev.ferry.server.policy;

import dev.ferry.database.QuotaTable;
import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;

/**
 * The quota ledger of a cluster: usage and reservations in the shared PostgreSQL ({@link QuotaTable}), so a quota
 * holds across every server that uses the database, exactly (the table's design comment says why a reservation
 * cannot pass twice). Used when the server has a {@code database:} section, whatever its accounts come from.
 *
 * <p>An account is counted by walking its storage ({@link UsageScan}) only when it has no row yet, once across the
 * cluster; from then on only what goes through a Ferry server changes the row. Changes made beside Ferry (a shell,
 * a restore) are not seen: such an account is recounted by removing its row (docs/policy.md).
 *
 * <p>Every database failure is an {@link IOException}: an upload of a limited account is then answered 451 before
 * its 150, as the interface's callers do; accounts without a quota never reach the ledger.
 */
public final class DatabaseQuotaLedger implements QuotaLedger {

    private final QuotaTable table;
    private final Duration lease;

    public DatabaseQuotaLedger(QuotaTable table) {
        this(table, LEASE);
    }

    /** For tests: a short lease. */
    public DatabaseQuotaLedger(QuotaTable table, Duration lease) {
        this.table = table;
        this.lease = lease;
    }

    /** Attempts of a call whose connections the database had ended (the default pool's size). */
    static final int DEAD_CONNECTION_ATTEMPTS = 4;

    private interface Call<T> {
        T run() throws SQLException, IOException;
    }

    /**
     * Runs {@code call}, and again if its connection turned out to be dead: after a database restart the pool
     * may hand out a connection the server ended, and the upload should not pay for it. {@code repeatable}: the
     * call may run twice without harm (a read, or a reservation, which at worst holds room until its lease ends),
     * so a connection lost mid-call is retried too, once; otherwise only connections ended before the call
     * (57P0x: the statement never ran).
     */
    static <T> T retrying(Call<T> call, boolean repeatable) throws SQLException, IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return call.run();
            } catch (SQLException e) {
                // The pool drops each dead connection it hands out, so a few attempts get past a restart's.
                if (attempt >= DEAD_CONNECTION_ATTEMPTS || !deadConnection(e, repeatable && attempt == 1)) {
                    throw e;
                }
            }
        }
    }

    static boolean deadConnection(SQLException e, boolean repeatable) {
        // No connection within the connect timeout: the database is down, and waiting again would only double the
        // client's wait for its 451.
        if (e instanceof SQLTransientConnectionException) {
            return false;
        }
        String state = e.getSQLState();
        return state != null && (state.startsWith("57P0") || repeatable && state.startsWith("08"));
    }

    private static IOException unavailable(String what, SQLException e) {
        return new IOException("quota database: " + what + ": " + e.getMessage(), e);
    }

    private static QuotaTable.Limits limits(Quota quota) {
        return new QuotaTable.Limits(quota.bytes(), quota.files());
    }

    private static QuotaTable.Holder holder(Owner owner) {
        return new QuotaTable.Holder(owner.node(), owner.incarnation(), owner.session());
    }

    @Override
    public void open(String user, Counter counter) throws IOException {
        try {
            retrying(() -> table.open(user, () -> {
                Counted c = counter.count();
                return new QuotaTable.Count(c.bytes(), c.files());
            }), true);
        } catch (SQLException e) {
            throw unavailable("open " + user, e);
        }
    }

    @Override
    public Reservation reserve(String user, Quota quota, Owner owner, long bytes, long files) throws IOException {
        if (bytes < 0 || files < 0) {
            throw new IllegalArgumentException("a reservation cannot be negative: " + bytes + " bytes, " + files + " files");
        }
        try {
            long id = retrying(() -> table.reserve(user, limits(quota), holder(owner), bytes, files, lease), true);
            return id == 0 ? null : new Held(id, user, holder(owner), bytes, files);
        } catch (SQLException e) {
            throw unavailable("reserve for " + user, e);
        }
    }

    @Override
    public void adjust(String user, long bytes, long files) throws IOException {
        try {
            retrying(() -> {
                table.adjust(user, bytes, files);
                return null;
            }, false);
        } catch (SQLException e) {
            throw unavailable("adjust " + user, e);
        }
    }

    @Override
    public Usage usage(String user, Quota quota) throws IOException {
        try {
            QuotaTable.Usage u = retrying(() -> table.usage(user), true)
                    .orElseThrow(() -> new SQLException("quota account " + user + " has no usage row"));
            return new Usage(u.bytesUsed(), u.filesUsed(), u.bytesReserved(), u.filesReserved(), quota);
        } catch (SQLException e) {
            throw unavailable("usage of " + user, e);
        }
    }

    @Override
    public int releaseAllBut(String node, String incarnation) throws IOException {
        try {
            return retrying(() -> table.releaseAllBut(node, incarnation), true);
        } catch (SQLException e) {
            throw unavailable("release what " + node + " held before", e);
        }
    }

    /** Drops every reservation whose lease has ended (also done per account by a refused reservation); how many. */
    public int expireAll() throws IOException {
        try {
            return retrying(table::expireAll, true);
        } catch (SQLException e) {
            throw unavailable("expire reservations", e);
        }
    }

    /** One upload's reservation row; used by one thread at a time (the interface's contract). */
    private final class Held implements Reservation {
        private final String user;
        private final QuotaTable.Holder holder;
        private final long files;
        private long id;
        private long bytes;
        private boolean ended;

        Held(long id, String user, QuotaTable.Holder holder, long bytes, long files) {
            this.id = id;
            this.user = user;
            this.holder = holder;
            this.bytes = bytes;
            this.files = files;
        }

        @Override
        public long bytes() {
            return bytes;
        }

        @Override
        public boolean grow(Quota quota, long more) throws IOException {
            if (more < 0) {
                throw new IllegalArgumentException("a reservation cannot grow by " + more);
            }
            if (ended) {
                return false;
            }
            try {
                // Repeatable: a step held twice is in the row too, and the settlement takes out what the row holds.
                long grown = retrying(() -> table.grow(id, user, limits(quota), holder, bytes, files, more, lease), true);
                if (grown == 0) {
                    return false;
                }
                // A row dropped under a stalled upload is held again under a new id.
                id = grown;
                bytes += more;
                return true;
            } catch (SQLException e) {
                throw unavailable("grow a reservation of " + user, e);
            }
        }

        @Override
        public void renew() throws IOException {
            if (ended) {
                return;
            }
            try {
                // false: the row is gone (its lease ended); the next grow holds it again as a whole.
                retrying(() -> table.renew(id, lease), true);
            } catch (SQLException e) {
                throw unavailable("renew a reservation of " + user, e);
            }
        }

        @Override
        public void settle(long usedBytes, long usedFiles) throws IOException {
            ended = true;
            try {
                retrying(() -> {
                    table.settle(id, user, usedBytes, usedFiles);
                    return null;
                }, false);
            } catch (SQLException e) {
                throw unavailable("settle an upload of " + user, e);
            }
        }

        @Override
        public void release() throws IOException {
            if (ended) {
                return;
            }
            ended = true;
            try {
                retrying(() -> {
                    table.release(id, user);
                    return null;
                }, true);
            } catch (SQLException e) {
                throw unavailable("release a reservation of " + user, e);
            }
        }

        @Override
        public String toString() {
            return "reservation " + id + " of " + bytes + " bytes, " + files + " files by " + holder;
        }
    }
}
