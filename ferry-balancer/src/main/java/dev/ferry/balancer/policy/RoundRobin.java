package dev.ferry.balancer.policy;

import dev.ferry.balancer.backend.Backend;
import java.net.InetAddress;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code balance roundrobin}: smooth weighted round robin, as nginx does it. Each choice adds every
 * candidate's weight to its current score, picks the highest score, and takes the sum of the weights
 * off the winner. Weights 5:1:1 give a b a c a a a rather than a a a a a b c, so a heavy backend's
 * share is spread over time. Only the candidates of this choice take part, so a backend that was down
 * rejoins without a burst of saved-up turns.
 */
public final class RoundRobin implements BalancePolicy {

    /** Current score per backend; guarded by this. Identity: two backends are never "equal". */
    private final Map<Backend, Long> current = new IdentityHashMap<>();

    @Override
    public synchronized Backend choose(List<Backend> backends, InetAddress client, String user, Set<Backend> exclude) {
        Backend best = null;
        long bestScore = Long.MIN_VALUE;
        long total = 0;
        for (Backend b : backends) {
            if (!Candidates.allowed(b, exclude)) {
                continue;
            }
            int weight = b.weight();   // once: the operator may change it meanwhile
            long score = current.getOrDefault(b, 0L) + weight;
            current.put(b, score);
            total += weight;
            if (score > bestScore) {
                best = b;
                bestScore = score;
            }
        }
        if (best == null) {
            return null;
        }
        current.put(best, bestScore - total);
        if (current.size() > 4 * backends.size() + 16) {
            // Backends that left the list (a reload) would otherwise stay here forever.
            Set<Backend> present = Collections.newSetFromMap(new IdentityHashMap<>());
            present.addAll(backends);
            current.keySet().retainAll(present);
        }
        return best;
    }
}
