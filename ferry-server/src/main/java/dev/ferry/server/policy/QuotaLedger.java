package dev.ferry.server.policy;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * Where each account's stored bytes and files are counted, and where uploads reserve room before they write.
 * Every change is one atomic step against the limits passed with it, so two uploads racing for the last free
 * bytes cannot both pass, on one server ({@link MemoryQuotaLedger}) or, with a shared database, across all.
 *
 * <p>Design: an upload {@link #reserve reserves} room before its 150 (one file if it makes a new one, and its
 * first bytes), {@link Reservation#grow grows} the reservation in steps of 1 to 8 MiB while bytes arrive (one
 * round trip per step, so an upload of unknown size is checked as it grows), and either
 * {@link Reservation#settle settles} on commit (usage changes by what the file system really changed; the
 * reservation goes) or is {@link Reservation#release released} when it fails. A delete or a rename over a file
 * {@link #adjust adjusts} the usage. The limits come with each call (an account's quota is part of its policy,
 * from wherever accounts live); 0 is no limit.
 *
 * <p>The SQL shape this is designed for ({@link DatabaseQuotaLedger}, over {@code dev.ferry.database.QuotaTable},
 * whose design comment says why it is exact): a row per account {@code ferry_quota_usage(account, bytes_used,
 * files_used, bytes_reserved, files_reserved)} and a row per reservation {@code ferry_quota_reservations(id,
 * account, node, incarnation, session, bytes, files, expires_at)}. {@link #reserve} and
 * {@link Reservation#grow} are each one statement in one transaction,
 * <pre>
 * UPDATE quota_usage SET bytes_reserved = bytes_reserved + ?b, files_reserved = files_reserved + ?f
 *  WHERE user = ?u AND (?bytesLimit = 0 OR bytes_used + bytes_reserved + ?b &lt;= ?bytesLimit)
 *                  AND (?filesLimit = 0 OR files_used + files_reserved + ?f &lt;= ?filesLimit)
 *  RETURNING bytes_used, files_used, bytes_reserved, files_reserved
 * </pre>
 * plus the insert (or {@code bytes = bytes + ?b, expires_at = now() + lease} update) of the reservation row; no
 * row updated is a refusal. Settle deletes the reservation row and, in the same transaction, moves what it held
 * out of {@code *_reserved} and adds the real change to {@code *_used} (both from the deleted row's
 * {@code RETURNING}, so a reservation already expired is not subtracted twice; the usage change is applied in
 * any case, since the file was committed). Release is the same without the usage change.
 *
 * <p>Crashes: a reservation carries its {@link Owner} (node, the node's incarnation, the session) and a lease
 * ({@link #LEASE}), renewed by every step and by {@link Reservation#renew()} during a slow upload. A server that
 * dies leaves its reservations behind; they stop counting when their lease ends: a refused reserve or grow first
 * releases the account's expired reservations and tries once more (the database does it in the same
 * transaction: {@code DELETE FROM quota_reservations WHERE user = ? AND expires_at < now() RETURNING bytes,
 * files}, subtracted from the row). A restarted node also drops at once what its earlier incarnations held
 * ({@link #releaseAllBut}). Usage itself is never leased: only committed changes touch it.
 */
public interface QuotaLedger extends AutoCloseable {

    /**
     * How long a reservation counts without a step or a renewal. Longer than any data timeout (a blocked read
     * renews nothing), short enough that a dead server's reservations do not block an account for long.
     */
    Duration LEASE = Duration.ofMinutes(15);

    /**
     * Who holds a reservation: the server's node name, which start of it (a node that restarts drops its
     * earlier incarnations' reservations) and the session.
     */
    record Owner(String node, String incarnation, String session) {
        public Owner {
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(incarnation, "incarnation");
            Objects.requireNonNull(session, "session");
        }
    }

    /** What an account stores and what running uploads have reserved, with its limits (0: none). */
    record Usage(long bytesUsed, long filesUsed, long bytesReserved, long filesReserved, Quota quota) {}

    /** Bytes and files an account's storage holds, counted by walking it. */
    record Counted(long bytes, long files) {}

    /**
     * Counts an account's usage when the ledger first meets it (the in-memory ledger always, the database for
     * an account it has no row for); may throw when the account is too big to count (see {@link UsageScan}).
     */
    @FunctionalInterface
    interface Counter {
        Counted count() throws IOException;
    }

    /**
     * Makes sure the ledger knows {@code user}'s usage (counting it with {@code counter} the first time): called
     * once per session before the first change, so a change made before the count is never counted twice.
     */
    void open(String user, Counter counter) throws IOException;

    /**
     * Reserves {@code bytes} and {@code files} for an upload of {@code user} within {@code quota}; null when
     * they do not fit. The account must be {@link #open open}.
     */
    Reservation reserve(String user, Quota quota, Owner owner, long bytes, long files) throws IOException;

    /** A committed change outside uploads: a delete ({@code -size, -1}), a rename over a file. */
    void adjust(String user, long bytes, long files) throws IOException;

    /** The account's usage now (the account must be {@link #open open}). */
    Usage usage(String user, Quota quota) throws IOException;

    /**
     * Releases the reservations {@code node} holds from any incarnation but {@code incarnation}: what a server
     * that crashed left behind, at its restart. Returns how many.
     */
    int releaseAllBut(String node, String incarnation) throws IOException;

    @Override
    default void close() {}

    /** Room held for one running upload. Used by the upload's threads one at a time. */
    interface Reservation {
        /** Bytes held now. */
        long bytes();

        /** Holds {@code more} bytes too, within {@code quota}; false (nothing changed) when they do not fit. */
        boolean grow(Quota quota, long more) throws IOException;

        /** Extends the lease of a reservation that has not grown for a while (a slow upload). */
        void renew() throws IOException;

        /**
         * The upload was committed: usage changes by {@code bytes} (the new size less the replaced file's) and
         * {@code files} (1 for a new file), and the reservation is gone. Called at most once, not after release.
         */
        void settle(long bytes, long files) throws IOException;

        /** The upload failed: the reservation is gone, usage unchanged. Harmless after settle or twice. */
        void release() throws IOException;
    }
}
