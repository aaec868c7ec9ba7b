package dev.ferry.balancer.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.backend.Backend;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LeastConnectionsTest {

    private final LeastConnections policy = new LeastConnections();

    @Test
    void picksTheBackendWithFewestActiveSessions() {
        List<Backend> backends = Backends.withWeights(1, 1, 1);
        start(backends.get(0), 3);
        start(backends.get(1), 1);
        start(backends.get(2), 2);
        assertThat(policy.choose(backends, null, null, Set.of())).isSameAs(backends.get(1));
    }

    @Test
    void endedSessionsCountNoMore() {
        List<Backend> backends = Backends.withWeights(1, 1);
        start(backends.get(0), 2);
        start(backends.get(1), 3);
        backends.get(1).sessionEnded();
        backends.get(1).sessionEnded();
        assertThat(policy.choose(backends, null, null, Set.of())).isSameAs(backends.get(1));
    }

    @Test
    void weighsActiveSessionsByWeight() {
        List<Backend> backends = Backends.withWeights(4, 1);
        start(backends.get(0), 6);   // (6+1)/4 = 1.75
        start(backends.get(1), 1);   // (1+1)/1 = 2
        assertThat(policy.choose(backends, null, null, Set.of())).isSameAs(backends.get(0));
    }

    @Test
    void tiesRotate() {
        List<Backend> backends = Backends.withWeights(1, 1, 1);
        Set<Backend> seen = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            seen.add(policy.choose(backends, null, null, Set.of()));   // no session started: always a three-way tie
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(backends);
    }

    private static void start(Backend b, int n) {
        for (int i = 0; i < n; i++) {
            b.sessionStarted();
        }
    }
}
