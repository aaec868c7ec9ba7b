package dev.ferry.balancer.policy;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;

/**
 * Chooses a backend for a new session among the eligible ones (up, READY, weight &gt; 0), never one in
 * {@code exclude} (already tried for this session). Returns null if none is left. One class per
 * algorithm, as in HAProxy; each instance is thread-safe and meant to be shared by all sessions.
 */
public interface BalancePolicy {

    Backend choose(List<Backend> backends, InetAddress client, String user, Set<Backend> exclude);

    /** A fresh policy for a balance setting (policies with rotation state must not be shared across frontends). */
    static BalancePolicy of(BalancerSettings.Balance b) {
        return switch (b) {
            case LEASTCONN -> new LeastConnections();
            case ROUNDROBIN -> new RoundRobin();
            case SOURCE -> new SourceHash();
            case USER -> new UserHash();
        };
    }
}
