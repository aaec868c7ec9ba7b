package dev.ferry.balancer.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckResult;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthTest {

    private static Backend backend(String name) {
        return new Backend(new BalancerSettings.BackendSpec(name, new InetSocketAddress("127.0.0.2", 21), 1), 1, 1);
    }

    @Test
    void upWhileOneBackendTakesSessions() {
        Backend down = backend("s1");
        down.recordCheck(new CheckResult(false, "connect refused", Duration.ZERO, Instant.now()));
        Backend drained = backend("s2");
        drained.setAdminState(AdminState.DRAIN);
        Backend weightless = backend("s3");
        weightless.setWeight(0);
        Backend serving = backend("s4");

        Health some = Health.of(List.of(down, drained, weightless, serving));
        assertThat(some.status()).isEqualTo(200);
        assertThat(some.text()).isEqualTo("up: 1 of 4 backends take sessions\n");

        Health none = Health.of(List.of(down, drained, weightless));
        assertThat(none.status()).isEqualTo(503);
        assertThat(none.text()).isEqualTo("down: 0 of 3 backends take sessions\n");
    }

    @Test
    void noBackendsIsDown() {
        assertThat(Health.of(List.of()).status()).isEqualTo(503);
    }
}
