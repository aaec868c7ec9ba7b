package dev.ferry.balancer.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.backend.Backend;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SourceHashTest {

    @Test
    void sameAddressSameBackend() {
        List<Backend> backends = Backends.withWeights(1, 2, 1);
        SourceHash first = new SourceHash();
        SourceHash second = new SourceHash();   // no hidden state: another instance agrees
        for (int i = 0; i < 500; i++) {
            Backend b = first.choose(backends, Backends.address(i), null, Set.of());
            assertThat(first.choose(backends, Backends.address(i), "someone-else", Set.of())).isSameAs(b);
            assertThat(second.choose(backends, Backends.address(i), null, Set.of())).isSameAs(b);
        }
    }
}
