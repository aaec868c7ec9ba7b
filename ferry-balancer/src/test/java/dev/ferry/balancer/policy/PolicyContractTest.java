package dev.ferry.balancer.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.ferry.balancer.BalancerSettings.Balance;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What every balancing algorithm must do, whatever its choice rule. */
class PolicyContractTest {

    @ParameterizedTest
    @EnumSource(Balance.class)
    void factoryGivesTheNamedAlgorithm(Balance balance) {
        Class<?> expected = switch (balance) {
            case LEASTCONN -> LeastConnections.class;
            case ROUNDROBIN -> RoundRobin.class;
            case SOURCE -> SourceHash.class;
            case USER -> UserHash.class;
        };
        assertThat(BalancePolicy.of(balance)).isInstanceOf(expected);
    }

    @ParameterizedTest
    @EnumSource(Balance.class)
    void neverChoosesAnExcludedBackend(Balance balance) {
        BalancePolicy policy = BalancePolicy.of(balance);
        List<Backend> backends = Backends.withWeights(1, 1, 1);
        Set<Backend> exclude = Set.of(backends.get(0), backends.get(2));
        for (int i = 0; i < 300; i++) {
            assertThat(policy.choose(backends, Backends.address(i), "user" + i, exclude)).isSameAs(backends.get(1));
        }
    }

    @ParameterizedTest
    @EnumSource(Balance.class)
    void skipsDownDrainedMaintainedAndWeightZeroBackends(Balance balance) {
        BalancePolicy policy = BalancePolicy.of(balance);
        List<Backend> backends = Backends.withWeights(1, 1, 1, 0, 1);
        Backends.markDown(backends.get(0));
        backends.get(1).setAdminState(AdminState.DRAIN);
        backends.get(2).setAdminState(AdminState.MAINT);
        for (int i = 0; i < 300; i++) {
            assertThat(policy.choose(backends, Backends.address(i), "user" + i, Set.of())).isSameAs(backends.get(4));
        }
    }

    @ParameterizedTest
    @EnumSource(Balance.class)
    void nullWhenNoBackendIsLeft(Balance balance) {
        BalancePolicy policy = BalancePolicy.of(balance);
        List<Backend> backends = Backends.withWeights(1, 1, 0);
        Backends.markDown(backends.get(0));
        assertThat(policy.choose(backends, Backends.address(1), "u", Set.of(backends.get(1)))).isNull();
        assertThat(policy.choose(List.of(), Backends.address(1), "u", Set.of())).isNull();
    }

    /**
     * 2:1 weights over 3000 choices give about 2000:1000. LEASTCONN is fed sessions that never end,
     * so its choice follows (active + 1) / weight.
     */
    @ParameterizedTest
    @EnumSource(Balance.class)
    void followsWeights(Balance balance) {
        BalancePolicy policy = BalancePolicy.of(balance);
        List<Backend> backends = Backends.withWeights(2, 1);
        int n = 3000;
        int heavy = 0;
        for (int i = 0; i < n; i++) {
            Backend b = policy.choose(backends, Backends.address(i), "user" + i, Set.of());
            b.sessionStarted();
            if (b == backends.get(0)) {
                heavy++;
            }
        }
        assertThat(heavy / (double) n).isCloseTo(2 / 3.0, within(0.05 * 2 / 3.0));
    }

    /** An operator's weight change (admin API) applies from the next choice, whichever way it goes. */
    @ParameterizedTest
    @EnumSource(Balance.class)
    void followsAWeightChangedAtRunTime(Balance balance) {
        BalancePolicy policy = BalancePolicy.of(balance);
        List<Backend> backends = Backends.withWeights(1, 1);
        Backends.distribution(policy, backends, 100);   // caches (the user ring) built for weights 1:1
        backends.get(0).setWeight(0);
        assertThat(Backends.distribution(policy, backends, 300)).as("weight 0 takes none").containsOnlyKeys("b2");
        backends.get(0).setWeight(3);
        int n = 3000;
        int heavy = 0;
        for (int i = 0; i < n; i++) {
            Backend b = policy.choose(backends, Backends.address(i), "user" + i, Set.of());
            b.sessionStarted();
            if (b == backends.get(0)) {
                heavy++;
            }
        }
        assertThat(heavy / (double) n).isCloseTo(3 / 4.0, within(0.06 * 3 / 4.0));
    }

    @ParameterizedTest
    @EnumSource(Balance.class)
    void equalWeightsShareEvenly(Balance balance) {
        Map<String, Integer> counts = Backends.distribution(BalancePolicy.of(balance), Backends.withWeights(1, 1, 1), 3000);
        assertThat(counts).hasSize(3);
        // Rotations are exact; the source hash is statistically even; a consistent-hash ring of 100
        // points per backend leaves shares some 10-20% apart, the price of users staying put.
        int slack = switch (balance) {
            case LEASTCONN, ROUNDROBIN -> 0;
            case SOURCE -> 150;
            case USER -> 250;
        };
        counts.values().forEach(c -> assertThat(c).isBetween(1000 - slack, 1000 + slack));
    }
}
