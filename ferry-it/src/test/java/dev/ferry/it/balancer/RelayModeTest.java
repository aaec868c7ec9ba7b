package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.data.Relay;
import org.junit.jupiter.api.Test;

/**
 * The integration tests run the balancer with ferry-runtime's multi-release jar and the JVM flags the ferry jar's
 * manifest gives (surefire's argLine): on Java 22+ under Linux every relayed transfer in this module
 * is spliced in the kernel, on Java 21 copied. This says which path the other tests proved.
 */
class RelayModeTest {

    @Test
    void relaysSpliceOnJava22AndLaterElseCopy() {
        boolean linux = System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux");
        String expected = linux && Runtime.version().feature() >= 22 ? "splice" : "copy";
        assertThat(Relay.mode()).isEqualTo(expected);
    }
}
