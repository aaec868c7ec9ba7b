package dev.ferry.balancer.passthrough;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.balancer.BalancerSettings.BackendSpec;
import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What stops a passthrough balancer from starting, said before it serves anyone. */
class PassthroughStartTest {

    private static BalancerSettings passthrough(int low, int high) {
        return BalancerSettings.defaults().withListen(new InetSocketAddress("127.0.0.1", 0))
                .withBackends(List.of(new BackendSpec("b1", new InetSocketAddress("127.0.0.2", 2121), 1).withPassivePorts(low, high)))
                .withTls(BalancerSettings.Tls.OFF.withMode(BalancerSettings.TlsMode.PASSTHROUGH));
    }

    @Test
    void aDataPortTakenByAnotherProcessStopsTheStartNamingPortAndBackend() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();

            assertThatThrownBy(() -> FtpBalancer.start(passthrough(port, port)))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("cannot listen on 127.0.0.1:" + port + " (passive-ports of backend b1): ");
        }
    }

    @Test
    void settingsThatDoNotSuitPassthroughStopTheStartBeforeAnythingIsBound() throws IOException {
        int listen;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            listen = probe.getLocalPort();
        }
        BalancerSettings user = passthrough(40000, 40009).withListen(new InetSocketAddress("127.0.0.1", listen))
                .withBalance(BalancerSettings.Balance.USER);

        assertThatThrownBy(() -> FtpBalancer.start(user))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("TLS passthrough: balance user is impossible");
        try (ServerSocket again = new ServerSocket(listen, 1, InetAddress.getByName("127.0.0.1"))) {
            // bound: the failed start never listened
        }
    }
}
