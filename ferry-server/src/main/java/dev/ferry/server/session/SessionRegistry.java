package dev.ferry.server.session;

import dev.ferry.runtime.net.AddressCounts;
import java.net.InetAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Live sessions and the session limits. A session is admitted (counted) before it greets the
 * client; admission fails with a reason the session turns into a 421 reply.
 */
public final class SessionRegistry {

    /** Why a connection was not admitted. */
    public enum Refusal { TOO_MANY_SESSIONS, TOO_MANY_FROM_ADDRESS }

    private final int maxSessions;
    private final int maxPerAddress;
    private final AtomicInteger total = new AtomicInteger();
    private final AddressCounts perAddress = new AddressCounts();
    private final Set<Session> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong ids = new AtomicLong();

    public SessionRegistry(int maxSessions, int maxPerAddress) {
        this.maxSessions = maxSessions;
        this.maxPerAddress = maxPerAddress;
    }

    /**
     * A new session id, {@code c} and a base-36 counter (the balancer's are {@code b...}, so that a line's id says
     * which daemon wrote it); one is also spent on a connection refused before it became a session.
     */
    public String nextId() {
        return "c" + Long.toString(ids.incrementAndGet(), 36);
    }

    /** Counts the session in, or says why not (and counts nothing); a null address has no per-address limit. */
    Refusal admit(Session session, InetAddress address) {
        if (total.incrementAndGet() > maxSessions) {
            total.decrementAndGet();
            return Refusal.TOO_MANY_SESSIONS;
        }
        if (address == null) {
            live.add(session);
            return null;
        }
        if (!perAddress.tryAdd(address, maxPerAddress)) {
            total.decrementAndGet();
            return Refusal.TOO_MANY_FROM_ADDRESS;
        }
        live.add(session);
        return null;
    }

    void leave(Session session, InetAddress address) {
        if (live.remove(session)) {
            release(address);
        }
    }

    private void release(InetAddress address) {
        total.decrementAndGet();
        if (address == null) {
            return;
        }
        perAddress.remove(address);
    }

    public int count() {
        return live.size();
    }

    public Set<Session> sessions() {
        return Set.copyOf(live);
    }
}
