package dev.ferry.balancer.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.backend.Backend;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoundRobinTest {

    @Test
    void smoothWeightedOrderSpreadsTheHeavyBackend() {
        RoundRobin policy = new RoundRobin();
        List<Backend> backends = Backends.withWeights(5, 1, 1);
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 7; i++) {
            order.append(policy.choose(backends, null, null, Set.of()).name()).append(' ');
        }
        // nginx's example sequence for weights 5:1:1.
        assertThat(order.toString().strip()).isEqualTo("b1 b1 b2 b1 b3 b1 b1");
    }

    @Test
    void equalWeightsTakeTurns() {
        RoundRobin policy = new RoundRobin();
        List<Backend> backends = Backends.withWeights(1, 1, 1);
        for (int round = 0; round < 3; round++) {
            assertThat(policy.choose(backends, null, null, Set.of())).isSameAs(backends.get(0));
            assertThat(policy.choose(backends, null, null, Set.of())).isSameAs(backends.get(1));
            assertThat(policy.choose(backends, null, null, Set.of())).isSameAs(backends.get(2));
        }
    }
}
