package dev.ferry.balancer.policy;

import dev.ferry.balancer.backend.Backend;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code balance leastconn}: the backend with the fewest active sessions (counting connections being opened) per weight unit. As in HAProxy
 * it compares (active + 1) / weight, the load the backend would have after taking this session, so an
 * idle pool still fills in weight proportion. Ties rotate, so equal backends share a burst of new
 * sessions instead of the first one in the list taking them all. Compared by cross-multiplying, no division.
 */
public final class LeastConnections implements BalancePolicy {

    private final AtomicInteger rotation = new AtomicInteger();

    @Override
    public Backend choose(List<Backend> backends, InetAddress client, String user, Set<Backend> exclude) {
        List<Backend> best = new ArrayList<>();
        long bestLoad = 0;
        int bestWeight = 1;
        for (Backend b : backends) {
            if (!Candidates.allowed(b, exclude)) {
                continue;
            }
            long load = b.load() + 1L;
            int weight = b.weight();
            if (best.isEmpty()) {
                best.add(b);
                bestLoad = load;
                bestWeight = weight;
                continue;
            }
            int cmp = Long.compare(load * bestWeight, bestLoad * weight);
            if (cmp < 0) {
                best.clear();
                best.add(b);
                bestLoad = load;
                bestWeight = weight;
            } else if (cmp == 0) {
                best.add(b);
            }
        }
        if (best.isEmpty()) {
            return null;
        }
        return best.get(Math.floorMod(rotation.getAndIncrement(), best.size()));
    }
}
