package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --backend NAME=HOST:PORT[,weight=N][,max-connecting=N][,passive-ports=LOW-HIGH]}. */
class BalancerBackendOptionTest {

    @Test
    void everyOptionIsRead() {
        BackendSpec b = BalancerCommand.backend("b1=127.0.0.2:2121,weight=3,max-connecting=8,passive-ports=40000-40049", List.of());

        assertThat(b).isEqualTo(new BackendSpec("b1", new InetSocketAddress("127.0.0.2", 2121), 3, 8, 40000, 40049));
    }

    @Test
    void withoutPassivePortsTheBackendHasNoRange() {
        BackendSpec b = BalancerCommand.backend("b1=127.0.0.2:2121", List.of());

        assertThat(b.hasPassiveRange()).isFalse();
        assertThat(b.weight()).isEqualTo(1);
    }

    @Test
    void aSinglePortIsARangeOfOne() {
        BackendSpec b = BalancerCommand.backend("b1=127.0.0.2:2121,passive-ports=40000", List.of());

        assertThat(b.passiveLow()).isEqualTo(40000);
        assertThat(b.passiveHigh()).isEqualTo(40000);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "b1=127.0.0.2:2121,passive-ports=40049-40000 | --backend b1: passive-ports expected a port range LOW-HIGH such as 40000-40100 (or 0 for any free port), got '40049-40000' (LOW is above HIGH)",
            "b1=127.0.0.2:2121,passive-ports=40000-70000 | --backend b1: passive-ports expected a port range LOW-HIGH such as 40000-40100 (or 0 for any free port), got '40000-70000' (ports go up to 65535)",
            "b1=127.0.0.2:2121,passive-ports=            | --backend b1: passive-ports expected a port range LOW-HIGH such as 40000-40100 (or 0 for any free port), got ''",
            "b1=127.0.0.2:2121,passive-ports=0           | --backend b1: passive-ports expected the backend's own passive port range LOW-HIGH such as 40000-40049, got '0' (0, any port, cannot be mapped to a backend)",
            "b1=127.0.0.2:2121,passive=40000-40049       | --backend b1: unknown option 'passive=40000-40049' (expected weight=N, max-connecting=N or passive-ports=LOW-HIGH)",
    })
    void aBadRangeIsRefusedWithTheBackendsName(String option, String message) {
        assertThatThrownBy(() -> BalancerCommand.backend(option.strip(), List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message.strip());
    }
}
