package dev.ferry.balancer.policy;

import dev.ferry.balancer.backend.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The backends a policy may choose from, and the hash every hashing policy shares. */
final class Candidates {

    private Candidates() {}

    static boolean allowed(Backend b, Set<Backend> exclude) {
        return b.eligible() && (exclude == null || !exclude.contains(b));
    }

    static List<Backend> of(List<Backend> backends, Set<Backend> exclude) {
        List<Backend> out = new ArrayList<>(backends.size());
        for (Backend b : backends) {
            if (allowed(b, exclude)) {
                out.add(b);
            }
        }
        return out;
    }

    /**
     * 64-bit FNV-1a followed by the MurmurHash3 finalizer: FNV alone leaves similar keys (user1, user2,
     * 10.0.0.1, 10.0.0.2) with similar high bits, which would cluster them on the ring.
     */
    static long hash(byte[] data) {
        long h = 0xcbf29ce484222325L;
        for (byte b : data) {
            h ^= (b & 0xFF);
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
