package dev.ferry.balancer.policy;

import dev.ferry.balancer.backend.Backend;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code balance user}: consistent hashing of the user name, so a user keeps its backend while others
 * come and go.
 *
 * <p>The ring holds {@value #POINTS_PER_WEIGHT} points per weight unit of every backend in the list,
 * whatever its state; a user belongs to the first point clockwise from the hash of its name whose
 * backend is a candidate now. A down, drained or excluded backend's points are skipped, so only its
 * users move (each to the next backend on the ring), and they come back when it does. The ring depends
 * only on names and weights, so it is built once per backend list and weights, and reused until the
 * operator changes a weight.
 *
 * <p>Without a user name (a policy asked before USER) the client address is hashed instead.
 */
public final class UserHash implements BalancePolicy {

    static final int POINTS_PER_WEIGHT = 100;

    private record Ring(List<Backend> backends, int[] weights, long[] points, Backend[] owners) {}

    private volatile Ring ring;

    @Override
    public Backend choose(List<Backend> backends, InetAddress client, String user, Set<Backend> exclude) {
        Ring r = ringFor(backends);
        if (r.points.length == 0) {
            return null;
        }
        byte[] key = user != null ? user.getBytes(StandardCharsets.UTF_8)
                : client != null ? client.getAddress() : new byte[0];
        long h = Candidates.hash(key);
        int start = Arrays.binarySearch(r.points, h);
        if (start < 0) {
            start = -start - 1;
        }
        int n = r.points.length;
        for (int i = 0; i < n; i++) {
            Backend b = r.owners[(start + i) % n];
            if (Candidates.allowed(b, exclude)) {
                return b;
            }
        }
        return null;
    }

    private Ring ringFor(List<Backend> backends) {
        Ring r = ring;
        int[] weights = new int[backends.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = backends.get(i).weight();
        }
        if (r != null && sameBackends(r.backends, backends) && Arrays.equals(r.weights, weights)) {
            return r;
        }
        r = build(List.copyOf(backends), weights);
        ring = r;
        return r;
    }

    private static boolean sameBackends(List<Backend> a, List<Backend> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    private static Ring build(List<Backend> backends, int[] weights) {
        int total = 0;
        for (int w : weights) {
            total += w * POINTS_PER_WEIGHT;
        }
        long[] hashes = new long[total];
        Backend[] owners = new Backend[total];
        // Sort (hash, owner) pairs by hash via an index array.
        Integer[] order = new Integer[total];
        int i = 0;
        for (int k = 0; k < weights.length; k++) {
            Backend b = backends.get(k);
            for (int p = 0; p < weights[k] * POINTS_PER_WEIGHT; p++) {
                // Points hang off the name, not the list position, so adding or removing another backend moves none of them.
                hashes[i] = Candidates.hash((b.name() + "#" + p).getBytes(StandardCharsets.UTF_8));
                owners[i] = b;
                order[i] = i;
                i++;
            }
        }
        Arrays.sort(order, (x, y) -> Long.compare(hashes[x], hashes[y]));
        long[] points = new long[total];
        Backend[] sortedOwners = new Backend[total];
        for (int k = 0; k < total; k++) {
            points[k] = hashes[order[k]];
            sortedOwners[k] = owners[order[k]];
        }
        return new Ring(backends, weights, points, sortedOwners);
    }
}
