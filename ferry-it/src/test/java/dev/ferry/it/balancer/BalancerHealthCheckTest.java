package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckState;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.testkit.FakeBackend;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ftp health check through a running balancer, every part on its own address (balancer 127.0.0.5,
 * Ferry servers 127.0.0.2 and 127.0.0.3, a fake backend 127.0.0.4, the client 127.0.0.6): a backend that greets and then never
 * answers a command is one whose sessions hang, and the check must see it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BalancerHealthCheckTest {

    /** inter 300 ms, timeout 250 ms, rise 2, fall 2. */
    private static final BalancerSettings.Check CHECK = new BalancerSettings.Check(BalancerSettings.CheckType.FTP,
            Duration.ofMillis(300), Duration.ofMillis(250), 2, 2, null, null);
    private static final InetAddress BALANCER = address("127.0.0.5");
    private static final InetAddress CLIENT = address("127.0.0.6");

    private BalancerCluster cluster;
    private FakeBackend fake;

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    @Test
    void aBackendThatGreetsAndThenNeverAnswersIsMarkedDownWithinFallTimesInterAndARealServerStaysUp() throws Exception {
        fake = new FakeBackend(address("127.0.0.4"), FakeBackend.Fault.GREETS_THEN_SILENT);
        cluster = BalancerCluster.startEach((index, s) -> s.withListen(new InetSocketAddress("127.0.0." + (2 + index), 0)),
                b -> b.withListen(new InetSocketAddress(BALANCER, 0)).withCheck(CHECK)
                        .withBackends(List.of(new BalancerSettings.BackendSpec("hangs", fake.address(), 1), b.backends().get(0))));
        long started = System.nanoTime();
        Backend hangs = cluster.backend(0);
        Backend real = cluster.backend(1);

        // Each check waits for FEAT's reply until its timeout: fall failures take fall turns of the interval.
        Duration limit = CHECK.interval().multipliedBy(CHECK.fall()).plusSeconds(1);
        TestData.within(limit, "the silent backend DOWN", () -> hangs.checkState() == CheckState.DOWN);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThanOrEqualTo(limit);
        assertThat(hangs.lastCheck().detail()).isEqualTo("timeout awaiting reply to FEAT");
        assertThat(hangs.features()).as("nothing heard").isNull();

        // Long enough for several checks of each: the real server answers every one.
        Thread.sleep(CHECK.interval().multipliedBy(3).toMillis());
        assertThat(real.checkState()).isEqualTo(CheckState.UP);
        assertThat(real.lastCheck().ok()).as(real.lastCheck().detail()).isTrue();
        assertThat(real.features()).contains("MFMT");
        assertThat(hangs.checkState()).isEqualTo(CheckState.DOWN);

        // Sessions go where they are answered.
        for (int i = 0; i < 3; i++) {
            try (RawFtp ftp = RawFtp.connect(CLIENT, BALANCER, cluster.port())) {
                ftp.timeout(Duration.ofSeconds(5));
                ftp.expect(220);
                ftp.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
                ftp.command("PWD", 257);
            }
        }
        assertThat(hangs.totalSessions()).isZero();
        assertThat(real.totalSessions()).isEqualTo(3);
    }
}
