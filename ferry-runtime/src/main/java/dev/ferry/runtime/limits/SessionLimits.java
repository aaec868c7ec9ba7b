package dev.ferry.runtime.limits;

import java.util.Map;

/**
 * Sessions per user, and the per-user maximum (an account's {@code max-sessions}). A session takes a lease at
 * login and closes it when it logs out, reinitialises or ends. With a shared implementation (the database) the
 * count spans every server: a user with a limit of 2 gets 2 in the cluster, not 2 per node. A lease names its
 * node and session so that a shared store can expire the leases of a node that crashed.
 */
public interface SessionLimits {

    /**
     * A lease for one more session of {@code user}, or null when the user already has {@code max} (0: no
     * limit; a lease is still taken, so that the session is counted).
     *
     * @throws LimitsUnavailableException a shared count cannot be asked and {@code max} is not 0: the limit cannot
     *                                    be checked (never thrown for {@code max} 0)
     */
    Lease acquire(String user, int max, String sessionId);

    /** Sessions per user now, by name; users without sessions are absent. For status pages. */
    Map<String, Integer> counts();

    /** One session's place in its user's count. */
    interface Lease extends AutoCloseable {
        String user();

        /** The node the session runs on. */
        String node();

        String sessionId();

        /** Gives the place back; a second close does nothing. */
        @Override
        void close();
    }
}
