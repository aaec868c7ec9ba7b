package dev.ferry.server.policy;

import dev.ferry.server.fs.Storage;
import java.io.IOException;

/**
 * One session's handle on its account's quota in the {@link QuotaLedger}: the account's name, limits and
 * storage, and whether this session has opened the account yet. Only accounts with a quota get one
 * ({@link #of} returns null otherwise), so an account without a quota never reaches the ledger. Used on the
 * session's control thread; the {@link QuotaLedger.Reservation}s it makes go to the transfer's thread.
 */
public final class AccountQuota {

    private final QuotaLedger ledger;
    private final QuotaLedger.Owner owner;
    private final String user;
    private final Quota quota;
    private final Storage storage;
    private boolean opened;

    private AccountQuota(QuotaLedger ledger, QuotaLedger.Owner owner, String user, Quota quota, Storage storage) {
        this.ledger = ledger;
        this.owner = owner;
        this.user = user;
        this.quota = quota;
        this.storage = storage;
    }

    /** The handle of an account with a quota; null for one without (no ledger calls at all). */
    public static AccountQuota of(QuotaLedger ledger, QuotaLedger.Owner owner, String user, Quota quota,
                                  Storage storage) {
        return quota.limited() ? new AccountQuota(ledger, owner, user, quota, storage) : null;
    }

    public Quota quota() {
        return quota;
    }

    /**
     * Makes sure the ledger has counted the account: before a change the session makes outside the ledger (a
     * delete), so that a first count cannot include the change and the adjustment count it again.
     */
    public void open() throws IOException {
        if (!opened) {
            ledger.open(user, () -> UsageScan.count(storage));
            opened = true;
        }
    }

    /** Room for an upload about to start; null when it does not fit. */
    public QuotaLedger.Reservation reserve(long bytes, long files) throws IOException {
        open();
        return ledger.reserve(user, quota, owner, bytes, files);
    }

    /** A change made (the account was {@link #open opened} before it). */
    public void adjust(long bytes, long files) throws IOException {
        open();
        ledger.adjust(user, bytes, files);
    }

    public QuotaLedger.Usage usage() throws IOException {
        open();
        return ledger.usage(user, quota);
    }

    /** The limits, for a 552: "5242880 bytes", "100 files", "5242880 bytes, 100 files". */
    public String limitText() {
        return describe(quota);
    }

    static String describe(Quota quota) {
        String bytes = quota.bytes() > 0 ? quota.bytes() + " bytes" : null;
        String files = quota.files() > 0 ? quota.files() + " files" : null;
        return bytes == null ? files : files == null ? bytes : bytes + ", " + files;
    }
}
