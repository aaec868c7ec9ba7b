package dev.ferry.runtime.limits;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sessions per user in one process. The check and the count are one atomic step per user
 * ({@link ConcurrentHashMap#compute}), so concurrent logins can never pass the limit together. A user's entry
 * goes when its last lease closes: the map holds no more entries than there are sessions.
 */
public final class LocalSessionLimits implements SessionLimits {

    private final String node;
    private final ConcurrentHashMap<String, Integer> counts = new ConcurrentHashMap<>();

    public LocalSessionLimits(String node) {
        this.node = node;
    }

    @Override
    public Lease acquire(String user, int max, String sessionId) {
        boolean[] granted = {false};
        counts.compute(user, (k, n) -> {
            int now = n == null ? 0 : n;
            if (max > 0 && now >= max) {
                return n;
            }
            granted[0] = true;
            return now + 1;
        });
        return granted[0] ? new LocalLease(user, sessionId) : null;
    }

    @Override
    public Map<String, Integer> counts() {
        return new TreeMap<>(counts);
    }

    private final class LocalLease implements Lease {
        private final String user;
        private final String sessionId;
        /** Guarded by this lease: a plain field, not an AtomicBoolean of its own (16 bytes per session). */
        private boolean closed;

        LocalLease(String user, String sessionId) {
            this.user = user;
            this.sessionId = sessionId;
        }

        @Override public String user() { return user; }
        @Override public String node() { return node; }
        @Override public String sessionId() { return sessionId; }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            counts.computeIfPresent(user, (k, n) -> n <= 1 ? null : n - 1);
        }
    }
}
