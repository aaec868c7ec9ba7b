package dev.ferry.server.policy;

import dev.ferry.database.QuotaTable;
import java.io.IOException;
import java.sql.SQLException;
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
            table.open(user, () -> {
                Counted c = counter.count();
                return new QuotaTable.Count(c.bytes(), c.files());
            });
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
            long id = table.reserve(user, limits(quota), holder(owner), bytes, files, lease);
            return id == 0 ? null : new Held(id, user, holder(owner), bytes, files);
        } catch (SQLException e) {
            throw unavailable("reserve for " + user, e);
        }
    }

    @Override
    public void adjust(String user, long bytes, long files) throws IOException {
        try {
            table.adjust(user, bytes, files);
        } catch (SQLException e) {
            throw unavailable("adjust " + user, e);
        }
    }

    @Override
    public Usage usage(String user, Quota quota) throws IOException {
        try {
            QuotaTable.Usage u = table.usage(user)
                    .orElseThrow(() -> new SQLException("quota account " + user + " has no usage row"));
            return new Usage(u.bytesUsed(), u.filesUsed(), u.bytesReserved(), u.filesReserved(), quota);
        } catch (SQLException e) {
            throw unavailable("usage of " + user, e);
        }
    }

    @Override
    public int releaseAllBut(String node, String incarnation) throws IOException {
        try {
            return table.releaseAllBut(node, incarnation);
        } catch (SQLException e) {
            throw unavailable("release what " + node + " held before", e);
        }
    }

    /** Drops every reservation whose lease has ended (also done per account by a refused reservation); how many. */
    public int expireAll() throws IOException {
        try {
            return table.expireAll();
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
                long grown = table.grow(id, user, limits(quota), holder, bytes, files, more, lease);
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
                table.renew(id, lease);
            } catch (SQLException e) {
                throw unavailable("renew a reservation of " + user, e);
            }
        }

        @Override
        public void settle(long usedBytes, long usedFiles) throws IOException {
            ended = true;
            try {
                table.settle(id, user, usedBytes, usedFiles);
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
                table.release(id, user);
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
