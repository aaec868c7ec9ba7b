package dev.ferry.it.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.balancer.BalancerSettings;
import dev.ferry.balancer.backend.AdminState;
import dev.ferry.balancer.backend.Backend;
import dev.ferry.balancer.backend.CheckState;
import dev.ferry.it.RawFtp;
import dev.ferry.it.TestData;
import dev.ferry.testkit.FakeBackend;
import java.io.EOFException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The balancer and its backends: the pre-login dialogue it answers itself, how it spreads sessions,
 * failover when a backend stops and comes back, and what a client sees when a backend breaks the
 * protocol.
 */
class BalancerBackendsTest {

    private BalancerCluster cluster;
    private FakeBackend fake;

    @AfterEach
    void stop() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    /** One short session: log in, NOOP, QUIT, and wait until the balancer closed the connection. */
    private void shortSession() throws IOException {
        try (RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            ftp.command("NOOP", 200);
            ftp.command("QUIT", 221);
            assertThat(ftp.closedByServer()).as("closed after QUIT").isTrue();
        }
    }


    @Test
    void answersThePreLoginDialogueItselfAndAsksForLoginFirst() throws Exception {
        cluster = BalancerCluster.start(s -> s);
        try (RawFtp ftp = RawFtp.greeted(cluster.port())) {
            RawFtp.Reply feat = ftp.command("FEAT", 211);
            assertThat(feat.lines()).contains(" EPSV", " UTF8");
            ftp.command("OPTS UTF8 ON", 200);
            ftp.command("HOST 127.0.0.1", 220);
            assertThat(ftp.command("SYST", 215).text()).startsWith("UNIX");
            ftp.command("NOOP", 200);
            ftp.command("PWD", 530);
            ftp.command("RETR x", 530);
            assertThat(cluster.backend(0).totalSessions() + cluster.backend(1).totalSessions())
                    .as("no backend session before USER").isZero();

            // What was said before USER is replayed to the chosen backend; the session then works.
            ftp.login(BalancerCluster.USER, BalancerCluster.PASSWORD);
            assertThat(ftp.command("PWD", 257).text()).contains("\"/\"");
        }
    }

    @Test
    void withEveryBackendStoppedUserGets421NoServerAvailable() throws Exception {
        cluster = BalancerCluster.start(s -> s);
        cluster.stopServer(0);
        cluster.stopServer(1);
        try (RawFtp ftp = RawFtp.greeted(cluster.port())) {
            RawFtp.Reply r = ftp.command("USER " + BalancerCluster.USER, 421);
            assertThat(r.text()).contains("No server available");
            assertThat(ftp.closedByServer()).isTrue();
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void leastconnSpreadsTwoHundredSequentialSessionsEvenly() throws Exception {
        cluster = BalancerCluster.start(s -> s.withBalance(BalancerSettings.Balance.LEASTCONN));
        for (int i = 0; i < 200; i++) {
            shortSession();
        }
        assertThat(cluster.backend(0).totalSessions()).as("s1").isBetween(80L, 120L);
        assertThat(cluster.backend(1).totalSessions()).as("s2").isBetween(80L, 120L);
        assertThat(cluster.backend(0).totalSessions() + cluster.backend(1).totalSessions()).isEqualTo(200);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void failoverWhenABackendStopsAndRecoveryWhenItReturnsOnTheSamePort() throws Exception {
        cluster = BalancerCluster.start(s -> s.withBalance(BalancerSettings.Balance.ROUNDROBIN));
        Backend s1 = cluster.backend(0);
        BalancerSettings.Check check = BalancerCluster.FAST_CHECK;

        // An in-flight session on s1 (round robin: one of the first two sessions lands there).
        RawFtp onS1 = null;
        RawFtp other = null;
        for (int i = 0; i < 2; i++) {
            long before = s1.totalSessions();
            RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD);
            if (s1.totalSessions() > before) {
                onS1 = ftp;
            } else {
                other = ftp;
            }
        }
        assertThat(onS1).as("a session on s1").isNotNull();
        other.close();

        cluster.stopServer(0);

        // The in-flight session ends cleanly: a 421 or a closed connection, never a hang.
        onS1.timeout(Duration.ofSeconds(5));
        onS1.send("NOOP");
        try {
            RawFtp.Reply r = onS1.reply();
            assertThat(r.code()).as("reply on the dead backend's session: %s", r).isEqualTo(421);
        } catch (EOFException closed) {
            // also clean
        } finally {
            onS1.close();
        }

        // New sessions keep succeeding (retried on s2) until and after the check notices.
        long fallLimit = check.fall() * check.interval().toMillis() + 1_000;
        long stoppedAt = System.nanoTime();
        while (s1.checkState() != CheckState.DOWN) {
            assertThat(Duration.ofNanos(System.nanoTime() - stoppedAt).toMillis())
                    .as("s1 DOWN within %d ms", fallLimit).isLessThanOrEqualTo(fallLimit);
            shortSession();
        }
        shortSession();

        cluster.restartServer(0);
        long riseLimit = check.rise() * check.interval().toMillis() + 1_000;
        TestData.within(Duration.ofMillis(riseLimit), "s1 UP again", () -> s1.checkState() == CheckState.UP);

        long before = s1.totalSessions();
        for (int i = 0; i < 4; i++) {
            shortSession();
        }
        assertThat(s1.totalSessions() - before).as("sessions on s1 after it came back").isPositive();
    }

    @ParameterizedTest
    @EnumSource(value = FakeBackend.Fault.class, names = {"BAD_227_NO_NUMBERS", "BAD_227_OVERLONG_LINE"})
    void aHostilePassiveReplyEndsTheSessionWith421AndTheBalancerServesOn(FakeBackend.Fault fault) throws Exception {
        fake = new FakeBackend(fault);
        cluster = BalancerCluster.start(s -> s.withBackends(java.util.List.of(
                new BalancerSettings.BackendSpec("fake", fake.address(), 1), s.backends().get(0))));
        Backend fakeBackend = cluster.backend(0);
        Backend real = cluster.backend(1);

        real.setAdminState(AdminState.MAINT);
        try (RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            RawFtp.Reply r = ftp.command("PASV");
            assertThat(r.code()).as("reply to a hostile 227: %s", r).isEqualTo(421);
            assertThat(ftp.closedByServer()).as("closed after 421").isTrue();
        }

        fakeBackend.setAdminState(AdminState.MAINT);
        real.setAdminState(AdminState.READY);
        try (RawFtp ftp = RawFtp.loggedIn(cluster.port(), BalancerCluster.USER, BalancerCluster.PASSWORD)) {
            ftp.pasv();
            ftp.command("NOOP", 200);
        }
        assertThat(real.totalSessions()).isEqualTo(1);
    }
}
