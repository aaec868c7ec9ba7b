package dev.ferry.server.policy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The quota ledger of one server, for accounts from the users file: exact among this server's sessions, and
 * only those. Two servers sharing a home each count it on their own, so together they can exceed a quota; only
 * the database ledger counts across a cluster (docs/policy.md).
 *
 * <p>An account's usage is counted once, the first time a session of it is {@link #open opened} (by walking its
 * storage, bounded: {@link UsageScan}), then kept here: uploads, deletes and renames through this server change
 * it; changes made beside the server (a shell, another server) are not seen until a restart.
 *
 * <p>Threads: each account has a lock; every operation of an account holds it for a few field updates (the first
 * count holds it for the walk, which is the point: a change waits until the count it would otherwise race is
 * done). Accounts never block one another. A server that dies takes its reservations with it, so the leases
 * matter here only for a reservation something failed to release: it stops counting after
 * {@link QuotaLedger#LEASE}.
 */
public final class MemoryQuotaLedger implements QuotaLedger {

    private final ConcurrentHashMap<String, Account> accounts = new ConcurrentHashMap<>();
    private final LongSupplier nanoClock;
    private final long leaseNanos;

    public MemoryQuotaLedger() {
        this(System::nanoTime, LEASE.toNanos());
    }

    /** For tests: a clock to move and a lease. */
    MemoryQuotaLedger(LongSupplier nanoClock, long leaseNanos) {
        this.nanoClock = nanoClock;
        this.leaseNanos = leaseNanos;
    }

    /** One account's counters; every field under {@code lock}. */
    private static final class Account {
        final ReentrantLock lock = new ReentrantLock();
        boolean counted;
        long bytesUsed;
        long filesUsed;
        long bytesReserved;
        long filesReserved;
        final List<Held> held = new ArrayList<>();
    }

    private Account account(String user) {
        return accounts.computeIfAbsent(user, u -> new Account());
    }

    /** An account that has been opened; a bug otherwise (the count would be skipped for good). */
    private Account opened(String user) {
        Account a = accounts.get(user);
        if (a == null) {
            throw new IllegalStateException("quota account " + user + " used before it was opened");
        }
        return a;
    }

    @Override
    public void open(String user, Counter counter) throws IOException {
        Account a = account(user);
        a.lock.lock();
        try {
            if (!a.counted) {
                Counted c = counter.count();
                a.bytesUsed = c.bytes();
                a.filesUsed = c.files();
                a.counted = true;
            }
        } finally {
            a.lock.unlock();
        }
    }

    @Override
    public Reservation reserve(String user, Quota quota, Owner owner, long bytes, long files) {
        requireNotNegative(bytes, files);
        Account a = opened(user);
        a.lock.lock();
        try {
            if (!fits(a, quota, bytes, files) && (expire(a) == 0 || !fits(a, quota, bytes, files))) {
                return null;
            }
            a.bytesReserved += bytes;
            a.filesReserved += files;
            Held h = new Held(a, owner, bytes, files, nanoClock.getAsLong() + leaseNanos);
            a.held.add(h);
            return h;
        } finally {
            a.lock.unlock();
        }
    }

    private static boolean fits(Account a, Quota quota, long bytes, long files) {
        return (quota.bytes() == 0 || a.bytesUsed + a.bytesReserved + bytes <= quota.bytes())
                && (quota.files() == 0 || a.filesUsed + a.filesReserved + files <= quota.files());
    }

    /** Drops the account's reservations whose lease has ended; how many. Under the account's lock. */
    private int expire(Account a) {
        long now = nanoClock.getAsLong();
        int dropped = 0;
        for (Held h : List.copyOf(a.held)) {
            if (now - h.expiresNanos > 0) {
                h.drop();
                dropped++;
            }
        }
        return dropped;
    }

    @Override
    public void adjust(String user, long bytes, long files) {
        Account a = opened(user);
        a.lock.lock();
        try {
            a.bytesUsed = Math.max(0, a.bytesUsed + bytes);
            a.filesUsed = Math.max(0, a.filesUsed + files);
        } finally {
            a.lock.unlock();
        }
    }

    @Override
    public Usage usage(String user, Quota quota) {
        Account a = opened(user);
        a.lock.lock();
        try {
            return new Usage(a.bytesUsed, a.filesUsed, a.bytesReserved, a.filesReserved, quota);
        } finally {
            a.lock.unlock();
        }
    }

    /** Nothing to do in memory: a server's earlier incarnations' reservations died with it. */
    @Override
    public int releaseAllBut(String node, String incarnation) {
        return 0;
    }

    private static void requireNotNegative(long bytes, long files) {
        if (bytes < 0 || files < 0) {
            throw new IllegalArgumentException("a reservation cannot be negative: " + bytes + " bytes, " + files + " files");
        }
    }

    /** A reservation; its fields under its account's lock. */
    private final class Held implements Reservation {
        private final Account a;
        private final Owner owner;
        private long bytes;
        private final long files;
        private long expiresNanos;
        /** No longer counted in the account's totals (expired, settled or released). */
        private boolean over;
        /** Settled or released: never counted again. */
        private boolean ended;

        Held(Account a, Owner owner, long bytes, long files, long expiresNanos) {
            this.a = a;
            this.owner = owner;
            this.bytes = bytes;
            this.files = files;
            this.expiresNanos = expiresNanos;
        }

        @Override
        public long bytes() {
            a.lock.lock();
            try {
                return bytes;
            } finally {
                a.lock.unlock();
            }
        }

        @Override
        public boolean grow(Quota quota, long more) {
            requireNotNegative(more, 0);
            a.lock.lock();
            try {
                if (ended) {
                    return false;
                }
                // Expired under a live upload (a stall longer than the lease, or a bug): it must be held again
                // as a whole. The expiry a refusal triggers may expire this very reservation, hence the re-check.
                if (!fits(a, quota, over ? bytes + more : more, over ? files : 0)
                        && (expire(a) == 0 || !fits(a, quota, over ? bytes + more : more, over ? files : 0))) {
                    return false;
                }
                if (over) {
                    over = false;
                    a.bytesReserved += bytes;
                    a.filesReserved += files;
                    a.held.add(this);
                }
                bytes += more;
                a.bytesReserved += more;
                expiresNanos = nanoClock.getAsLong() + leaseNanos;
                return true;
            } finally {
                a.lock.unlock();
            }
        }

        @Override
        public void renew() {
            a.lock.lock();
            try {
                expiresNanos = nanoClock.getAsLong() + leaseNanos;
            } finally {
                a.lock.unlock();
            }
        }

        @Override
        public void settle(long usedBytes, long usedFiles) {
            a.lock.lock();
            try {
                ended = true;
                drop();
                a.bytesUsed = Math.max(0, a.bytesUsed + usedBytes);
                a.filesUsed = Math.max(0, a.filesUsed + usedFiles);
            } finally {
                a.lock.unlock();
            }
        }

        @Override
        public void release() {
            a.lock.lock();
            try {
                ended = true;
                drop();
            } finally {
                a.lock.unlock();
            }
        }

        /** Stops counting what this holds (once). Under the account's lock. */
        void drop() {
            if (!over) {
                over = true;
                a.bytesReserved -= bytes;
                a.filesReserved -= files;
                a.held.remove(this);
            }
        }

        @Override
        public String toString() {
            return "reservation of " + bytes + " bytes, " + files + " files by " + owner;
        }
    }
}
