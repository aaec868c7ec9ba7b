package dev.ferry.balancer.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.runtime.net.Closing;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/** What the admin page shows as "passive ports in use": ports with a data connection awaited. */
class DataPortsInUseTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static DataPorts.Route route(InetAddress client, long deadlineNanos) {
        return new DataPorts.Route(client, Closing::quietly, () -> { }, deadlineNanos);
    }

    @Test
    void aPortCountsWhileARouteWaitsOnItWhateverTheNumberOfClients() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, LOOPBACK)) {
            port = probe.getLocalPort();
        }
        try (DataPorts ports = new DataPorts(LOOPBACK, port, port)) {
            long later = System.nanoTime() + 60_000_000_000L;
            assertThat(ports.portsInUse()).isZero();
            assertThat(ports.register(route(LOOPBACK, later))).isEqualTo(port);
            DataPorts.Route other = route(InetAddress.getByName("127.0.0.2"), later);
            assertThat(ports.register(other)).isEqualTo(port);
            assertThat(ports.portsInUse()).as("one port, two clients").isEqualTo(1);

            try (Socket data = new Socket()) {
                data.connect(new InetSocketAddress(LOOPBACK, port));
                waitUntil(() -> ports.portsInUse() == 1);
            }
            ports.cancel(port, other);
            waitUntil(() -> ports.portsInUse() == 0);
        }
    }

    @Test
    void cancellingAUsedRouteLeavesTheNextSessionsRouteOnThatPort() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, LOOPBACK)) {
            port = probe.getLocalPort();
        }
        try (DataPorts ports = new DataPorts(LOOPBACK, port, port)) {
            long later = System.nanoTime() + 60_000_000_000L;
            DataPorts.Route first = route(LOOPBACK, later);
            assertThat(ports.register(first)).isEqualTo(port);
            try (Socket data = new Socket()) {
                data.connect(new InetSocketAddress(LOOPBACK, port));
                waitUntil(() -> ports.portsInUse() == 0);
            }
            // Another session of the same address takes the same port; the first session ends and cancels its own.
            DataPorts.Route second = route(LOOPBACK, later);
            assertThat(ports.register(second)).isEqualTo(port);
            ports.cancel(port, first);
            assertThat(ports.portsInUse()).as("the second session's route stays").isEqualTo(1);
            ports.cancel(port, second);
            assertThat(ports.portsInUse()).isZero();
        }
    }

    @Test
    void anExpiredRouteDoesNotCount() throws Exception {
        try (DataPorts ports = new DataPorts(LOOPBACK, 0, 0)) {
            ports.register(route(LOOPBACK, System.nanoTime() - 1));
            assertThat(ports.portsInUse()).isZero();
            ports.register(route(LOOPBACK, System.nanoTime() + 60_000_000_000L));
            assertThat(ports.portsInUse()).isEqualTo(1);
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 5 s").isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
