package dev.ferry.server.policy;

import dev.ferry.protocol.Reply;
import dev.ferry.server.data.TransferRefusedException;
import dev.ferry.server.data.Transfers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * The data connection of an upload under a quota: counts what arrives and grows the upload's
 * {@link QuotaLedger.Reservation} ahead of it, in steps from {@link #FIRST_STEP} doubling to {@link #MAX_STEP},
 * or to 1/{@value #STEPS_PER_QUOTA} of the byte quota if that is less (one ledger round trip per step, however the
 * bytes arrive). A step that does not fit is retried for exactly
 * the bytes received, so a file that fits is never refused for the step's sake; when even that does not fit the
 * read throws {@link TransferRefusedException} with a 552 (RFC 959 §4.2: "exceeded storage allocation"), the
 * bytes just read are never written, and the upload is not committed.
 *
 * <p>What counts is the growth of the account: the file's size after the bytes received so far
 * ({@code start + received}) less the size of the file it replaces, never below 0. Wire bytes are counted, so
 * an ASCII upload (whose CRLFs become LFs) reserves a little more than it stores; the settlement counts what
 * was stored.
 */
public final class QuotaReads implements ReadableByteChannel, Transfers.ArrivalCounting {

    static final long FIRST_STEP = 1L << 20;
    static final long MAX_STEP = 8L << 20;
    /**
     * A step is at most this part of the byte quota: what a running upload holds ahead of its bytes is room no
     * other upload of the account can have, so near the limit a small quota must not be held in 1 MiB lumps.
     */
    static final int STEPS_PER_QUOTA = 64;
    static final long MIN_STEP = 4096;
    /** Renewal of a reservation that has not grown for a third of its lease (a slow upload). */
    private static final long RENEW_NANOS = QuotaLedger.LEASE.toNanos() / 3;

    private final ReadableByteChannel in;
    private final QuotaLedger.Reservation reservation;
    private final Quota quota;
    private final long start;
    private final long replaced;
    private final String path;
    private long received;
    private long held;
    private final long maxStep;
    private long step;
    private long renewedNanos = System.nanoTime();

    /**
     * @param start    the file's size before the first byte received (0, the REST offset, or the size APPE
     *                 appends to)
     * @param replaced the size of the file the upload replaces or writes into (0 for a new file)
     * @param path     the file, for the reply
     */
    public QuotaReads(ReadableByteChannel in, QuotaLedger.Reservation reservation, Quota quota, long start,
                      long replaced, String path) {
        this.in = in;
        this.reservation = reservation;
        this.quota = quota;
        this.start = start;
        this.replaced = replaced;
        this.path = path;
        this.held = reservation.bytes();
        this.maxStep = quota.bytes() == 0 ? MAX_STEP
                : Math.max(MIN_STEP, Math.min(MAX_STEP, quota.bytes() / STEPS_PER_QUOTA));
        this.step = Math.min(FIRST_STEP, maxStep);
    }

    /** What the account grows by once {@code received} bytes are in the file. */
    public static long growth(long start, long received, long replaced) {
        return Math.max(0, start + received - replaced);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int n = in.read(dst);
        if (n > 0) {
            arrived(n);
        }
        return n;
    }

    /**
     * {@code n} more bytes arrived (read here, or spliced past this channel straight into the file): grows the
     * reservation ahead of them, or throws the 552 before they are written.
     */
    @Override
    public void arrived(long n) throws IOException {
        received += n;
        long missing = growth(start, received, replaced) - held;
        if (missing > 0) {
            long ask = Math.max(step, missing);
            if (reservation.grow(quota, ask)) {
                held += ask;
                step = Math.min(step * 2, maxStep);
            } else if (ask > missing && reservation.grow(quota, missing)) {
                held += missing;
            } else {
                throw exceeded(quota, path);
            }
            renewedNanos = System.nanoTime();
        } else if (System.nanoTime() - renewedNanos > RENEW_NANOS) {
            reservation.renew();
            renewedNanos = System.nanoTime();
        }
    }

    /** The 552 of an upload over the byte quota. */
    public static TransferRefusedException exceeded(Quota quota, String path) {
        return new TransferRefusedException(Reply.of(552, "Quota exceeded (" + AccountQuota.describe(quota) + "): " + path
                + " was not stored."), "quota");
    }

    @Override
    public boolean isOpen() {
        return in.isOpen();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
