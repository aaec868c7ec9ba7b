package dev.ferry.server.policy;

import java.util.Objects;

/**
 * What one account may use and where: its quota, its bandwidth, how many sessions it may hold at once across the
 * cluster, and its per-folder rights. Comes with the account from wherever accounts live (the users file, the
 * database, LDAP, an auth hook) and is fixed for a session's life (a change applies at the next login).
 *
 * @param maxSessions sessions the account may hold at once, counted across every server (0: no limit)
 */
public record AccountPolicy(Quota quota, Bandwidth bandwidth, int maxSessions, FolderRights rights) {

    /** No quota, no bandwidth limit, no session limit, no per-folder rights: the account's access everywhere. */
    public static final AccountPolicy NONE = new AccountPolicy(Quota.NONE, Bandwidth.UNLIMITED, 0, FolderRights.NONE);

    public AccountPolicy {
        Objects.requireNonNull(quota, "quota");
        Objects.requireNonNull(bandwidth, "bandwidth");
        Objects.requireNonNull(rights, "rights");
        if (maxSessions < 0) {
            throw new IllegalArgumentException("maxSessions " + maxSessions + " is negative");
        }
    }

    public AccountPolicy withQuota(Quota q) { return new AccountPolicy(q, bandwidth, maxSessions, rights); }
    public AccountPolicy withBandwidth(Bandwidth b) { return new AccountPolicy(quota, b, maxSessions, rights); }
    public AccountPolicy withMaxSessions(int n) { return new AccountPolicy(quota, bandwidth, n, rights); }
    public AccountPolicy withRights(FolderRights r) { return new AccountPolicy(quota, bandwidth, maxSessions, r); }
}
