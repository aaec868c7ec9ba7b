package dev.ferry.balancer.policy;

import dev.ferry.balancer.backend.Backend;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;

/**
 * {@code balance source}: a hash of the client address, mapped over the candidates by weight (HAProxy's
 * map-based hashing). The same address reaches the same backend as long as the set of eligible
 * backends is unchanged; when it changes, many addresses move (use {@code user} for stickiness that
 * survives changes). Without a client address (should not happen) every session hashes alike.
 */
public final class SourceHash implements BalancePolicy {

    @Override
    public Backend choose(List<Backend> backends, InetAddress client, String user, Set<Backend> exclude) {
        List<Backend> candidates = Candidates.of(backends, exclude);
        if (candidates.isEmpty()) {
            return null;
        }
        // Weights are read once: the operator may change one between the two loops.
        int[] weights = new int[candidates.size()];
        long totalWeight = 0;
        for (int i = 0; i < weights.length; i++) {
            weights[i] = candidates.get(i).weight();
            totalWeight += weights[i];
        }
        if (totalWeight == 0) {
            return null;
        }
        long hash = Candidates.hash(client == null ? new byte[0] : client.getAddress());
        long slot = Long.remainderUnsigned(hash, totalWeight);
        for (int i = 0; i < weights.length; i++) {
            slot -= weights[i];
            if (slot < 0) {
                return candidates.get(i);
            }
        }
        throw new AssertionError("slot beyond the total weight");
    }
}
