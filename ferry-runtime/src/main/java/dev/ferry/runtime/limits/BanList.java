package dev.ferry.runtime.limits;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/**
 * Failed logins per client address, and bans for addresses that keep failing or that an operator named.
 * RFC 2577 §5 notes that a per-connection attempt limit is defeated by opening more connections; this is the
 * across-sessions part, and with a shared implementation (the database) the across-nodes part too: a guesser
 * who spreads attempts over servers and balancers is counted once.
 *
 * <p>An IPv6 client is tracked by its /64 prefix: one host usually has a whole /64 to itself and could
 * otherwise change address for every attempt. IPv4 addresses are tracked one by one.
 *
 * <p>{@link #isBanned} is on every connection's path: implementations answer it from memory in O(1) (a shared
 * one keeps a local copy that its store's changes refresh). The other calls may wait on a store.
 */
public interface BanList {

    /** Whether connections and logins from {@code address} are refused right now. */
    boolean isBanned(InetAddress address);

    /** Records a failed login from {@code address}; true if this failure started a ban. */
    boolean recordFailure(InetAddress address);

    /**
     * Forgets the failures of {@code address} after a good login; a running ban stays. Call it for real
     * accounts only: an anonymous login proves nothing, and counting it would let anyone reset their count
     * between guesses.
     */
    void recordSuccess(InetAddress address);

    /** The bans in force now, soonest to end first. */
    List<Ban> bans();

    /**
     * Bans {@code address} (IPv6: its /64) for {@code duration} from now, replacing any ban it has.
     *
     * @throws LimitsUnavailableException a shared list's store cannot be reached: the ban was not made for the fleet
     */
    Ban ban(InetAddress address, Duration duration, String reason, String origin);

    /**
     * Lifts the ban of {@code address} (IPv6: its /64) and forgets its failures; false if it had none.
     *
     * @throws LimitsUnavailableException a shared list's store cannot be reached: the ban still holds elsewhere
     */
    boolean lift(InetAddress address);

    /**
     * Whether the list is shared with other nodes (the database): a server behind a balancer on the same list then
     * leaves the counting of relayed logins to the balancer, so one failure is not counted twice.
     */
    default boolean shared() {
        return false;
    }

    /** Addresses (IPv6: /64 prefixes) banned right now; for status pages and metrics. */
    default int bannedCount() {
        return bans().size();
    }
}
