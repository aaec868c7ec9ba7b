package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.FtpBalancer;
import dev.ferry.it.RawFtp;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Graceful stop (SIGTERM) and the server-idle timeout of the balancer. */
class BalancerStopAndTimeoutTest {

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aStoppingBalancerLetsSessionsWorkDuringTheGraceThenSays421() throws Exception {
        try (BalancerCluster cluster = BalancerCluster.start(s -> s)) {
            RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD);
            long start = System.nanoTime();
            Thread stopper = Thread.ofVirtual().start(() -> cluster.balancer().stop(Duration.ofSeconds(2)));
            assertThat(ftp.command("NOOP").code()).as("during the grace period").isEqualTo(200);
            ftp.timeout(Duration.ofSeconds(10));
            assertThat(ftp.reply().code()).as("after the grace period").isEqualTo(421);
            assertThat(ftp.closedByServer()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1900));
            stopper.join(Duration.ofSeconds(10));
            assertThat(stopper.isAlive()).isFalse();
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aStopEndsAsSoonAsTheLastSessionQuits() throws Exception {
        try (BalancerCluster cluster = BalancerCluster.start(s -> s)) {
            RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD);
            long start = System.nanoTime();
            Thread stopper = Thread.ofVirtual().start(() -> cluster.balancer().stop(Duration.ofSeconds(20)));
            assertThat(ftp.command("QUIT").code()).isEqualTo(221);
            ftp.close();
            stopper.join(Duration.ofSeconds(10));
            assertThat(stopper.isAlive()).as("stop still waiting after the last session quit").isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aBackendThatStopsAnsweringEndsTheSessionWith421() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"))) {
            Thread.ofVirtual().start(() -> serveThenFallSilent(silent));
            BalancerSettings.Timeouts t = BalancerSettings.Timeouts.DEFAULTS;
            BalancerSettings settings = BalancerSettings.defaults()
                    .withListen(new InetSocketAddress("127.0.0.1", 0))
                    .withBackends(List.of(new BalancerSettings.BackendSpec("silent",
                            (InetSocketAddress) silent.getLocalSocketAddress(), 1)))
                    .withTimeouts(new BalancerSettings.Timeouts(t.connect(), t.clientIdle(), Duration.ofMillis(500),
                            t.data(), Duration.ZERO, t.login()));
            try (FtpBalancer lb = FtpBalancer.start(settings)) {
                RawFtp ftp = RawFtp.loggedIn(lb.port(), "alice", "secret");
                ftp.timeout(Duration.ofSeconds(10));
                long start = System.nanoTime();
                ftp.send("NOOP");
                try {
                    assertThat(ftp.reply().code()).isEqualTo(421);
                } catch (EOFException closedWithoutReply) {
                    throw new AssertionError("expected a 421 before the connection closed", closedWithoutReply);
                }
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
                assertThat(ftp.closedByServer()).isTrue();
            }
        }
    }

    /**
     * Between a PASV and its transfer command the client pump reads without a timeout of its own (a client goes on
     * at once, and a timed read costs the JDK scheduler's timer thread two wake-ups): a client that falls silent
     * there is still ended by the client idle timeout, and one that goes on after more than the idle-park delay
     * (500 ms) is served.
     */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aClientSilentBetweenPasvAndItsTransferIsStillEndedByTheClientIdleTimeout() throws Exception {
        try (BalancerCluster cluster = BalancerCluster.start(b -> b.withTimeouts(idle(b, Duration.ofMillis(1500))))) {
            try (RawFtp patient = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
                patient.pasv();
                Thread.sleep(800);
                assertThat(patient.command("NOOP").code()).as("a pause shorter than the idle timeout").isEqualTo(200);
            }
            try (RawFtp silent = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
                silent.timeout(Duration.ofSeconds(10));
                silent.pasv();
                long start = System.nanoTime();
                assertThat(silent.reply().code()).as("the client idle timeout").isEqualTo(421);
                assertThat(silent.closedByServer()).isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(1000), Duration.ofSeconds(5));
            }
        }
    }

    private static BalancerSettings.Timeouts idle(BalancerSettings b, Duration clientIdle) {
        BalancerSettings.Timeouts t = b.timeouts();
        return new BalancerSettings.Timeouts(t.connect(), clientIdle, t.serverIdle(), t.data(), t.grace(), t.login());
    }

    /** Greets and logs in, then never answers again: a hung backend. */
    private static void serveThenFallSilent(ServerSocket server) {
        while (!server.isClosed()) {
            Socket c;
            try {
                c = server.accept();
            } catch (IOException e) {
                return;
            }
            Thread.ofVirtual().start(() -> {
                try (c) {
                    c.setSoTimeout(20_000);
                    BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
                    OutputStream out = c.getOutputStream();
                    out.write("220 hello\r\n".getBytes(StandardCharsets.US_ASCII));
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.startsWith("USER")) {
                            out.write("331 password\r\n".getBytes(StandardCharsets.US_ASCII));
                        } else if (line.startsWith("PASS")) {
                            out.write("230 in\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                        // anything else: silence
                    }
                } catch (IOException ignored) {
                    // the balancer hung up
                }
            });
        }
    }
}
