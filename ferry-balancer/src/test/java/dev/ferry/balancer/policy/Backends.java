package dev.ferry.balancer.policy;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Test fixtures: backends by weight, marking one down, and counting choices. */
final class Backends {

    private Backends() {}

    static List<Backend> withWeights(int... weights) {
        List<Backend> out = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            out.add(new Backend(new BalancerSettings.BackendSpec("b" + (i + 1),
                    new InetSocketAddress("127.0.0.1", 2121 + i), weights[i]), 1, 1));
        }
        return out;
    }

    static void markDown(Backend b) {
        b.recordCheck(new CheckResult(false, "connect refused", Duration.ZERO, Instant.now()));
    }

    static InetAddress address(int i) {
        try {
            return InetAddress.getByAddress(new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Counts by backend name over {@code n} choices; choice i uses client address i and user "user" + i. */
    static Map<String, Integer> distribution(BalancePolicy policy, List<Backend> backends, int n) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Backend b = policy.choose(backends, address(i), "user" + i, java.util.Set.of());
            counts.merge(b.name(), 1, Integer::sum);
        }
        return counts;
    }
}
